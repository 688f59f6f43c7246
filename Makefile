# vmexec top-level Makefile: builds and tests the module against Debian's
# stock kernels inside qemu guests. The logic lives in tests/harness/*.sh.
#
#   make check    build module + tests, boot each kernel, run the suites
#   make run      boot one kernel (6.12 unless KERNELS is given) and run
#                 /tests/vmexec-demo
#   make module   build the module per kernel (W=1; any warning fails)
#   make fetch    cache the kernel images, install the headers
#   make clean    remove in-tree build junk (the cache is left alone)
#
# Variables (command line or environment):
#   KERNELS="6.1 6.12"    kernel series; the newest release of each that
#                         apt offers is picked at run time
#   VMEXEC_CACHE=~/.cache/vmexec   kernels, out-of-tree builds, initramfs, logs
#   MODULE_SRC=module UAPI_SRC=uapi TESTS_SRC=tests   sources
#   TESTS_O=$(VMEXEC_CACHE)/tests  where tests/Makefile builds the programs
#   ACCEL=tcg             kvm only as an explicit opt-in
#   BOOT_TIMEOUT=600      seconds per guest boot
#   KERNEL_APPEND=        extra kernel command line

KERNELS ?= 6.1 6.12
VMEXEC_CACHE ?= $(if $(HOME),$(HOME),/var/tmp)/.cache/vmexec
MODULE_SRC ?= $(CURDIR)/module
UAPI_SRC ?= $(CURDIR)/uapi
TESTS_SRC ?= $(CURDIR)/tests
TESTS_O ?= $(VMEXEC_CACHE)/tests
ACCEL ?= tcg
BOOT_TIMEOUT ?= 600
KERNEL_APPEND ?=

# make run: the first of KERNELS if given, else 6.12.
ifneq ($(filter command line environment,$(origin KERNELS)),)
RUN_KERNEL ?= $(firstword $(KERNELS))
else
RUN_KERNEL ?= 6.12
endif

HARNESS := $(CURDIR)/tests/harness
HARNESS_ENV := VMEXEC_CACHE='$(VMEXEC_CACHE)' MODULE_SRC='$(MODULE_SRC)' \
	UAPI_SRC='$(UAPI_SRC)' TESTS_SRC='$(TESTS_SRC)' TESTS_O='$(TESTS_O)' \
	ACCEL='$(ACCEL)' BOOT_TIMEOUT='$(BOOT_TIMEOUT)' KERNEL_APPEND='$(KERNEL_APPEND)' \
	MAKE='$(MAKE)'

.PHONY: all deps check run module fetch clean help
all: module

# Missing Debian packages (tests/harness/host-packages) are installed first.
deps:
	@bash $(HARNESS)/host-deps.sh

check: deps
	+@$(HARNESS_ENV) bash $(HARNESS)/run.sh check $(KERNELS)

run: deps
	+@$(HARNESS_ENV) bash $(HARNESS)/run.sh run $(RUN_KERNEL)

module:
	+@$(HARNESS_ENV) bash $(HARNESS)/run.sh module $(KERNELS)

fetch:
	+@$(HARNESS_ENV) bash $(HARNESS)/run.sh fetch $(KERNELS)

# In-tree build junk only; out-of-tree builds live in $(VMEXEC_CACHE).
clean:
	@find module uapi lib tests -type f \( -name '*.o' -o -name '*.ko' \
		-o -name '*.mod' -o -name '*.mod.c' -o -name '.*.cmd' -o -name '*.a' \
		-o -name '*.d' -o -name 'Module.symvers' -o -name 'modules.order' \) \
		-print -delete 2>/dev/null || true
	@find module -type d -name .tmp_versions -prune -exec rm -rf {} + 2>/dev/null || true

help:
	@sed -n '1,/^$$/s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))
