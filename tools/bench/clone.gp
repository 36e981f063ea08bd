# SPDX-License-Identifier: GPL-2.0
#
# IPCU_IOC_CLONE against region size, next to memcpy() of the same size.
#   gnuplot -e "dir='DIR'; mode='icount|tcg'; out='BASE'" clone.gp
# reads DIR/MODE-clone.dat, writes BASE.svg and BASE.png.

if (!exists("dir")) dir = "."
if (!exists("mode")) mode = "icount"
if (!exists("out")) out = dir."/".mode."-clone"

f = dir."/".mode."-clone.dat"
unit = (mode eq "icount") ? "instructions" : "ns"
set datafile missing "?"
set logscale xy
set grid
set key top left
set xlabel "region size (MiB)"
set ylabel unit
set title "Clone vs memcpy, ".mode

do for [fmt in "svg png"] {
	if (fmt eq "svg") {
		set terminal svg size 900,560 dynamic font "sans,11" noenhanced
	} else {
		set terminal pngcairo size 900,560 font "sans,9" noenhanced
	}
	set output out.".".fmt
	plot f skip 1 using 1:2 with linespoints lw 2 title "IPCU_IOC_CLONE", \
	     '' skip 1 using 1:3 with linespoints lw 2 title "memcpy (warm destination)", \
	     '' skip 1 using 1:4 with linespoints lw 2 title "memcpy into fresh memory"
	set output
}
