// SPDX-License-Identifier: GPL-2.0
/*
 * Audit records and ptrace syscall stops for what the module does on a
 * caller's behalf, as the kernel's syscall entry and exit work would
 * produce them.
 *
 * The RUN ioctl: its record is closed (success, 0) as the thread enters
 * guest mode, because the exit work that would close it is skipped for the
 * ioctl (on_dispatch) and, when the run ends on a signal, never runs. The
 * exit work of the guest syscall that ends a run then finds no open record.
 * The ioctl's syscall-exit stop comes from that exit work after a syscall
 * exit, and from vmexec_trace_run_exit() after any other exit.
 *
 * A SYSCALLS batch closes the ioctl's record before its first entry; each
 * entry and each passed-through guest call then gets a record of its own,
 * opened with its number and first four arguments and closed with its
 * result, as if the caller had made that call itself.
 */
#include <linux/audit.h>
#include <linux/entry-common.h>
#include <linux/err.h>
#include <linux/ptrace.h>
#include <linux/sched/signal.h>
#include "vmexec.h"

static bool vmexec_audited(void)
{
	return VMEXEC_AUDIT && unlikely(audit_context());
}

bool vmexec_audit_active(void)
{
	return vmexec_audited();
}

/* Close the record of the syscall the thread is in (the ioctl's). */
void vmexec_audit_close_ioctl(void)
{
	if (vmexec_audited())
		vmexec_k___audit_syscall_exit(1, 0);
}

void vmexec_audit_call_entry(unsigned long nr, const struct pt_regs *regs)
{
	if (vmexec_audited())
		vmexec_k___audit_syscall_entry(nr, regs->di, regs->si, regs->dx, regs->r10);
}

void vmexec_audit_call_exit(long ret)
{
	if (vmexec_audited())
		vmexec_k___audit_syscall_exit(!IS_ERR_VALUE(ret), ret);
}

/*
 * The RUN ioctl's syscall-exit stop for a tracer (PTRACE_SYSCALL), for a
 * run that ended without a guest syscall; current_pt_regs() are the
 * caller's again, with the ioctl's result in ax.
 */
void vmexec_trace_run_exit(void)
{
	int ptrace = current->ptrace;
	int signr;

	if (!test_syscall_work(SYSCALL_TRACE) || !(ptrace & PT_PTRACED))
		return;
	signr = vmexec_k_ptrace_notify(SIGTRAP | ((ptrace & PT_TRACESYSGOOD) ? 0x80 : 0),
				       PTRACE_EVENTMSG_SYSCALL_EXIT);
	/* As ptrace_report_syscall() does with the tracer's signal. */
	if (signr)
		send_sig(signr, current, 1);
}
