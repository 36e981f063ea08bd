#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the host tests the way the kselftest runner does: the output of each
# test binary nested as "# " comments, one TAP line per binary, totals.
# Exits non-zero if any binary failed.

status=$(mktemp) || exit 1
trap 'rm -f "$status"' EXIT
pass=0
fail=0
n=0

echo "TAP version 13"
echo "1..$#"
for test in "$@"; do
	n=$((n + 1))
	name=$(basename "$test")
	echo "# selftests: host: $name"
	{ "$test" 2>&1; echo $? > "$status"; } | sed -e 's/^/# /'
	if [ "$(cat "$status")" = 0 ]; then
		echo "ok $n selftests: host: $name"
		pass=$((pass + 1))
	else
		echo "not ok $n selftests: host: $name # exit=$(cat "$status")"
		fail=$((fail + 1))
	fi
done
echo "# Totals: pass:$pass fail:$fail skip:0"
[ "$fail" = 0 ]
