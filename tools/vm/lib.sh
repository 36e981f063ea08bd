# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by tools/vm/run and tools/vm/selftest (sourced, bash).
# The caller provides die() (print an error and exit).

# shellcheck shell=bash

IPCU_DEFAULT_DEBUG_KERNEL_DIR=/var/cache/ipcunit/debug-kernel

# Newest /boot/vmlinuz-X.Y.* for series X.Y (no ABI numbers hard-coded).
newest_vmlinuz() {
	local series=$1 f list=""
	for f in /boot/vmlinuz-"$series".* /boot/vmlinuz-"$series"; do
		[[ -e $f ]] && list+="$f"$'\n'
	done
	printf '%s' "$list" | sort -V | tail -n 1
}

# Print the vmlinuz path for a --kernel value: X.Y (e.g. 6.1, 6.12),
# "debug", or a path.
resolve_kernel() {
	local spec=$1 k

	case $spec in
	debug)
		k=${IPCU_DEBUG_KERNEL_DIR:-$IPCU_DEFAULT_DEBUG_KERNEL_DIR}/current/bzImage
		[[ -r $k ]] || die "debug kernel not found: $k (build it first or set IPCU_DEBUG_KERNEL_DIR)"
		;;
	*/*) k=$spec ;;
	[0-9]*.[0-9]*)
		k=$(newest_vmlinuz "$spec")
		[[ -n $k ]] || die "no /boot/vmlinuz-$spec.* installed"
		;;
	*) k=$spec ;;
	esac
	[[ -f $k && -r $k ]] || die "kernel image not found or not readable: $k"
	printf '%s\n' "$k"
}

# Release of a kernel image, e.g. "6.1.0-56-amd64": from the file name
# (vmlinuz-<release>) or else from the bzImage header. Empty if unknown.
kernel_release() {
	local name
	name=$(basename -- "$1")
	if [[ $name == vmlinuz-?* ]]; then
		printf '%s\n' "${name#vmlinuz-}"
		return
	fi
	file -bL -- "$1" 2>/dev/null | sed -n 's/.*, version \([^ ]*\) .*/\1/p'
}

# Kernel build directory (headers) to build modules for image $1.
kernel_kdir() {
	local k=$1 rel dir
	rel=$(kernel_release "$k")
	for dir in ${rel:+"/lib/modules/$rel/build" "/usr/src/linux-headers-$rel"} \
		"$(dirname -- "$k")/build" "$(dirname -- "$k")"; do
		if [[ -f $dir/Makefile && -f $dir/Module.symvers ]]; then
			printf '%s\n' "$dir"
			return
		fi
	done
	return 1
}
