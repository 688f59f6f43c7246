/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VMEXEC_H
#define _VMEXEC_H

#include <linux/types.h>
#include <linux/ftrace.h>
#include <linux/mm_types.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/list.h>
#include <linux/refcount.h>
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <asm/fpu/api.h>
#include <linux/vmexec.h>

struct file;
struct pid;
struct btf;
struct rlimit;

#define VMEXEC_PASSTHROUGH_BITS	(VMEXEC_PASSTHROUGH_WORDS * 64)

/* The kernel's PKRU for new processes: access to key 0 only. */
#define VMEXEC_INIT_PKRU	0x55555554U

/* State of one open /dev/vmexec. */
struct vmexec_file {
	/*
	 * The bound address space: an mm_count reference, set once by BIND;
	 * for one VMEXEC_BIND_NEW_MM created, an mm_users reference too.
	 */
	struct mm_struct *mm;
	/*
	 * The bound process; the binding ends when none of it uses mm. NULL
	 * for a created mm, which lives as long as the file.
	 */
	struct pid *pid;
	spinlock_t bind_lock;		/* BIND against BIND */
	/* Idle guest contexts, kept for the next RUN (FPU state is costly). */
	spinlock_t pool_lock;
	struct list_head pool;
	/* Guest syscalls run in place (VMEXEC_IOC_SET_PASSTHROUGH). */
	DECLARE_BITMAP(passthrough, VMEXEC_PASSTHROUGH_BITS);
	/* Signals held for the next RUN of a thread (held_signals.c). */
	spinlock_t held_lock;
	struct list_head held;
	/* VMEXEC_IOC_GET_STATS: per CPU, summed when read. */
	struct vmexec_stats_pcpu __percpu *stats;
};

/*
 * A file's counters on one CPU. A round trip adds to its own CPU's copy
 * (this_cpu_inc(): one instruction, no lock prefix, no cache line shared
 * with threads on other CPUs); VMEXEC_IOC_GET_STATS sums them.
 */
struct vmexec_stats_pcpu {
	u64 passthrough;
	u64 exits[VMEXEC_EXIT_INTERRUPTED + 1];
};

#define vmexec_stat_exit(vf, reason)	this_cpu_inc((vf)->stats->exits[reason])
#define vmexec_stat_passthrough(vf)	this_cpu_inc((vf)->stats->passthrough)

/* The caller's own address space while it works in a bound one. */
struct vmexec_mm_save {
	struct mm_struct *mm;
	/* The bound mm is VMEXEC_BIND_NEW_MM's: set before vmexec_mm_enter(). */
	bool created;
};

/* What of the caller's user state a thread in guest mode keeps aside. */
struct vmexec_cpu_save {
	unsigned long fsbase, gsbase;
	unsigned short fsindex, gsindex, ds, es;
	struct rseq __user *rseq;
	u32 rseq_len, rseq_sig;
	u32 pkru;
};

/*
 * A thread in guest mode. While it runs guest code, current->syscall_dispatch
 * points here (see guest_switch.c); the RUN ioctl has returned and this is all
 * that remembers the caller.
 */
struct vmexec_guest {
	refcount_t ref;			/* the run, and a pending rax fix-up */
	struct list_head pool_node;
	struct vmexec_file *vf;
	struct file *file;		/* pins the module while in guest mode */
	struct mm_struct *mm;		/* mm_users reference while running */
	bool running;
	bool ax_fixup;			/* rax still to be put back, see guest_switch.c */
	bool single_step;		/* VMEXEC_RUN_SINGLE_STEP: the guest runs with TF */
	u64 guest_ax;
	u64 sigmask;
	struct vmexec_run __user *urun;
	void __user *uxstate;
	struct callback_head fixup_work;
	struct vmexec_mm_save mm_save;
	struct vmexec_cpu_save cpu_save;
	struct pt_regs caller_regs;
	struct fpu_guest fpu;
	u32 pkru;			/* the guest's PKRU */
	/* Pass-through credentials (no capabilities), and what they copy. */
	const struct cred *pt_cred;
	const struct cred *pt_cred_of;
	void *xbuf;			/* kernel copy of the guest's XSAVE image */
	u32 xsize;
	/* A context's guest (context.c); NULL area for RUN's pooled ones. */
	struct vmexec_run *area;	/* kernel mapping of the run area */
	struct page *area_page;
	struct file *vfile;		/* the vmexec file the context holds */
	atomic_t busy;			/* a run or xstate call is in progress */
	/* Results, copied out at the exit. */
	u32 exit_reason;
	u32 restart;			/* VMEXEC_RESTART_* */
	struct vmexec_regs regs;

	union vmexec_exit exit;
};

/* The size bits of an ioctl number are ignored: each struct carries its size. */
#define VMEXEC_IOC_NOSIZE(cmd)	((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

/* main.c */
int vmexec_copy_args(void *dst, size_t ksize, const void __user *uarg);
bool vmexec_is_vmexec_file(const struct file *file);

/* bind.c */
long vmexec_ioctl_bind(struct vmexec_file *vf, void __user *uarg);
struct mm_struct *vmexec_get_bound_mm(struct vmexec_file *vf);
void vmexec_unbind(struct vmexec_file *vf);

/* Whether the file's mm is one VMEXEC_BIND_NEW_MM created (bound files only). */
static inline bool vmexec_mm_created(const struct vmexec_file *vf)
{
	return !vf->pid;
}

/* mm_create.c */
struct mm_struct *vmexec_mm_create(void);
void vmexec_mm_create_exit(void);

/* run.c */
long vmexec_ioctl_run(struct vmexec_file *vf, struct file *file, void __user *uarg);
void vmexec_guest_put(struct vmexec_guest *g);
void vmexec_guest_put_creds(struct vmexec_guest *g);
void vmexec_pool_free(struct vmexec_file *vf);
u32 vmexec_xstate_size(void);
struct vmexec_guest *vmexec_guest_alloc(struct vmexec_file *vf);
void vmexec_guest_free(struct vmexec_guest *g);
int vmexec_check_run(const struct vmexec_run *run);
int vmexec_check_caller(void);
int vmexec_run_init(void);
void vmexec_run_exit(void);

/* context.c */
long vmexec_ioctl_context(struct vmexec_file *vf, struct file *file, unsigned long arg);
void vmexec_context_report(struct vmexec_guest *g);

/* guest_switch.c */
extern const char vmexec_sud_tag;
#define VMEXEC_SUD_SELECTOR	((char __user *)(__force unsigned long)&vmexec_sud_tag)

/* Cheap enough for the hooks' ftrace callbacks, which run for every task. */
static __always_inline bool vmexec_in_guest_mode(void)
{
	return current->syscall_dispatch.selector == VMEXEC_SUD_SELECTOR;
}

struct vmexec_guest *vmexec_current_guest(void);
long vmexec_enter_guest(struct vmexec_guest *g, const struct vmexec_run *run);
void vmexec_guest_leave(struct vmexec_guest *g, struct pt_regs *regs);
void vmexec_guest_report(struct vmexec_guest *g, struct pt_regs *regs);

/* hooks.c */
int vmexec_hooks_init(void);
void vmexec_hooks_exit(void);

/* held_signals.c */
/*
 * Whether any thread holds a signal on the file: the lockless check before
 * vmexec_report_held_signal(). Only a thread itself adds entries for
 * itself, so a thread that holds one never sees the list empty.
 */
static inline bool vmexec_held_any(struct vmexec_file *vf)
{
	return !list_empty(&vf->held);
}

void vmexec_hold_pending_signals(struct vmexec_file *vf, u64 sigmask);
bool vmexec_take_held_signal(struct vmexec_file *vf, u64 sigmask, union vmexec_exit *exit);
int vmexec_report_held_signal(struct vmexec_file *vf, u64 sigmask,
			      struct vmexec_run __user *urun);
bool vmexec_report_held_signal_area(struct vmexec_file *vf, u64 sigmask,
				    struct vmexec_run *area);
void vmexec_rehold_signal(struct vmexec_file *vf, const union vmexec_exit *exit);
void vmexec_held_free(struct vmexec_file *vf);

/* syscalls.c */
long vmexec_ioctl_syscalls(struct vmexec_file *vf, void __user *uarg);
long vmexec_ioctl_set_passthrough(struct vmexec_file *vf, void __user *uarg);
bool vmexec_syscall_allowed(unsigned long nr);
long vmexec_syscall_regs(struct pt_regs *regs, unsigned long nr);

/* mem.c */
long vmexec_ioctl_mem(struct vmexec_file *vf, void __user *uarg);

/* seccomp.c */
int vmexec_seccomp_init(void);
long vmexec_seccomp_check(unsigned long nr, const struct pt_regs *regs, unsigned long ip);

/* audit.c */
bool vmexec_audit_active(void);
void vmexec_audit_close_ioctl(void);
void vmexec_audit_call_entry(unsigned long nr, const struct pt_regs *regs);
void vmexec_audit_call_exit(long ret);
void vmexec_trace_run_exit(void);

/* mm_switch.c */
void vmexec_mm_enter(struct mm_struct *mm, struct vmexec_mm_save *save);
void vmexec_mm_leave(struct vmexec_mm_save *save);

/* ksyms.c */
int vmexec_ksyms_init(void);
void vmexec_ksyms_exit(void);
int vmexec_redirect_arm(struct ftrace_ops *ops, ftrace_func_t func, unsigned long ip,
			void *to);
void vmexec_redirect_disarm(struct ftrace_ops *ops);

/*
 * Module-local stand-ins for kernel functions that are not exported (and,
 * on IBT kernels, sealed), in ksyms.c. Calling one runs the kernel
 * function: an ftrace IPMODIFY callback on the stand-in sends the CPU there
 * with a RET, so no indirect call ever lands on a poisoned ENDBR. ksyms.c
 * sets them up and checks them before the device is registered.
 */
extern bool vmexec_gates_armed;
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
struct mm_struct *vmexec_k_mm_alloc(void);
void vmexec_k_arch_pick_mmap_layout(struct mm_struct *mm, struct rlimit *rlim_stack);
void vmexec_k_lru_gen_migrate_mm(struct mm_struct *mm);
void vmexec_k___audit_syscall_entry(int major, unsigned long a1, unsigned long a2,
				    unsigned long a3, unsigned long a4);
void vmexec_k___audit_syscall_exit(int success, long return_code);
int vmexec_k_ptrace_notify(int exit_code, unsigned long message);
bool vmexec_k_uprobe_deny_signal(void);
void vmexec_k_task_work_run(void);
struct btf *vmexec_k_bpf_get_btf_vmlinux(void);
s32 vmexec_k_btf_find_by_name_kind(const struct btf *btf, const char *name, u8 kind);
const char *vmexec_k_btf_name_by_offset(const struct btf *btf, u32 offset);

#endif /* _VMEXEC_H */
