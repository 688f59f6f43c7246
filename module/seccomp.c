// SPDX-License-Identifier: GPL-2.0
/*
 * The caller's seccomp filter governs every call the module runs for it.
 *
 * A SYSCALLS entry or a passed-through guest call is checked, before it
 * runs, against the filters of the calling thread, on the seccomp_data its
 * own syscall instruction would have produced: AUDIT_ARCH_X86_64, the
 * number, the six arguments and the instruction pointer (the ioctl's for
 * SYSCALLS, the guest's for pass-through). The filters run as
 * seccomp_run_filters() runs them: every filter of the chain, the result
 * of lowest action wins. What the result means here:
 *
 *  ALLOW, LOG	the call runs (LOG writes no log record);
 *  ERRNO	the call does not run and returns that errno;
 *  others	the call does not run and returns -EPERM (SYSCALLS), or the
 *		guest syscall ends the run as any other syscall exit
 *		(pass-through). TRAP, TRACE, USER_NOTIF and KILL are not
 *		carried out: their signal, tracer stop or listener would
 *		describe registers and pointers of the ioctl or the target's
 *		mm, not of a syscall the caller made.
 *
 * struct seccomp_filter is private to kernel/seccomp.c. The offsets of its
 * prev and prog members come from the kernel's BTF at load, checked to be
 * pointers to struct seccomp_filter and struct bpf_prog; without them the
 * module does not load.
 */
#include <linux/btf.h>
#include <linux/filter.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/string.h>
#include <uapi/linux/audit.h>
#include "vmexec.h"

static u32 vmexec_sf_prev;	/* offsetof(struct seccomp_filter, prev) */
static u32 vmexec_sf_prog;	/* offsetof(struct seccomp_filter, prog) */

/* The kernel's ACTION_ONLY(): lower is more restrictive. */
#define VMEXEC_ACTION_ONLY(ret)	((s32)((ret) & SECCOMP_RET_ACTION_FULL))

static u32 vmexec_seccomp_run_filters(const struct seccomp_data *sd)
{
	const void *f = READ_ONCE(current->seccomp.filter);
	u32 ret = SECCOMP_RET_ALLOW;

	/* The chain only grows, and TSYNC keeps every old filter in it. */
	for (; f; f = *(const void * const *)(f + vmexec_sf_prev)) {
		const struct bpf_prog *prog;
		u32 cur;

		prog = *(const struct bpf_prog * const *)(f + vmexec_sf_prog);
		cur = bpf_prog_run_pin_on_cpu(prog, sd);

		if (VMEXEC_ACTION_ONLY(cur) < VMEXEC_ACTION_ONLY(ret))
			ret = cur;
	}
	return ret;
}

/*
 * May the caller run syscall @nr with the arguments in @regs (x86-64
 * convention), issued at @ip? 0 if so, else the negative errno to return.
 */
long vmexec_seccomp_check(unsigned long nr, const struct pt_regs *regs, unsigned long ip)
{
	struct seccomp_data sd;
	u32 ret;

	if (!VMEXEC_SECCOMP)
		return 0;
	switch (READ_ONCE(current->seccomp.mode)) {
	case SECCOMP_MODE_DISABLED:
		return 0;
	case SECCOMP_MODE_FILTER:
		break;
	default:
		/* Strict mode allows no ioctl; a dead filter allows nothing. */
		return -EPERM;
	}
	/* As the kernel does: a checkpoint/restore tracer suspended seccomp. */
	if (IS_ENABLED(CONFIG_CHECKPOINT_RESTORE) &&
	    unlikely(current->ptrace & PT_SUSPEND_SECCOMP))
		return 0;

	sd.nr = nr;
	sd.arch = AUDIT_ARCH_X86_64;
	sd.instruction_pointer = ip;
	sd.args[0] = regs->di;
	sd.args[1] = regs->si;
	sd.args[2] = regs->dx;
	sd.args[3] = regs->r10;
	sd.args[4] = regs->r8;
	sd.args[5] = regs->r9;
	ret = vmexec_seccomp_run_filters(&sd);

	switch (ret & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_ALLOW:
	case SECCOMP_RET_LOG:
		return 0;
	case SECCOMP_RET_ERRNO:
		/* As __seccomp_filter() does: the data, capped at MAX_ERRNO. */
		return -(long)min_t(u32, ret & SECCOMP_RET_DATA, MAX_ERRNO);
	default:
		return -EPERM;
	}
}

/* Byte offset of pointer member @name of struct @st, which points at a @to. */
static int vmexec_btf_ptr_member(const struct btf *btf, const struct btf_type *st,
				 const char *name, const char *to, u32 *off)
{
	const struct btf_member *m = btf_type_member(st);
	u16 i, n = btf_type_vlen(st);

	for (i = 0; i < n; i++, m++) {
		const struct btf_type *pt, *tt;
		const char *s;
		u32 bits;

		s = vmexec_k_btf_name_by_offset(btf, m->name_off);
		if (!s || strcmp(s, name))
			continue;
		bits = __btf_member_bit_offset(st, m);
		pt = btf_type_by_id(btf, m->type);
		if (bits % 8 || !pt || !btf_type_is_ptr(pt))
			return -EINVAL;
		tt = btf_type_by_id(btf, pt->type);
		s = tt ? vmexec_k_btf_name_by_offset(btf, tt->name_off) : NULL;
		if (!s || strcmp(s, to))
			return -EINVAL;
		*off = bits / 8;
		return 0;
	}
	return -ENOENT;
}

int vmexec_seccomp_init(void)
{
	const struct btf_type *st;
	struct btf *btf;
	s32 id;
	int err;

	if (!VMEXEC_SECCOMP)
		return 0;
	btf = vmexec_k_bpf_get_btf_vmlinux();
	if (IS_ERR_OR_NULL(btf)) {
		pr_err("no kernel BTF: cannot evaluate seccomp filters\n");
		return -ENOENT;
	}
	id = vmexec_k_btf_find_by_name_kind(btf, "seccomp_filter", BTF_KIND_STRUCT);
	st = id > 0 ? btf_type_by_id(btf, id) : NULL;
	if (!st) {
		pr_err("struct seccomp_filter not in the kernel's BTF\n");
		return -ENOENT;
	}
	err = vmexec_btf_ptr_member(btf, st, "prev", "seccomp_filter", &vmexec_sf_prev);
	if (!err)
		err = vmexec_btf_ptr_member(btf, st, "prog", "bpf_prog", &vmexec_sf_prog);
	if (err)
		pr_err("struct seccomp_filter has no usable prev/prog: %d\n", err);
	return err;
}
