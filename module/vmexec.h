/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VMEXEC_H
#define _VMEXEC_H

#include <linux/types.h>
#include <linux/mm_types.h>
#include <linux/ptrace.h>
#include <linux/sched.h>

struct file;
struct pid;

/* State of one open /dev/vmexec. */
struct vmexec_file {
	/* The bound address space: an mm_count reference, set once by BIND. */
	struct mm_struct *mm;
};

/* The caller's own address space while it works in a bound one. */
struct vmexec_mm_save {
	struct mm_struct *mm;
};

/* main.c */
int vmexec_copy_args(void *dst, size_t ksize, const void __user *uarg);

/* bind.c */
long vmexec_ioctl_bind(struct vmexec_file *vf, void __user *uarg);
struct mm_struct *vmexec_get_bound_mm(struct vmexec_file *vf);
void vmexec_unbind(struct vmexec_file *vf);

/* syscalls.c */
long vmexec_ioctl_syscalls(struct vmexec_file *vf, void __user *uarg);

/* mm_switch.c */
void vmexec_mm_enter(struct mm_struct *mm, struct vmexec_mm_save *save);
void vmexec_mm_leave(struct vmexec_mm_save *save);

/* ksyms.c */
int vmexec_ksyms_init(void);
void vmexec_ksyms_exit(void);

/*
 * gates.c: module-local stand-ins for kernel functions that are not exported
 * (and, on IBT kernels, sealed). Calling one runs the kernel function: an
 * ftrace IPMODIFY callback on the stand-in sends the CPU there with a RET, so
 * no indirect call ever lands on a poisoned ENDBR. ksyms.c sets them up and
 * checks them before the device is registered.
 */
unsigned long vmexec_k_kallsyms_lookup_name(const char *name);
long vmexec_k_x64_sys_call(const struct pt_regs *regs, unsigned int nr);
void vmexec_k_switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next,
				 struct task_struct *tsk);
void vmexec_k_membarrier_update_current_mm(struct mm_struct *next_mm);
void vmexec_k_mm_update_next_owner(struct mm_struct *mm);
void vmexec_k_sync_mm_rss(struct mm_struct *mm);
void vmexec_k_sched_mm_cid_before_execve(struct task_struct *t);
void vmexec_k_sched_mm_cid_after_execve(struct task_struct *t);
struct pid *vmexec_k_pidfd_pid(const struct file *file);
struct mm_struct *vmexec_k_mm_access(struct task_struct *task, unsigned int mode);

#endif /* _VMEXEC_H */
