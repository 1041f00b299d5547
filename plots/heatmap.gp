# heatmap.gp: the layer x head map of visual-head scores (the paper's Figures 1, 10, 11: each
# head's mean score, normalised so the largest is 1).
#
# Run as: gnuplot -e "fmt='png'; out='FILE'" PARAMS.gp style.gp heatmap.gp
# PARAMS.gp defines: width_px, height_px, mfile (a matrix: one line per layer, one column per
# head), nlayers, nheads, htitle.

set title htitle
set xlabel 'head'
set ylabel 'layer'
set cblabel 'visual score (max = 1)' offset 1.5, 0
set xrange [-0.5:nheads - 0.5]
set yrange [nlayers - 0.5:-0.5]
step(n) = n > 48 ? 8 : n > 16 ? 4 : n > 8 ? 2 : 1
set xtics 0, step(nheads) out nomirror
set ytics 0, step(nlayers) out nomirror
set cbrange [0:1]
set cbtics 0.2
# viridis, sampled at five stops
set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')
set size ratio -1
set tics front
plot mfile matrix with image notitle
