// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-ins for non-exported kernel functions. Each body runs only if its
 * ftrace redirect is missing, which ksyms.c rules out before the device
 * exists. Where a no-op would leave the task half-switched (mm, CR3, cid,
 * audit context, a uprobe step), the body stops the kernel with BUG();
 * the others return an error the caller handles. noipa keeps GCC from
 * merging, cloning or reasoning about the stand-ins, so every call really
 * enters its own one.
 */
#include <linux/bug.h>
#include <linux/err.h>
#include <linux/printk.h>
#include "vmexec.h"

/* GCC's noipa implies noinline, noclone and no_icf. */
#define VMEXEC_GATE	__attribute__((__noipa__))

static void vmexec_gate_missed(const char *name)
{
	pr_crit("gate %s was not redirected\n", name);
}

/*
 * No safe failure: carrying on would run a task in an inconsistent state.
 * Conditional on the gates being armed (always, once the device exists), so
 * that neither GCC nor objtool takes a stand-in for a function that never
 * returns, which the kernel function it stands for is not.
 */
static void vmexec_gate_fatal(const char *name)
{
	vmexec_gate_missed(name);
	BUG_ON(READ_ONCE(vmexec_gates_armed));
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
	vmexec_gate_fatal(__func__);
}

VMEXEC_GATE void vmexec_k_membarrier_update_current_mm(struct mm_struct *next_mm)
{
	vmexec_gate_fatal(__func__);
}

VMEXEC_GATE void vmexec_k_mm_update_next_owner(struct mm_struct *mm)
{
	vmexec_gate_fatal(__func__);
}

VMEXEC_GATE void vmexec_k_sync_mm_rss(struct mm_struct *mm)
{
	vmexec_gate_fatal(__func__);
}

VMEXEC_GATE void vmexec_k_sched_mm_cid_before_execve(struct task_struct *t)
{
	vmexec_gate_fatal(__func__);
}

VMEXEC_GATE void vmexec_k_sched_mm_cid_after_execve(struct task_struct *t)
{
	vmexec_gate_fatal(__func__);
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

VMEXEC_GATE void vmexec_k_lru_gen_migrate_mm(struct mm_struct *mm)
{
	vmexec_gate_fatal(__func__);
}

VMEXEC_GATE void vmexec_k___audit_syscall_entry(int major, unsigned long a1,
						unsigned long a2, unsigned long a3,
						unsigned long a4)
{
	vmexec_gate_fatal(__func__);
}

VMEXEC_GATE void vmexec_k___audit_syscall_exit(int success, long return_code)
{
	vmexec_gate_fatal(__func__);
}

VMEXEC_GATE int vmexec_k_ptrace_notify(int exit_code, unsigned long message)
{
	vmexec_gate_fatal(__func__);
	return 0;
}

VMEXEC_GATE bool vmexec_k_uprobe_deny_signal(void)
{
	vmexec_gate_fatal(__func__);
	return false;
}

VMEXEC_GATE void vmexec_k_task_work_run(void)
{
	vmexec_gate_fatal(__func__);
}

VMEXEC_GATE struct btf *vmexec_k_bpf_get_btf_vmlinux(void)
{
	vmexec_gate_missed(__func__);
	return NULL;
}

VMEXEC_GATE s32 vmexec_k_btf_find_by_name_kind(const struct btf *btf, const char *name,
					       u8 kind)
{
	vmexec_gate_missed(__func__);
	return -ENOENT;
}

VMEXEC_GATE const char *vmexec_k_btf_name_by_offset(const struct btf *btf, u32 offset)
{
	vmexec_gate_missed(__func__);
	return NULL;
}
