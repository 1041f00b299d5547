# grid.gp: a grid of line plots with one shared legend on top. Draws the main figure (metric vs
# KV budget, one panel per dataset), the efficiency figure (latency and memory vs context) and
# the allocation figure (kept KV per layer).
#
# Run as: gnuplot -e "fmt='png'; out='FILE'" PARAMS.gp style.gp grid.gp
# PARAMS.gp (written by `sparsemm plot`; kept in OUT/data with --keep-data) defines:
#   width_px, height_px, key_px (legend band), key_cols, nrows, ncols, npanels
#   per panel p: pfile[p] (data: one block per series, blocks separated by two blank lines,
#     column 1 = x), ptitle, prow, pcol (0-based), pseries (1-based series numbers of the blocks,
#     in order, space-separated), pxtics (x values to label, '' = automatic), pxk (label ticks
#     as 2K, 4K), pxlog (log2 x), pxmin, pxmax (NaN = automatic), pycol (y column), pxlabel, pylabel
#   per series s: sname[s] (method: colour and marker), stitle (legend), svar (variant number),
#     sps (marker size, 0 = a line without markers)

# Margins in pixels around each panel's plot area, turned into screen fractions.
left_px = 78; right_px = 14; bottom_px = 46; top_px = 28
pw = 1.0 / ncols
ph = (1.0 - key_px * 1.0 / height_px) / nrows
ticklabel(v, k) = k ? (v % 1024 == 0 ? sprintf('%dK', v / 1024) : sprintf('%d', v)) : sprintf('%d', v)

set multiplot
set grid lc rgb '#d0d0d0' lw 0.6
set key off
set border lw 0.8
do for [p = 1:npanels] {
    x0 = pcol[p] * pw
    y1 = 1.0 - key_px * 1.0 / height_px - prow[p] * ph
    set lmargin at screen x0 + left_px * 1.0 / width_px
    set rmargin at screen x0 + pw - right_px * 1.0 / width_px
    set bmargin at screen y1 - ph + bottom_px * 1.0 / height_px
    set tmargin at screen y1 - top_px * 1.0 / height_px
    set title ptitle[p] offset 0, -0.6
    set xlabel pxlabel[p] offset 0, 0.4
    set ylabel pylabel[p] offset 0.8, 0
    if (pxlog[p]) { set logscale x 2 } else { unset logscale x }
    if (pxmin[p] == pxmin[p]) { set xrange [pxmin[p]:pxmax[p]] } else { set xrange [*:*] }
    set yrange [*:*]
    ticks = pxtics[p]
    if (strlen(ticks) > 0) {
        set xtics ()
        do for [k = 1:words(ticks)] {
            t = int(word(ticks, k))
            set xtics add (ticklabel(t, pxk[p]) t)
        }
    } else {
        set xtics autofreq
    }
    set ytics autofreq
    set mxtics default
    ser = pseries[p]
    plot for [k = 1:words(ser)] pfile[p] index (k - 1) using 1:(column(pycol[p])) with linespoints \
        lc rgb method_color(sname[int(word(ser, k))], int(word(ser, k))) \
        pt method_pt(sname[int(word(ser, k))], svar[int(word(ser, k))]) \
        ps ps_scale * sps[int(word(ser, k))] dt method_dt(sname[int(word(ser, k))], svar[int(word(ser, k))]) \
        lw 1.6 notitle
}

# The legend: an empty plot over the band on top whose key lists every series once.
set lmargin at screen 0.01
set rmargin at screen 0.99
set bmargin at screen 1.0 - key_px * 1.0 / height_px
set tmargin at screen 1.0
unset title; unset xlabel; unset ylabel; unset logscale x; unset grid; unset border
unset xtics; unset ytics
set xrange [0:1]; set yrange [0:1]
set key on horizontal center center maxcols key_cols reverse Left samplen 4 spacing 1.1 width 2
plot for [s = 1:nseries] NaN with linespoints lc rgb method_color(sname[s], s) \
    pt method_pt(sname[s], svar[s]) ps ps_scale * sps[s] dt method_dt(sname[s], svar[s]) lw 1.6 title stitle[s]
unset multiplot
