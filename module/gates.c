// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-ins for non-exported kernel functions. Each body runs only if its
 * ftrace redirect is missing, which ksyms.c rules out before the device
 * exists; it then fails safely. noipa keeps GCC from merging, cloning or
 * reasoning about the stand-ins, so every call really enters its own one.
 */
#include <linux/err.h>
#include <linux/printk.h>
#include "vmexec.h"

/* GCC's noipa implies noinline, noclone and no_icf. */
#define VMEXEC_GATE	__attribute__((__noipa__))

static void vmexec_gate_missed(const char *name)
{
	pr_crit("gate %s was not redirected\n", name);
}

VMEXEC_GATE unsigned long vmexec_k_kallsyms_lookup_name(const char *name)
{
	vmexec_gate_missed(__func__);
	return 0;
}

VMEXEC_GATE long vmexec_k_x64_sys_call(const struct pt_regs *regs, unsigned int nr)
{
	vmexec_gate_missed(__func__);
	return -EOPNOTSUPP;
}

VMEXEC_GATE void vmexec_k_switch_mm_irqs_off(struct mm_struct *prev,
					     struct mm_struct *next,
					     struct task_struct *tsk)
{
	vmexec_gate_missed(__func__);
}

VMEXEC_GATE void vmexec_k_membarrier_update_current_mm(struct mm_struct *next_mm)
{
	vmexec_gate_missed(__func__);
}

VMEXEC_GATE void vmexec_k_mm_update_next_owner(struct mm_struct *mm)
{
	vmexec_gate_missed(__func__);
}

VMEXEC_GATE void vmexec_k_sync_mm_rss(struct mm_struct *mm)
{
	vmexec_gate_missed(__func__);
}

VMEXEC_GATE void vmexec_k_sched_mm_cid_before_execve(struct task_struct *t)
{
	vmexec_gate_missed(__func__);
}

VMEXEC_GATE void vmexec_k_sched_mm_cid_after_execve(struct task_struct *t)
{
	vmexec_gate_missed(__func__);
}

VMEXEC_GATE struct pid *vmexec_k_pidfd_pid(const struct file *file)
{
	vmexec_gate_missed(__func__);
	return ERR_PTR(-EOPNOTSUPP);
}

VMEXEC_GATE struct mm_struct *vmexec_k_mm_access(struct task_struct *task,
						 unsigned int mode)
{
	vmexec_gate_missed(__func__);
	return ERR_PTR(-EOPNOTSUPP);
}
