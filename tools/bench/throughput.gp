# SPDX-License-Identifier: GPL-2.0
#
# Streaming throughput against message size, one panel per batch size.
#   gnuplot -e "dir='DIR'; mode='icount|tcg|native'; out='BASE'" throughput.gp
# reads DIR/MODE-stream-b{1,16,256}.dat, writes BASE.svg and BASE.png.

if (!exists("dir")) dir = "."
if (!exists("mode")) mode = "native"
if (!exists("out")) out = dir."/".mode."-throughput"

set datafile missing "?"
set logscale xy
set xtics ("64 B" 64, "4 KiB" 4096, "64 KiB" 65536, "1 MiB" 1048576)
set xrange [40:1.6e6]
set grid
set key outside right top vertical
set xlabel "message size"
if (mode eq "icount") {
	set ylabel "instructions per byte (lower is better)"
	title_all = "Streaming, QEMU -icount: instructions per byte"
} else {
	set ylabel "bytes per second (higher is better)"
	set format y "%.0s%cB/s"
	title_all = (mode eq "tcg") ? "Streaming, QEMU TCG (wall clock, distorted)" \
				    : "Streaming, native (no module)"
}

do for [fmt in "svg png"] {
	if (fmt eq "svg") {
		set terminal svg size 1500,520 dynamic font "sans,11" noenhanced
	} else {
		set terminal pngcairo size 1500,520 font "sans,9" noenhanced
	}
	set output out.".".fmt
	set multiplot layout 1,3 title title_all
	do for [b in "1 16 256"] {
		f = dir."/".mode."-stream-b".b.".dat"
		set title "producer batch ".b
		if (b eq "256") { set key } else { unset key }
		plot for [i=2:*] f using 1:i with linespoints lw 1.5 pt (i % 7 + 1) title columnhead(i)
	}
	unset multiplot
	set output
}
