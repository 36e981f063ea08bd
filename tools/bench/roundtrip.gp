# SPDX-License-Identifier: GPL-2.0
#
# Round trip (p50) per mechanism, clustered by message size.
#   gnuplot -e "dir='DIR'; mode='icount|tcg|native'; out='BASE'" roundtrip.gp
# reads DIR/MODE-roundtrip.dat, writes BASE.svg and BASE.png.

if (!exists("dir")) dir = "."
if (!exists("mode")) mode = "native"
if (!exists("out")) out = dir."/".mode."-roundtrip"

f = dir."/".mode."-roundtrip.dat"
unit = (mode eq "icount") ? "instructions" : "ns"
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y
set yrange [10:*]
set grid ytics
set xtics rotate by -40 scale 0
set ylabel "round trip, p50, ".unit." (lower is better)"
set key top left
set title (mode eq "icount") ? "Round trip, QEMU -icount (instructions)" : \
	  (mode eq "tcg") ? "Round trip, QEMU TCG (wall clock, distorted)" : \
	  "Round trip, native (no module)"

do for [fmt in "svg png"] {
	if (fmt eq "svg") {
		set terminal svg size 1200,560 dynamic font "sans,11" noenhanced
	} else {
		set terminal pngcairo size 1200,560 font "sans,9" noenhanced
	}
	set output out.".".fmt
	plot f skip 1 using 2:xtic(1) title "64 B", '' skip 1 using 3 title "4 KiB", \
	     '' skip 1 using 4 title "64 KiB"
	set output
}
