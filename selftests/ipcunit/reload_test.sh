#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Unload and reload the module: 100 clean cycles, and no unload while a
# file of the module is open.  Needs root and the module file in IPCU_KO.
# The kernel log is checked by the VM runner after the suite.

ko=${IPCU_KO:-/opt/ipcunit/ipcunit.ko}
cycles=${IPCU_RELOAD_CYCLES:-100}

echo "TAP version 13"
echo "1..2"

if [ "$(id -u)" != 0 ] || [ ! -f "$ko" ]; then
	echo "ok 1 reload_cycles # SKIP needs root and $ko"
	echo "ok 2 busy_while_open # SKIP needs root and $ko"
	exit 4
fi

fail=0
i=0
ok=1
while [ "$i" -lt "$cycles" ]; do
	if ! rmmod ipcunit; then
		echo "# cycle $i: rmmod failed"
		ok=0
		break
	fi
	if [ -e /dev/ipcunit ]; then
		echo "# cycle $i: /dev/ipcunit still present after rmmod"
		ok=0
		break
	fi
	if ! insmod "$ko"; then
		echo "# cycle $i: insmod failed"
		ok=0
		break
	fi
	if [ ! -c /dev/ipcunit ]; then
		echo "# cycle $i: /dev/ipcunit missing after insmod"
		ok=0
		break
	fi
	i=$((i + 1))
done
if [ "$ok" = 1 ]; then
	echo "ok 1 reload_cycles ($cycles)"
else
	echo "not ok 1 reload_cycles"
	fail=1
fi

# An open device file pins the module.
exec 3</dev/ipcunit
if rmmod ipcunit 2>/dev/null; then
	echo "not ok 2 busy_while_open (rmmod succeeded with an open fd)"
	fail=1
	insmod "$ko"
else
	exec 3<&-
	if rmmod ipcunit && insmod "$ko"; then
		echo "ok 2 busy_while_open"
	else
		echo "not ok 2 busy_while_open (rmmod after close failed)"
		fail=1
	fi
fi
exit $fail
