# style.gp: the output terminal and the look shared by every sparsemm figure.
#
# Run after a params file and before a figure script, e.g.
#   gnuplot -e "fmt='png'; out='main_score.png'" data/main_score.params.gp style.gp grid.gp
# Needs: fmt ('png', 'pdf' or 'svg'), out (file name), width_px, height_px (canvas in pixels).
# PDF keeps the proportions at 180 px per inch, so a three-panel figure is 7 inches wide (a
# paper's text width) with 7 pt text; its markers are drawn at half size (ps_scale) to match.
#
# Method colours follow the SparseMM paper's figures: SparseMM red, SnapKV blue, PyramidKV green,
# AdaKV purple, Random orange, FullKV black dashed. Any other method takes a colour from a
# fallback palette by its series number.

if (fmt eq 'png') {
    if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
        set terminal pngcairo size width_px, height_px noenhanced font 'Sans,10' linewidth 1.3
    } else {
        set terminal png size width_px, height_px noenhanced
    }
} else {
    if (fmt eq 'pdf') {
        if (strstrt(GPVAL_TERMINALS, 'pdfcairo') == 0) {
            print 'sparsemm: this gnuplot has no pdfcairo terminal (PDF needs gnuplot built with cairo)'
            exit status 3
        }
        set terminal pdfcairo size width_px / 180.0, height_px / 180.0 noenhanced font 'Sans,7' linewidth 0.8
    } else {
        if (fmt eq 'svg') {
            set terminal svg size width_px, height_px noenhanced font 'Sans,12' linewidth 1.3
        } else {
            print sprintf('sparsemm: unknown output format %s', fmt)
            exit status 3
        }
    }
}
set output out
ps_scale = fmt eq 'pdf' ? 0.5 : 1

fallback(i) = word('#17becf #bcbd22 #e377c2 #7f7f7f #8c564b', (i - 1) % 5 + 1)
method_color(m, i) = m eq 'sparsemm' ? '#d62728' : m eq 'snapkv' ? '#1f77b4' : \
    m eq 'pyramidkv' ? '#2ca02c' : m eq 'adakv' ? '#9467bd' : m eq 'random' ? '#ff7f0e' : \
    m eq 'fullkv' ? '#000000' : m eq 'mask' ? '#8c564b' : fallback(i)
# Filled markers; a second variant of a method gets the open marker of the same shape.
method_pt(m, v) = (m eq 'sparsemm' ? 7 : m eq 'snapkv' ? 5 : m eq 'pyramidkv' ? 9 : \
    m eq 'adakv' ? 13 : m eq 'random' ? 11 : m eq 'fullkv' ? 7 : m eq 'mask' ? 15 : 3) - (v > 0 ? 1 : 0)
# FullKV dashed; variants 1, 2, ... of a method get other dash patterns.
method_dt(m, v) = m eq 'fullkv' ? 2 : (v > 0 ? v + 2 : 1)
