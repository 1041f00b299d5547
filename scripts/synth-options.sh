# synth-options.sh: the `sparsemm synth` options of the embedded model's data, sourced by
# tools/train_tiny/make_data.sh (training), scripts/demo.sh and tools/train_tiny/evaluate.sh
# (evaluation), tools/train_tiny/make_parity_fixture.py and tests/test_tiny_model.c (parity) so that both see
# images drawn the same way. 224 px is the model's input size (16x16 patches of 14 px). Fonts
# are kept at 12 px and up (14 for OCRBench-like words) so that a 14-px patch holds about one
# glyph: the generator's smaller defaults at 224 px (~9 px on documents) were not learned by the
# earlier training runs; whether 12 px is enough is not yet measured (issue 5).
SYNTH_SIZE="--width 224 --height 224"
SYNTH_OPTS_textvqa="$SYNTH_SIZE --font-min 12"
SYNTH_OPTS_docvqa="$SYNTH_SIZE --font-min 12 --lines-max 4"
SYNTH_OPTS_ocrbench="$SYNTH_SIZE --font-min 14"
SYNTH_OPTS_synthdog="$SYNTH_SIZE --font-min 12"
# synth_opts KIND: the options of one kind (what every user of this file calls).
synth_opts() { eval echo "\$SYNTH_OPTS_$1"; }
