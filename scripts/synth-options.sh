# synth-options.sh: the `sparsemm synth` options of the embedded model's data, sourced by
# tools/train_tiny/make_data.sh (training), scripts/demo.sh and tools/train_tiny/evaluate.sh
# (evaluation), tools/train_tiny/make_parity_fixture.py and tests/test_tiny_model.c (parity) so that both see
# images drawn the same way. 224 px is the model's input size (16x16 patches of 14 px). Fonts
# are kept at 12 px and up so that a 14-px patch holds about one glyph: the generator's smaller
# defaults at 224 px (~9 px on documents) were not learned by the earlier training runs. Sign and
# OCRBench-like text is also capped at 16 px: at 224 px the generator otherwise draws it up to
# 32 and 53 px, glyphs spanning several patches that the tiny vision tower read at 20-25% (single
# glyph top-1) against 87% for 12-18 px ones, and only with the cap did the decoder's answers come
# to depend on the image (issue 5; tools/train_tiny/README.md).
SYNTH_SIZE="--width 224 --height 224"
SYNTH_OPTS_textvqa="$SYNTH_SIZE --font-min 12 --font-max 16"
SYNTH_OPTS_ocrbench="$SYNTH_SIZE --font-min 12 --font-max 16"
SYNTH_OPTS_docvqa="$SYNTH_SIZE --font-min 12 --lines-max 4"
SYNTH_OPTS_synthdog="$SYNTH_SIZE --font-min 12"
# synth_opts KIND: the options of one kind (what every user of this file calls).
synth_opts() { eval echo "\$SYNTH_OPTS_$1"; }
