// SPDX-License-Identifier: GPL-2.0
/*
 * Reaching kernel functions that are not exported.
 *
 * kallsyms_lookup_name() is found with a kprobe, every other function with
 * kallsyms_lookup_name(). None is ever called through a function pointer:
 * on IBT kernels (6.12) they are sealed, and an indirect call into one is a
 * fatal #CP. Instead each has a stand-in (at the end of this file) with an
 * ftrace IPMODIFY callback that points the saved IP at the real function,
 * which ftrace then enters with a RET (as livepatch does).
 * FTRACE_OPS_FL_PERMANENT keeps ftrace from being switched off under us. At
 * load every resolved address must start with ENDBR or its poison on IBT
 * kernels, and every stand-in's fentry site must be patched to a call;
 * otherwise the module refuses to load. The same redirect mechanism arms the
 * hooks (hooks.c).
 */
#include <linux/bug.h>
#include <linux/err.h>
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <asm/ibt.h>
#include "vmexec.h"

struct vmexec_gate {
	const char *symbol;
	void *stub;
	bool needed;
	struct ftrace_ops ops;
};

#define GATE(sym, need) { .symbol = #sym, .stub = vmexec_k_##sym, .needed = (need) }

static struct vmexec_gate vmexec_gates[] = {
	GATE(kallsyms_lookup_name, true),	/* must stay first */
	GATE(x64_sys_call, true),
	GATE(switch_mm_irqs_off, true),
	GATE(membarrier_update_current_mm, true),
	GATE(mm_update_next_owner, VMEXEC_MM_OWNER),
	GATE(sync_mm_rss, VMEXEC_SPLIT_RSS),
	GATE(sched_mm_cid_before_execve, VMEXEC_MM_CID),
	GATE(sched_mm_cid_after_execve, VMEXEC_MM_CID),
	GATE(pidfd_pid, true),
	GATE(mm_access, true),
	GATE(mm_alloc, VMEXEC_NEW_MM),
	GATE(arch_pick_mmap_layout, VMEXEC_NEW_MM),
	GATE(lru_gen_migrate_mm, VMEXEC_MM_OWNER && VMEXEC_LRU_GEN),
	GATE(__audit_syscall_entry, VMEXEC_AUDIT),
	GATE(__audit_syscall_exit, VMEXEC_AUDIT),
	GATE(ptrace_notify, true),
	GATE(uprobe_deny_signal, VMEXEC_UPROBES),
	GATE(task_work_run, VMEXEC_UPROBES),
	GATE(bpf_get_btf_vmlinux, VMEXEC_SECCOMP),
	GATE(btf_find_by_name_kind, VMEXEC_SECCOMP),
	GATE(btf_name_by_offset, VMEXEC_SECCOMP),
};

#define X86_ENDBR64		0xfa1e0ff3U	/* endbr64 */
#define X86_ENDBR64_POISON	0x001f0f66U	/* osp nopl (%rax), see asm/ibt.h */
#define X86_CALL_REL32		0xe8

static bool vmexec_starts_with_endbr(unsigned long addr)
{
	u32 insn = *(const u32 *)addr;

	return insn == X86_ENDBR64 || insn == X86_ENDBR64_POISON;
}

/* Address of a function, found by placing (and removing) a kprobe on it. */
static unsigned long vmexec_kprobe_lookup(const char *symbol)
{
	struct kprobe kp = { .symbol_name = symbol };
	unsigned long addr;

	if (register_kprobe(&kp))
		return 0;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);

	/* With IBT the probe goes past the ENDBR: step back to the symbol. */
	if (IS_ENABLED(CONFIG_X86_KERNEL_IBT) &&
	    vmexec_starts_with_endbr(addr - ENDBR_INSN_SIZE))
		addr -= ENDBR_INSN_SIZE;
	return addr;
}

/*
 * An IPMODIFY ftrace_ops on @ip whose @func may send the CPU to @to (kept in
 * ops->private). PERMANENT: ftrace cannot be switched off under it.
 */
int vmexec_redirect_arm(struct ftrace_ops *ops, ftrace_func_t func, unsigned long ip,
			void *to)
{
	int err;

	ops->func = func;
	ops->flags = FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT;
	ops->private = to;
	err = ftrace_set_filter_ip(ops, ip, 0, 0);
	if (!err) {
		err = register_ftrace_function(ops);
		if (err)
			ftrace_free_filter(ops);
	}
	if (err)
		ops->private = NULL;
	return err;
}

void vmexec_redirect_disarm(struct ftrace_ops *ops)
{
	if (!ops->private)
		return;
	/* Returns once no CPU can still be in the callback. */
	unregister_ftrace_function(ops);
	ftrace_free_filter(ops);
	ops->private = NULL;
}

static void notrace vmexec_gate_redirect(unsigned long ip, unsigned long parent_ip,
					 struct ftrace_ops *ops,
					 struct ftrace_regs *fregs)
{
	vmexec_ftrace_set_ip(fregs, (unsigned long)ops->private);
}

/* The stand-in's fentry site must now call the ftrace trampoline. */
static bool vmexec_gate_armed(const struct vmexec_gate *gate)
{
	unsigned long site = (unsigned long)gate->stub;

	if (vmexec_starts_with_endbr(site))
		site += 4;
	return *(const u8 *)site == X86_CALL_REL32;
}

static int vmexec_gate_arm(struct vmexec_gate *gate, unsigned long target)
{
	int err;

	if (IS_ENABLED(CONFIG_X86_KERNEL_IBT) && !vmexec_starts_with_endbr(target)) {
		pr_err("%s does not start with ENDBR: not a function entry\n",
		       gate->symbol);
		return -ENOENT;
	}
	err = vmexec_redirect_arm(&gate->ops, vmexec_gate_redirect,
				  (unsigned long)gate->stub, (void *)target);
	if (!err && !vmexec_gate_armed(gate)) {
		vmexec_redirect_disarm(&gate->ops);
		err = -EFAULT;
	}
	if (err)
		pr_err("cannot reach %s: error %d\n", gate->symbol, err);
	return err;
}

int vmexec_ksyms_init(void)
{
	struct vmexec_gate *lookup = &vmexec_gates[0];
	unsigned long addr;
	unsigned int i;
	int err;

	addr = vmexec_kprobe_lookup(lookup->symbol);
	if (!addr) {
		pr_err("kprobe on %s failed\n", lookup->symbol);
		return -ENOENT;
	}
	err = vmexec_gate_arm(lookup, addr);
	if (err)
		return err;
	/* The first call through a gate proves the mechanism. */
	if (vmexec_k_kallsyms_lookup_name(lookup->symbol) != addr) {
		pr_err("gate to %s does not work\n", lookup->symbol);
		err = -ENOENT;
		goto fail;
	}

	for (i = 1; i < ARRAY_SIZE(vmexec_gates); i++) {
		struct vmexec_gate *gate = &vmexec_gates[i];

		if (!gate->needed)
			continue;
		addr = vmexec_k_kallsyms_lookup_name(gate->symbol);
		if (!addr) {
			pr_err("symbol %s not found\n", gate->symbol);
			err = -ENOENT;
			goto fail;
		}
		err = vmexec_gate_arm(gate, addr);
		if (err)
			goto fail;
	}
	WRITE_ONCE(vmexec_gates_armed, true);
	return 0;
fail:
	vmexec_ksyms_exit();
	return err;
}

bool vmexec_gates_armed;

void vmexec_ksyms_exit(void)
{
	unsigned int i = ARRAY_SIZE(vmexec_gates);

	WRITE_ONCE(vmexec_gates_armed, false);
	while (i--)
		vmexec_redirect_disarm(&vmexec_gates[i].ops);
}

/*
 * The stand-ins. Each body runs only if its ftrace redirect is missing, which
 * vmexec_ksyms_init() rules out before the device exists. Where a no-op would
 * leave the task half-switched (mm, CR3, cid, audit context, a uprobe step),
 * the body stops the kernel with BUG(); the others return an error the
 * caller handles. noipa keeps GCC from merging, cloning or reasoning about
 * the stand-ins, so every call really enters its own one.
 */
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

VMEXEC_GATE struct mm_struct *vmexec_k_mm_alloc(void)
{
	vmexec_gate_missed(__func__);
	return NULL;
}

VMEXEC_GATE void vmexec_k_arch_pick_mmap_layout(struct mm_struct *mm,
						struct rlimit *rlim_stack)
{
	vmexec_gate_fatal(__func__);
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
