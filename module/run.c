// SPDX-License-Identifier: GPL-2.0
/*
 * VMEXEC_IOC_RUN: the calling thread "returns" from the ioctl into guest code
 * running in the bound address space.
 *
 * The ioctl saves the caller's user registers and thread state, loads the
 * guest's, switches mm and FPU state, and flags the thread with the
 * Syscall-User-Dispatch work bit. It then returns through the normal syscall
 * exit, whose tracing/audit/ptrace work is suppressed for this one syscall by
 * syscall_dispatch.on_dispatch (so a tracer never sees guest registers); the
 * ioctl's audit record is closed before that (audit.c).
 * The thread's state is handed over in guest_switch.c; the run ends in
 * hooks.c, at the first guest system call or signal.
 *
 * sys_ioctl() keeps the return value in an int, and vfs turns -ENOIOCTLCMD
 * into -ENOTTY; a guest rax that does not survive that is put back by a
 * TWA_RESUME task_work, which runs before the thread reaches user mode.
 */
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/entry-common.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/processor.h>
#include <asm/ptrace.h>
#include <asm/prctl.h>
#include <asm/segment.h>
#include "vmexec.h"

/* The uapi masks, spelled in the kernel's names (checked at build time). */
#define VMEXEC_GUEST_FLAGS (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			    X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_DF | \
			    X86_EFLAGS_OF | X86_EFLAGS_AC | X86_EFLAGS_ID | \
			    X86_EFLAGS_IF | X86_EFLAGS_FIXED)
/*
 * Accepted, so that the registers of any exit can be passed back, and
 * cleared, as sigreturn clears what it does not restore.
 */
#define VMEXEC_CLEARED_FLAGS (X86_EFLAGS_RF | X86_EFLAGS_TF | X86_EFLAGS_NT)

#define VMEXEC_SIGBIT(sig)	(1ULL << ((sig) - 1))

static u32 vmexec_xsize;	/* CPUID(0xd, 0).EBX: XSAVE size for XCR0 */
static void *vmexec_xinit;	/* XSAVE image of the clean FPU state */

u32 vmexec_xstate_size(void)
{
	return vmexec_xsize;
}

struct vmexec_guest *vmexec_guest_alloc(struct vmexec_file *vf)
{
	struct vmexec_guest *g;

	g = kzalloc(sizeof(*g), GFP_KERNEL_ACCOUNT);
	if (!g)
		return NULL;
	g->xbuf = kvzalloc(vmexec_xsize, GFP_KERNEL_ACCOUNT);
	if (!g->xbuf)
		goto fail;
	if (!fpu_alloc_guest_fpstate(&g->fpu))
		goto fail;
	g->xsize = vmexec_xsize;
	g->vf = vf;
	return g;
fail:
	kvfree(g->xbuf);
	kfree(g);
	return NULL;
}

void vmexec_guest_put_creds(struct vmexec_guest *g)
{
	if (g->pt_cred) {
		put_cred(g->pt_cred);
		put_cred(g->pt_cred_of);
		g->pt_cred = NULL;
		g->pt_cred_of = NULL;
	}
}

void vmexec_guest_free(struct vmexec_guest *g)
{
	vmexec_guest_put_creds(g);
	fpu_free_guest_fpstate(&g->fpu);
	kvfree(g->xbuf);
	kfree(g);
}

static struct vmexec_guest *vmexec_guest_get(struct vmexec_file *vf)
{
	struct vmexec_guest *g;

	spin_lock(&vf->pool_lock);
	g = list_first_entry_or_null(&vf->pool, struct vmexec_guest, pool_node);
	if (g)
		list_del(&g->pool_node);
	spin_unlock(&vf->pool_lock);
	if (!g)
		g = vmexec_guest_alloc(vf);
	if (g)
		refcount_set(&g->ref, 1);
	return g;
}

/*
 * The last reference returns the guest to its file's pool, or a context's
 * guest to its context, which may then run again.
 */
void vmexec_guest_put(struct vmexec_guest *g)
{
	struct vmexec_file *vf = g->vf;
	struct file *file = g->file;

	if (!refcount_dec_and_test(&g->ref))
		return;
	g->file = NULL;
	if (g->area) {
		atomic_set_release(&g->busy, 0);
	} else {
		spin_lock(&vf->pool_lock);
		list_add(&g->pool_node, &vf->pool);
		spin_unlock(&vf->pool_lock);
	}
	/* Last: this may be what lets the module go. */
	if (file)
		fput(file);
}

void vmexec_pool_free(struct vmexec_file *vf)
{
	struct vmexec_guest *g, *tmp;

	list_for_each_entry_safe(g, tmp, &vf->pool, pool_node)
		vmexec_guest_free(g);
	INIT_LIST_HEAD(&vf->pool);
}

static bool vmexec_user_addr_ok(u64 addr)
{
	return addr < TASK_SIZE_MAX;
}

/* What WRFSBASE and WRGSBASE accept: any address canonical for the paging mode. */
static bool vmexec_base_ok(u64 base)
{
	return __is_canonical_address(base, __VIRTUAL_MASK_SHIFT + 1);
}

int vmexec_check_run(const struct vmexec_run *run)
{
	const struct vmexec_regs *r = &run->regs;

	BUILD_BUG_ON(VMEXEC_GUEST_FLAGS != VMEXEC_RFLAGS_GUEST);
	BUILD_BUG_ON(VMEXEC_CLEARED_FLAGS != VMEXEC_RFLAGS_CLEARED);
	if (run->flags & ~VMEXEC_RUN_FLAGS)
		return -EINVAL;
	/* The step's SIGTRAP must end the run, not reach the caller's handlers. */
	if ((run->flags & VMEXEC_RUN_SINGLE_STEP) && !(run->sigmask & VMEXEC_SIGBIT(SIGTRAP)))
		return -EINVAL;
	if (run->sigmask & (VMEXEC_SIGBIT(SIGKILL) | VMEXEC_SIGBIT(SIGSTOP)))
		return -EINVAL;
	if (!vmexec_user_addr_ok(r->rip) || !vmexec_base_ok(r->fs_base) ||
	    !vmexec_base_ok(r->gs_base))
		return -EINVAL;
	if (r->rflags & ~(VMEXEC_GUEST_FLAGS | VMEXEC_CLEARED_FLAGS))
		return -EINVAL;
	if (run->xstate && run->xstate_size < vmexec_xsize)
		return -EINVAL;
	return 0;
}

/* Thread states a guest cannot be run from. */
int vmexec_check_caller(void)
{
	struct task_struct *tsk = current;

	/* The thread's own Syscall User Dispatch would be taken over. */
	if (test_syscall_work(SYSCALL_USER_DISPATCH) || tsk->syscall_dispatch.len ||
	    tsk->syscall_dispatch.selector)
		return -EOPNOTSUPP;
	/* The caller's shadow stack pointer would be used in the guest's mm. */
	if (vmexec_shstk_enabled())
		return -EOPNOTSUPP;
	/* ioperm()/iopl(): the guest would get the caller's port I/O. */
	if (test_thread_flag(TIF_IO_BITMAP))
		return -EOPNOTSUPP;
	return 0;
}

static int vmexec_load_xstate(struct vmexec_guest *g, u64 uxstate)
{
	const void *image = vmexec_xinit;

	if (uxstate) {
		if (copy_from_user(g->xbuf, u64_to_user_ptr(uxstate), vmexec_xsize))
			return -EFAULT;
		image = g->xbuf;
	}
	g->pkru = VMEXEC_INIT_PKRU;
	if (fpu_copy_uabi_to_guest_fpstate(&g->fpu, image, xgetbv(XCR_XFEATURE_ENABLED_MASK),
					   &g->pkru))
		return -EINVAL;
	return 0;
}

long vmexec_ioctl_run(struct vmexec_file *vf, struct file *file, void __user *uarg)
{
	struct vmexec_guest *g;
	struct vmexec_run run;
	struct mm_struct *mm;
	int err;

	err = vmexec_copy_args(&run, sizeof(run), uarg);
	if (err)
		return err;
	err = vmexec_check_run(&run);
	if (err)
		return err;
	err = vmexec_check_caller();
	if (err)
		return err;
	/* Signals held at an earlier exit come before the guest runs again. */
	err = vmexec_held_any(vf) ? vmexec_report_held_signal(vf, run.sigmask, uarg) : 0;
	if (err)
		return err < 0 ? err : 0;

	mm = vmexec_get_bound_mm(vf);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	g = vmexec_guest_get(vf);
	if (!g) {
		err = -ENOMEM;
		goto fail_mm;
	}
	err = vmexec_load_xstate(g, run.xstate);
	if (err)
		goto fail_guest;

	g->mm = mm;
	g->file = get_file(file);
	g->urun = uarg;
	g->uxstate = u64_to_user_ptr(run.xstate);
	g->sigmask = run.sigmask;
	g->ax_fixup = false;
	return vmexec_enter_guest(g, &run);

fail_guest:
	vmexec_guest_put(g);
fail_mm:
	mmput(mm);
	return err;
}

int vmexec_run_init(void)
{
	struct fpu_guest fpu;
	unsigned int eax, ebx, ecx, edx;

	if (!boot_cpu_has(X86_FEATURE_XSAVE)) {
		pr_err("needs a CPU with XSAVE\n");
		return -ENODEV;
	}
	cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx);
	vmexec_xsize = ebx;
	vmexec_xinit = kvzalloc(vmexec_xsize, GFP_KERNEL);
	if (!vmexec_xinit)
		return -ENOMEM;
	if (!fpu_alloc_guest_fpstate(&fpu)) {
		kvfree(vmexec_xinit);
		return -ENOMEM;
	}
	/* A fresh guest fpstate is in the init state: keep its image. */
	fpu_copy_guest_fpstate_to_uabi(&fpu, vmexec_xinit, vmexec_xsize,
				       xgetbv(XCR_XFEATURE_ENABLED_MASK), VMEXEC_INIT_PKRU);
	fpu_free_guest_fpstate(&fpu);
	return 0;
}

void vmexec_run_exit(void)
{
	kvfree(vmexec_xinit);
}
