# vmexec top-level Makefile: builds and tests the module against Debian's
# stock kernels inside qemu guests. The logic lives in tests/harness/*.sh.
#
#   make check    build module + tests, boot each kernel, run the suites;
#                 then User-mode Linux on each stock kernel of KERNELS
#                 (uml/check.sh, as make uml-check; UML=0 skips it)
#   make run      boot one kernel (6.12 unless KERNELS is given) and run
#                 /tests/vmexec-demo
#   make module   build the module per kernel (W=1; any warning fails)
#   make fetch    cache the kernel images, install the headers
#   make clean    remove in-tree build junk (the cache is left alone)
#   make check-debug  build the debug kernel (KASAN, KFENCE, lockdep,
#                 kmemleak; tests/debug-kernel) once, then boot it and run
#                 every suite, vmexec-stress and vmexec-fuzz for longer
#                 (DEBUG_STRESS_TIME, DEBUG_FUZZ_TIME, DEBUG_BOOT_TIMEOUT)
#   make bench    boot each kernel, run bench/ and the vmexec-run workload
#                 in the guest, print the tables per kernel, write
#                 bench/results/RELEASE.{md,csv} (BENCH_TIMEOUT=3600 s per
#                 boot; BENCH_SECTIONS=abcdeg: a-f vmexec-bench sections, g
#                 the vmexec-run workload; h (only when asked for): a new
#                 mm against a stub; ICOUNT=1: instruction counts,
#                 in bench/results/icount/; bench/README.md)
#   make uml          build User-mode Linux from linux-source-6.12, stock and
#                     with uml/*.patch (the vmexec backend; uml/build.sh)
#   make uml-check    boot both UML binaries inside each kernel's guest with
#                     the module loaded and compare a busybox workload run
#                     with ptrace and with vmexec (uml/check.sh; also the
#                     last step of make check)
#
# Style checks, installation and packages:
#   make lint          checkpatch --strict, sparse C=2, W=1, uapi-check
#                      (tools/lint.sh; both kernels of KERNELS)
#   make dkms-check    dkms add/build/install per kernel with private trees
#   make install       libvmexec (shared + static), <linux/vmexec.h>,
#                      vmexec.pc, man pages, udev rule, modules-load.d and
#                      sysusers.d entries
#   make install-check install into a scratch DESTDIR, build and run a program
#                      with `pkg-config --cflags --libs vmexec` only
#   make install-dkms  module sources to /usr/src/vmexec-$(VERSION), then
#                      dkms add/build/install for DKMS_KERNELS
#   make uninstall, make uninstall-dkms
#   make deb           vmexec-dkms, libvmexec1, libvmexec-dev in DEB_O
#
# Variables (command line or environment):
#   KERNELS="6.1 6.12"    kernel series; the newest release of each that
#                         apt offers is picked at run time
#   VMEXEC_CACHE=~/.cache/vmexec   kernels, out-of-tree builds, initramfs, logs
#   MODULE_SRC=module UAPI_SRC=uapi TESTS_SRC=tests   sources
#   TESTS_O=$(VMEXEC_CACHE)/tests-TAG  where tests/Makefile builds the programs
#                         (TAG: a hash of this tree's path)
#   ACCEL=tcg             kvm only as an explicit opt-in
#   BOOT_TIMEOUT=600      seconds per guest boot
#   KERNEL_APPEND=        extra kernel command line
#   UML=1                 0: make check leaves out User-mode Linux
#   MODULE_FROM=kbuild    dkms: the guest loads the module DKMS built
#                         (tools/dkms.sh, private trees); W=1 still checked
#   DESTDIR= PREFIX=/usr/local libdir= includedir= mandir=   install paths
#   udevrulesdir=/usr/lib/udev/rules.d modulesloaddir=/usr/lib/modules-load.d
#   sysusersdir=/usr/lib/sysusers.d usrsrcdir=/usr/src
#   DKMS_KERNELS=         releases for install-dkms (default: every
#                         /lib/modules/*/build); DKMS=no only copies sources
#   DEB_O=$(VMEXEC_CACHE)/deb   where make deb writes the .deb files

KERNELS ?= 6.1 6.12
VMEXEC_CACHE ?= $(if $(HOME),$(HOME),/var/tmp)/.cache/vmexec
MODULE_SRC ?= $(CURDIR)/module
UAPI_SRC ?= $(CURDIR)/uapi
TESTS_SRC ?= $(CURDIR)/tests
# One build directory per source tree: dependency files name absolute paths.
TESTS_O ?= $(VMEXEC_CACHE)/tests-$(shell printf '%s' '$(CURDIR)' | md5sum | cut -c1-8)
ACCEL ?= tcg
BOOT_TIMEOUT ?= 600
KERNEL_APPEND ?=
MODULE_FROM ?= kbuild

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
	MAKE='$(MAKE)' MODULE_FROM='$(MODULE_FROM)'

.PHONY: all deps check run module fetch clean help
all: module

# Missing Debian packages (tests/harness/host-packages) are installed first.
deps:
	@bash $(HARNESS)/host-deps.sh

# User-mode Linux runs on the stock kernels only (its patch is for 6.12's
# UML; the host kernels it runs on are those of KERNELS that it knows).
UML ?= 1
UML_KERNELS := $(filter 6.1 6.12,$(KERNELS))

check: deps
	+@$(HARNESS_ENV) bash $(HARNESS)/run.sh check $(KERNELS)
ifeq ($(UML),1)
	$(if $(UML_KERNELS),+@$(HARNESS_ENV) bash $(CURDIR)/uml/check.sh $(UML_KERNELS))
endif

run: deps
	+@$(HARNESS_ENV) bash $(HARNESS)/run.sh run $(RUN_KERNEL)

module:
	+@$(HARNESS_ENV) bash $(HARNESS)/run.sh module $(KERNELS)

fetch:
	+@$(HARNESS_ENV) bash $(HARNESS)/run.sh fetch $(KERNELS)

# The debug kernel is compiled (only when tests/debug-kernel/config or the
# linux-source-6.12 version changed) before run.sh takes the qemu lock.
DEBUG_BOOT_TIMEOUT ?= 3600
DEBUG_STRESS_TIME ?= 120
DEBUG_FUZZ_TIME ?= 90
.PHONY: check-debug debug-kernel
debug-kernel: deps
	+@$(HARNESS_ENV) bash $(CURDIR)/tests/debug-kernel/build.sh build

check-debug: debug-kernel
	+@$(HARNESS_ENV) BOOT_TIMEOUT='$(DEBUG_BOOT_TIMEOUT)' MODULE_FROM=kbuild \
		VMEXEC_STRESS_TIME='$(DEBUG_STRESS_TIME)' VMEXEC_FUZZ_TIME='$(DEBUG_FUZZ_TIME)' \
		bash $(HARNESS)/run.sh check debug

BENCH_TIMEOUT ?= 3600
BENCH_SECTIONS ?= abcdeg
# ICOUNT=1: figures count guest instructions (qemu -icount); tables go to
# bench/results/icount/.
# BENCH_SECTIONS=u (not in the default): User-mode Linux, stock against
# patched in ptrace and in vmexec mode (uml/guest/bench.sh; bench/README.md).
ICOUNT ?= 0
.PHONY: bench
bench: deps
	+@$(HARNESS_ENV) BENCH_TIMEOUT='$(BENCH_TIMEOUT)' BENCH_SECTIONS='$(BENCH_SECTIONS)' \
		ICOUNT='$(ICOUNT)' $(if $(filter 1,$(ICOUNT)),BENCH_RESULTS='$(CURDIR)/bench/results/icount') \
		BENCH_COMMAND='make bench KERNELS="$(KERNELS)"$(if $(filter-out file,$(origin BENCH_SECTIONS)), BENCH_SECTIONS=$(BENCH_SECTIONS))$(if $(filter 1,$(ICOUNT)), ICOUNT=1)' \
		bash $(HARNESS)/run.sh bench $(KERNELS)

.PHONY: uml uml-check
uml: deps
	+@$(HARNESS_ENV) bash $(CURDIR)/uml/build.sh build

uml-check: deps
	+@$(HARNESS_ENV) bash $(CURDIR)/uml/check.sh $(KERNELS)

# In-tree build junk only; out-of-tree builds live in $(VMEXEC_CACHE).
clean:
	@find module uapi lib tests -type f \( -name '*.o' -o -name '*.ko' \
		-o -name '*.mod' -o -name '*.mod.c' -o -name '.*.cmd' -o -name '*.a' \
		-o -name '*.d' -o -name 'Module.symvers' -o -name 'modules.order' \) \
		-print -delete 2>/dev/null || true
	@find module -type d -name .tmp_versions -prune -exec rm -rf {} + 2>/dev/null || true

help:
	@sed -n '1,/^$$/s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

# ---- style checks, installation, packages --------------------------------
# One source of truth for the version: VERSION (modinfo, libvmexec's .pc,
# dkms.conf and the Debian packages all read it).
VERSION := $(shell cat $(CURDIR)/VERSION)
PREFIX ?= /usr/local
prefix ?= $(PREFIX)
libdir ?= $(prefix)/lib
includedir ?= $(prefix)/include
mandir ?= $(prefix)/share/man
# udev, modules-load and sysusers read fixed directories, not $(prefix).
udevrulesdir ?= /usr/lib/udev/rules.d
modulesloaddir ?= /usr/lib/modules-load.d
sysusersdir ?= /usr/lib/sysusers.d
usrsrcdir ?= /usr/src
DKMS ?= yes
DKMS_KERNELS ?=
DEB_O ?= $(VMEXEC_CACHE)/deb
LIB_O ?= $(CURDIR)/lib/build
INSTALL ?= install
MAN3 := $(wildcard $(CURDIR)/man/*.3)
MAN4 := $(wildcard $(CURDIR)/man/*.4)
# Inline helpers documented on another function's page: LINK:PAGE.
MAN3_LINKS := vmexec_prep_syscall.3:vmexec_syscalls.3 \
	vmexec_passthrough_init.3:vmexec_passthrough_add.3 \
	vmexec_run_set_return.3:vmexec_run_prep.3 vmexec_run_fault.3:vmexec_run_prep.3 \
	vmexec_context_set_xstate.3:vmexec_context_get_xstate.3 \
	vmexec_mem_write.3:vmexec_mem_read.3

.PHONY: lint dkms-check install install-lib install-man install-data \
	install-check install-dkms uninstall uninstall-dkms deb

lint:
	+@KERNELS='$(KERNELS)' VMEXEC_CACHE='$(VMEXEC_CACHE)' MAKE='$(MAKE)' \
		bash $(CURDIR)/tools/lint.sh

dkms-check:
	+@set -e; for s in $(KERNELS); do \
		rel=$$(VMEXEC_CACHE='$(VMEXEC_CACHE)' bash $(HARNESS)/kernel.sh release $$s); \
		VMEXEC_CACHE='$(VMEXEC_CACHE)' bash $(HARNESS)/kernel.sh headers $$rel; \
		bash $(CURDIR)/tools/dkms.sh build $$rel '$(VMEXEC_CACHE)'/dkms/$$rel >/dev/null; \
		echo "dkms-check: $$rel: ok"; \
	done

install: install-lib install-man install-data
	@if [ -z '$(DESTDIR)' ] && [ "$$(id -u)" = 0 ] && ! getent group vmexec >/dev/null; then \
		if command -v systemd-sysusers >/dev/null; then \
			systemd-sysusers '$(sysusersdir)/vmexec.conf'; \
		else groupadd --system vmexec; fi; \
	fi
	@getent group vmexec >/dev/null || [ -n '$(DESTDIR)' ] || \
		echo "install: create the group for /dev/vmexec: groupadd --system vmexec"

install-lib:
	+$(MAKE) -C $(CURDIR)/lib O='$(LIB_O)' DESTDIR='$(DESTDIR)' prefix='$(prefix)' \
		libdir='$(libdir)' includedir='$(includedir)' all install

install-man:
	$(INSTALL) -d $(DESTDIR)$(mandir)/man3 $(DESTDIR)$(mandir)/man4
	$(if $(MAN3),$(INSTALL) -m 0644 $(MAN3) $(DESTDIR)$(mandir)/man3/)
	$(if $(MAN4),$(INSTALL) -m 0644 $(MAN4) $(DESTDIR)$(mandir)/man4/)
	$(foreach l,$(MAN3_LINKS),ln -sf $(word 2,$(subst :, ,$(l))) \
		$(DESTDIR)$(mandir)/man3/$(word 1,$(subst :, ,$(l)));)

install-data:
	$(INSTALL) -d $(DESTDIR)$(udevrulesdir) $(DESTDIR)$(modulesloaddir) \
		$(DESTDIR)$(sysusersdir)
	$(INSTALL) -m 0644 packaging/60-vmexec.rules $(DESTDIR)$(udevrulesdir)/60-vmexec.rules
	$(INSTALL) -m 0644 packaging/modules-load.conf $(DESTDIR)$(modulesloaddir)/vmexec.conf
	$(INSTALL) -m 0644 packaging/sysusers.conf $(DESTDIR)$(sysusersdir)/vmexec.conf

install-check:
	+@MAKE='$(MAKE)' bash $(CURDIR)/tests/install-test.sh

uninstall:
	+$(MAKE) -C $(CURDIR)/lib O='$(LIB_O)' DESTDIR='$(DESTDIR)' prefix='$(prefix)' \
		libdir='$(libdir)' includedir='$(includedir)' uninstall
	rm -f $(addprefix $(DESTDIR)$(mandir)/man3/,$(notdir $(MAN3))) \
		$(addprefix $(DESTDIR)$(mandir)/man4/,$(notdir $(MAN4))) \
		$(foreach l,$(MAN3_LINKS),$(DESTDIR)$(mandir)/man3/$(firstword $(subst :, ,$(l)))) \
		$(DESTDIR)$(udevrulesdir)/60-vmexec.rules \
		$(DESTDIR)$(modulesloaddir)/vmexec.conf $(DESTDIR)$(sysusersdir)/vmexec.conf

install-dkms:
	@bash $(CURDIR)/tools/dkms.sh stage $(DESTDIR)$(usrsrcdir)/vmexec-$(VERSION)
	@echo "install-dkms: sources in $(DESTDIR)$(usrsrcdir)/vmexec-$(VERSION)"
	@if [ '$(DKMS)' != no ]; then \
		bash $(CURDIR)/tools/dkms.sh install \
			'$(DESTDIR)$(usrsrcdir)/vmexec-$(VERSION)' $(DKMS_KERNELS); fi

uninstall-dkms:
	-dkms remove vmexec/$(VERSION) --all
	rm -rf $(DESTDIR)$(usrsrcdir)/vmexec-$(VERSION)

deb:
	@DEB_O='$(DEB_O)' bash $(CURDIR)/packaging/deb/build.sh
