/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stub: a stopped child whose address space guests run in, bound to a
 * vmexec file, with code, data and stack mapped at fixed addresses.
 */
#ifndef VMEXEC_TESTS_STUB_H
#define VMEXEC_TESTS_STUB_H

#include <stddef.h>
#include <sys/types.h>
#include <libvmexec.h>

#define CODE_ADDR	0x7e1000000000UL
#define DATA_ADDR	0x7e1000100000UL
#define STACK_TOP	0x7e1000210000UL
#define PAGE		4096UL

struct stub {
	pid_t pid;
	int fd;
	/* With stub_use_context: a context of fd and its run area, else -1/NULL. */
	int ctx;
	struct vmexec_run *area;
};

/*
 * Set (by a test case's fixture) before stub_start(): every stub gets a
 * context, and run_guest() goes through VMEXEC_IOC_CONTEXT_RUN instead of
 * VMEXEC_IOC_RUN, so the same test checks the same rule for both.
 */
extern int stub_use_context;
/* A checked fixture that sets it, for the "via_context" test cases. */
void stub_context_mode(void);

/*
 * Set before stub_start(): no process is forked; the file is bound to a
 * new, empty address space of its own (VMEXEC_BIND_NEW_MM) and pid is 0.
 */
extern int stub_use_new_mm;
/* A checked fixture that sets it, for the "via_new_mm" test cases. */
void stub_new_mm_mode(void);

/*
 * Fork the stub (it stops itself for ever; SIGUSR2 makes it exec busybox
 * sleep), bind a new vmexec file to it (or, in new-mm mode, bind one to a
 * new address space), map CODE_ADDR (r-x) and DATA_ADDR
 * (rw-, up to STACK_TOP) there. Fails the test on error.
 */
void stub_start(struct stub *s);
void stub_stop(struct stub *s);
/* Copy bytes into or out of the stub's memory (SYSCALLS read/write). */
void stub_poke(struct stub *s, unsigned long addr, const void *buf, size_t len);
void stub_peek(struct stub *s, unsigned long addr, void *buf, size_t len);
/*
 * Guest code that stores 1 at DATA_ADDR, then spins at CODE_ADDR +
 * MARK_SPIN_LOOP: a guest that shows it runs.
 */
extern const unsigned char code_mark_spin[18];
#define MARK_SPIN_LOOP	16

/*
 * Wait (at most ms) until the stub's DATA_ADDR holds 1: a guest running
 * code_mark_spin is in guest mode. 0 or -ETIMEDOUT; never asserts, so a
 * child of the test may call it.
 */
int stub_wait_mark(const struct stub *s, int ms);
/* Set DATA_ADDR back to 0 (fails the test on error). */
void stub_clear_mark(struct stub *s);

/* A run at rip with the stack 64 bytes below STACK_TOP. */
void run_init(struct vmexec_run *run, unsigned long rip);
/*
 * One RUN of *run. In context mode: its input fields into the run area,
 * CONTEXT_RUN, and exit_reason, regs and exit back into *run.
 */
int run_guest(struct stub *s, struct vmexec_run *run);

#endif /* VMEXEC_TESTS_STUB_H */
