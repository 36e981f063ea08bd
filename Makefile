# SPDX-License-Identifier: GPL-2.0
#
# ipcunit top-level build.
#
#   make                 module (default kernel), user library, selftests, tools
#   make KVER=6.12       ... with the module built for Debian's 6.12 kernel
#   make check           install deps, build, host tests, VM tests on 6.1, 6.12
#                        and the debug kernel (built the first time)
#   make demo            boot a VM, load the module, run the demo
#   make bench           the benchmark, three modes (~15-20 min; bench-quick < 3)
#   make check-debug     the selftests on the debug kernel (tools/debug-kernel)
#   make fuzz            the fuzzer's CI budget in a VM (FUZZ_OPS, FUZZ_SEED)
#   make checkpatch      checkpatch.pl --strict on module/ and uapi/
#   make sparse          sparse (C=2) over the module
#
# All outputs go to build/.  The module is built from a copy of the sources
# in build/<kernelrelease>/, so builds for several kernels coexist.

TOP	:= $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD	:= $(TOP)/build
KVER	?=
KDIR	?= $(shell $(TOP)/tools/kdir $(KVER))
KREL	 = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODDIR	 = $(BUILD)/$(KREL)
KSRC_TAR ?= $(firstword $(wildcard /usr/src/linux-source-6.1.tar.xz))
KSFT	:= $(BUILD)/ksft
KSFT_DIR := $(KSFT)/tools/testing/selftests
MOD_SRCS := Kbuild $(wildcard module/*.[ch]) $(wildcard uapi/linux/*.h)

.PHONY: all module modules-all userlib selftests tools host-tests check demo \
	deps checkpatch sparse clean help bench bench-quick debug-kernel \
	check-debug install

all: module userlib selftests tools

help:
	@sed -n '3,18p' $(TOP)/Makefile

deps:
	@$(TOP)/tools/deps

# --- kernel module --------------------------------------------------------

module:
	@test -n "$(KREL)" || { echo "ipcunit: no kernel release in $(KDIR)" >&2; exit 1; }
	@mkdir -p $(MODDIR)
	@cd $(TOP) && cp -p --parents $(MOD_SRCS) $(MODDIR)/
	$(MAKE) -C $(KDIR) M=$(MODDIR) W=1 modules
	@ln -sfn $(KREL) $(BUILD)/module-$(or $(KVER),default)

modules-all:
	$(MAKE) -C $(TOP) module KVER=6.1
	$(MAKE) -C $(TOP) module KVER=6.12

# modules_install under INSTALL_MOD_DIR=extra, for a machine running KDIR.
install: module
	$(MAKE) -C $(KDIR) M=$(MODDIR) INSTALL_MOD_DIR=extra modules_install

# --- user space -----------------------------------------------------------

userlib:
	$(MAKE) -C $(TOP)/userlib BUILD=$(BUILD)/userlib
	$(MAKE) -C $(TOP)/userlib BUILD=$(BUILD)/userlib32 M32=1

# The kselftest harness and checkpatch come from Debian's linux-source-6.1,
# extracted here at build time; no kernel code lives in this repository.
$(KSFT)/.stamp:
	@test -n "$(KSRC_TAR)" || { echo "ipcunit: linux-source-6.1 is not installed (run: make deps)" >&2; exit 1; }
	@rm -rf $(KSFT) && mkdir -p $(KSFT)
	tar -xJf $(KSRC_TAR) -C $(KSFT) --strip-components=1 \
		--wildcards 'linux-source-*/tools/testing/selftests/kselftest*' \
		'linux-source-*/tools/testing/selftests/lib.mk' \
		'linux-source-*/scripts/checkpatch.pl' \
		'linux-source-*/scripts/spelling.txt' \
		'linux-source-*/scripts/const_structs.checkpatch'
	@touch $@

# The selftests build as a drop-in tools/testing/selftests/ipcunit with the
# kernel's own lib.mk: that is the only way they are built.
selftests: $(KSFT)/.stamp
	@rm -rf $(KSFT_DIR)/ipcunit && cp -pR $(TOP)/selftests/ipcunit $(KSFT_DIR)/ipcunit
	@mkdir -p $(BUILD)/selftests $(BUILD)/selftests32
	$(MAKE) -C $(KSFT_DIR)/ipcunit IPCU_TOP=$(TOP) OUTPUT=$(BUILD)/selftests
	$(MAKE) -C $(KSFT_DIR)/ipcunit IPCU_TOP=$(TOP) OUTPUT=$(BUILD)/selftests32 IPCU_M32=1
	@cp -p $(TOP)/selftests/ipcunit/*.sh $(BUILD)/selftests/

host-tests:
	$(MAKE) -C $(TOP)/selftests/host BUILD=$(BUILD)/host run

tools: userlib
	$(MAKE) -C $(TOP)/tools BUILD=$(BUILD)/tools

# --- the README's two commands -----------------------------------------------

check:
	@$(TOP)/tools/check

demo:
	@$(TOP)/tools/deps
	@$(MAKE) -s -C $(TOP) module userlib tools
	$(TOP)/tools/vm/run --kernel 6.1 --module $(BUILD)/module-default/ipcunit.ko \
		--add $(BUILD)/tools/ipcunit-demo -- ipcunit-demo

bench: module userlib tools
	$(MAKE) -C $(TOP)/tools/bench TOP=$(TOP) BUILD=$(BUILD)/bench run

bench-quick: module userlib tools
	$(MAKE) -C $(TOP)/tools/bench TOP=$(TOP) BUILD=$(BUILD)/bench run QUICK=1

# --- the debug kernel (KASAN, lockdep, kmemleak, ...) --------------------------

debug-kernel:
	$(TOP)/tools/debug-kernel

check-debug: debug-kernel
	@IPCU_CHECK_KERNELS=debug $(TOP)/tools/check

# --- fuzzing (tools/fuzz/README.md) ----------------------------------------

# On the debug kernel when it is built (or KVER=debug), else on KVER's.
.PHONY: fuzz
fuzz: FUZZ_KVER = $(or $(KVER),$(if $(wildcard $(or $(IPCU_DEBUG_KERNEL_DIR),/var/cache/ipcunit/debug-kernel)/current/bzImage),debug))
fuzz:
	@$(MAKE) -s -C $(TOP) module userlib tools KVER=$(FUZZ_KVER)
	$(TOP)/tools/vm/run --kernel $(or $(FUZZ_KVER),6.1) \
		--module $(BUILD)/module-$(or $(FUZZ_KVER),default)/ipcunit.ko \
		--add $(BUILD)/tools/ipcunit-fuzz:/opt/ipcunit/bin/ipcunit-fuzz \
		--timeout $(or $(FUZZ_TIMEOUT),1200) -- \
		ipcunit-fuzz --seed $(or $(FUZZ_SEED),1) --ops $(or $(FUZZ_OPS),200000)

# --- code checks ------------------------------------------------------------

checkpatch: $(KSFT)/.stamp
	perl $(KSFT)/scripts/checkpatch.pl --no-tree --strict --terse \
		--show-types -f $(wildcard $(TOP)/module/*.[ch]) $(TOP)/uapi/linux/ipcunit.h

sparse: module
	$(MAKE) -C $(KDIR) M=$(MODDIR) C=2 W=1 modules

clean:
	rm -rf $(BUILD)
