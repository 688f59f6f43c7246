/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the supported kernels lives here. The rest of the
 * module is written against one API and tests only the constants below.
 * Force-included into every file by Kbuild.
 */
#ifndef _VMEXEC_COMPAT_H
#define _VMEXEC_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0) || \
	LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#error "vmexec supports Linux 6.1 to 6.12"
#endif

#ifndef CONFIG_X86_64
#error "vmexec supports x86-64 only"
#endif

#if !defined(CONFIG_DYNAMIC_FTRACE_WITH_ARGS) || !defined(CONFIG_KPROBES) || \
	!defined(CONFIG_GENERIC_ENTRY)
#error "vmexec needs DYNAMIC_FTRACE_WITH_ARGS, KPROBES and GENERIC_ENTRY"
#endif

/* 6.1 caches RSS counters per task; 6.2 made them per-cpu in the mm. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define VMEXEC_SPLIT_RSS	1
#else
#define VMEXEC_SPLIT_RSS	0
#endif

/* Per-mm concurrency ids (6.3+) are owned by the mm the task runs on. */
#ifdef CONFIG_SCHED_MM_CID
#define VMEXEC_MM_CID		1
#else
#define VMEXEC_MM_CID		0
#endif

#ifdef CONFIG_MEMCG
#define VMEXEC_MM_OWNER		1
#else
#define VMEXEC_MM_OWNER		0
#endif

/* Multi-gen LRU keeps a list of mms per memcg, which follows mm->owner. */
#ifdef CONFIG_LRU_GEN
#define VMEXEC_LRU_GEN		1
#else
#define VMEXEC_LRU_GEN		0
#endif

/*
 * An address space with no process (VMEXEC_BIND_NEW_MM) lets go of its
 * memcg owner from an mmu notifier; without them the flag is refused.
 */
#ifdef CONFIG_MMU_NOTIFIER
#define VMEXEC_NEW_MM		1
#else
#define VMEXEC_NEW_MM		0
#endif

/* vma->vm_flags became read-only behind vm_flags_set() in 6.3. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define vmexec_vm_flags_set(vma, flags)		((vma)->vm_flags |= (flags))
#define vmexec_vm_flags_clear(vma, flags)	((vma)->vm_flags &= ~(flags))
#else
#define vmexec_vm_flags_set(vma, flags)		vm_flags_set(vma, flags)
#define vmexec_vm_flags_clear(vma, flags)	vm_flags_clear(vma, flags)
#endif

/* Per-syscall audit records. */
#ifdef CONFIG_AUDITSYSCALL
#define VMEXEC_AUDIT		1
#else
#define VMEXEC_AUDIT		0
#endif

/* The vsyscall page may be emulated (vsyscall=xonly or emulate). */
#ifdef CONFIG_X86_VSYSCALL_EMULATION
#define VMEXEC_VSYSCALL		1
#else
#define VMEXEC_VSYSCALL		0
#endif

/* A thread may be in the middle of a uprobe's out-of-line single-step. */
#ifdef CONFIG_UPROBES
#define VMEXEC_UPROBES		1
#define vmexec_uprobe_stepping() \
	(current->utask && READ_ONCE(current->utask->active_uprobe))
#else
#define VMEXEC_UPROBES		0
#define vmexec_uprobe_stepping()	false
#endif

/*
 * Seccomp filters are evaluated for every call run on a caller's behalf
 * (seccomp.c). The filter list is private to kernel/seccomp.c: its layout
 * comes from the kernel's own BTF, so without BTF there is no module.
 */
#ifdef CONFIG_SECCOMP_FILTER
#ifndef CONFIG_DEBUG_INFO_BTF
#error "vmexec needs DEBUG_INFO_BTF on a kernel with SECCOMP_FILTER"
#endif
#define VMEXEC_SECCOMP		1
#else
#define VMEXEC_SECCOMP		0
#endif

/* 6.7 made struct ftrace_regs opaque and renamed the IP setter. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
#define vmexec_ftrace_set_ip(fregs, ip)	ftrace_instruction_pointer_set(fregs, ip)
#else
#define vmexec_ftrace_set_ip(fregs, ip)	ftrace_regs_set_instruction_pointer(fregs, ip)
#endif

/* 6.10 dropped the task argument of dequeue_signal(). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
#define vmexec_dequeue_signal(mask, info, type) \
	dequeue_signal(current, mask, info, type)
#else
#define vmexec_dequeue_signal(mask, info, type) dequeue_signal(mask, info, type)
#endif

/* 6.3 added rseq_len (extensible rseq); before, the area was fixed-size. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define vmexec_rseq_len(t)		((void)(t), 0)
#define vmexec_set_rseq_len(t, len)	do { (void)(t); (void)(len); } while (0)
#else
#define vmexec_rseq_len(t)		((t)->rseq_len)
#define vmexec_set_rseq_len(t, len)	((t)->rseq_len = (len))
#endif

/* A user shadow stack (6.6+) cannot follow the thread into another mm. */
#ifdef CONFIG_X86_USER_SHADOW_STACK
#define vmexec_shstk_enabled()	(current->thread.features & ARCH_SHSTK_SHSTK)
#else
#define vmexec_shstk_enabled()	false
#endif

/* 6.5 dropped the vmas argument of pin_user_pages_remote(). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define vmexec_pin_user_pages_remote(mm, start, nr, flags, pages, locked) \
	pin_user_pages_remote(mm, start, nr, flags, pages, NULL, locked)
#else
#define vmexec_pin_user_pages_remote(mm, start, nr, flags, pages, locked) \
	pin_user_pages_remote(mm, start, nr, flags, pages, locked)
#endif

#endif /* _VMEXEC_COMPAT_H */
