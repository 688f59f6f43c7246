// SPDX-License-Identifier: GPL-2.0
/*
 * Reaching kernel functions that are not exported.
 *
 * kallsyms_lookup_name() is found with a kprobe, every other function with
 * kallsyms_lookup_name(). None is ever called through a function pointer:
 * on IBT kernels (6.12) they are sealed, and an indirect call into one is a
 * fatal #CP. Instead each has a stand-in in gates.c with an ftrace IPMODIFY
 * callback that points the saved IP at the real function, which ftrace then
 * enters with a RET (as livepatch does). FTRACE_OPS_FL_PERMANENT keeps ftrace
 * from being switched off under us. At load every resolved address must start
 * with ENDBR or its poison on IBT kernels, and every stand-in's fentry site
 * must be patched to a call; otherwise the module refuses to load.
 */
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
static int vmexec_redirect_arm(struct ftrace_ops *ops, ftrace_func_t func,
			       unsigned long ip, void *to)
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

static void vmexec_redirect_disarm(struct ftrace_ops *ops)
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

/*
 * Hooks: an ftrace callback on a kernel function that sends only threads in
 * guest mode to a module function with the same prototype. For every other
 * thread the kernel function runs untouched; the redirected threads never
 * run it, so nothing here ever calls back into it.
 */
struct vmexec_hook {
	const char *symbol;
	void *handler;
	bool needed;
	struct ftrace_ops ops;
};

#define HOOK(sym, fn, need) { .symbol = #sym, .handler = (fn), .needed = (need) }

static struct vmexec_hook vmexec_hooks[] = {
	HOOK(syscall_user_dispatch, vmexec_guest_syscall, true),
	HOOK(arch_do_signal_or_restart, vmexec_guest_signal, true),
	HOOK(emulate_vsyscall, vmexec_guest_vsyscall, VMEXEC_VSYSCALL),
};

static void notrace vmexec_hook_redirect(unsigned long ip, unsigned long parent_ip,
					 struct ftrace_ops *ops,
					 struct ftrace_regs *fregs)
{
	if (vmexec_in_guest_mode())
		vmexec_ftrace_set_ip(fregs, (unsigned long)ops->private);
}

static int vmexec_hook_arm(struct vmexec_hook *hook)
{
	unsigned long addr = vmexec_k_kallsyms_lookup_name(hook->symbol);
	int err;

	if (!addr) {
		pr_err("symbol %s not found\n", hook->symbol);
		return -ENOENT;
	}
	err = vmexec_redirect_arm(&hook->ops, vmexec_hook_redirect, addr, hook->handler);
	if (err)
		pr_err("cannot hook %s: error %d\n", hook->symbol, err);
	return err;
}

int vmexec_hooks_init(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(vmexec_hooks); i++) {
		if (!vmexec_hooks[i].needed)
			continue;
		err = vmexec_hook_arm(&vmexec_hooks[i]);
		if (err) {
			vmexec_hooks_exit();
			return err;
		}
	}
	return 0;
}

void vmexec_hooks_exit(void)
{
	unsigned int i = ARRAY_SIZE(vmexec_hooks);

	while (i--)
		vmexec_redirect_disarm(&vmexec_hooks[i].ops);
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
