// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmexec: bind another process's address space by pidfd and work in it.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmexec.h>
#include "vmexec.h"

/* Structs larger than this are refused outright (E2BIG). */
#define VMEXEC_ARGS_MAX		PAGE_SIZE

/*
 * Copy an extensible argument struct whose first member is its __u32 size,
 * with copy_struct_from_user() semantics.
 */
int vmexec_copy_args(void *dst, size_t ksize, const void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < ksize)
		return -EINVAL;
	if (usize > VMEXEC_ARGS_MAX)
		return -E2BIG;
	return copy_struct_from_user(dst, ksize, uarg, usize);
}

static const struct file_operations vmexec_fops;

bool vmexec_is_vmexec_file(const struct file *file)
{
	return file->f_op == &vmexec_fops;
}

static long vmexec_ioctl_get_stats(struct vmexec_file *vf, void __user *uarg)
{
	struct vmexec_stats st;
	unsigned int cpu;
	u32 usize;
	int err;

	err = vmexec_copy_args(&st, sizeof(st), uarg);
	if (err)
		return err;
	if (st.flags)
		return -EINVAL;
	usize = st.size;
	st.size = sizeof(st);
	st.passthrough = 0;
	st.exits_syscall = 0;
	st.exits_signal = 0;
	st.exits_interrupted = 0;
	/* Each CPU's counters only grow: so does their sum, read after read. */
	for_each_possible_cpu(cpu) {
		const struct vmexec_stats_pcpu *c = per_cpu_ptr(vf->stats, cpu);

		st.passthrough += READ_ONCE(c->passthrough);
		st.exits_syscall += READ_ONCE(c->exits[VMEXEC_EXIT_SYSCALL]);
		st.exits_signal += READ_ONCE(c->exits[VMEXEC_EXIT_SIGNAL]);
		st.exits_interrupted += READ_ONCE(c->exits[VMEXEC_EXIT_INTERRUPTED]);
	}
	if (copy_to_user(uarg, &st, min_t(u32, usize, sizeof(st))))
		return -EFAULT;
	return 0;
}

static int vmexec_open(struct inode *inode, struct file *file)
{
	struct vmexec_file *vf;

	vf = kzalloc(sizeof(*vf), GFP_KERNEL);
	if (!vf)
		return -ENOMEM;
	vf->stats = alloc_percpu_gfp(struct vmexec_stats_pcpu, GFP_KERNEL_ACCOUNT);
	if (!vf->stats) {
		kfree(vf);
		return -ENOMEM;
	}
	spin_lock_init(&vf->pool_lock);
	INIT_LIST_HEAD(&vf->pool);
	spin_lock_init(&vf->bind_lock);
	spin_lock_init(&vf->held_lock);
	INIT_LIST_HEAD(&vf->held);
	file->private_data = vf;
	return 0;
}

static int vmexec_release(struct inode *inode, struct file *file)
{
	struct vmexec_file *vf = file->private_data;

	vmexec_pool_free(vf);
	vmexec_held_free(vf);
	vmexec_unbind(vf);
	free_percpu(vf->stats);
	kfree(vf);
	return 0;
}

/*
 * VMEXEC_IOC_CHECK_FEATURE: 1 for what this module has (every number up to
 * the last one it knows, but VMEXEC_BIND_NEW_MM on a kernel without mmu
 * notifiers), 0 for anything else.
 */
static long vmexec_check_feature(unsigned long feature)
{
	if (feature == VMEXEC_FEATURE_BIND_NEW_MM)
		return VMEXEC_NEW_MM;
	return feature < VMEXEC_FEATURE_COUNT;
}

static long vmexec_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vmexec_file *vf = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (cmd == VMEXEC_IOC_API_VERSION)
		return VMEXEC_API_VERSION;
	if (cmd == VMEXEC_IOC_CHECK_FEATURE)
		return vmexec_check_feature(arg);

	switch (VMEXEC_IOC_NOSIZE(cmd)) {
	case VMEXEC_IOC_NOSIZE(VMEXEC_IOC_BIND):
		return vmexec_ioctl_bind(vf, uarg);
	case VMEXEC_IOC_NOSIZE(VMEXEC_IOC_SYSCALLS):
		return vmexec_ioctl_syscalls(vf, uarg);
	case VMEXEC_IOC_NOSIZE(VMEXEC_IOC_RUN):
		return vmexec_ioctl_run(vf, file, uarg);
	case VMEXEC_IOC_NOSIZE(VMEXEC_IOC_SET_PASSTHROUGH):
		return vmexec_ioctl_set_passthrough(vf, uarg);
	case VMEXEC_IOC_NOSIZE(VMEXEC_IOC_GET_STATS):
		return vmexec_ioctl_get_stats(vf, uarg);
	case VMEXEC_IOC_NOSIZE(VMEXEC_IOC_CONTEXT):
		return vmexec_ioctl_context(vf, file, arg);
	case VMEXEC_IOC_NOSIZE(VMEXEC_IOC_MEM):
		return vmexec_ioctl_mem(vf, uarg);
	}
	return -ENOTTY;
}

static const struct file_operations vmexec_fops = {
	.owner		= THIS_MODULE,
	.open		= vmexec_open,
	.release	= vmexec_release,
	.unlocked_ioctl	= vmexec_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice vmexec_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "vmexec",
	.fops	= &vmexec_fops,
	.mode	= 0600,
};

static int __init vmexec_init(void)
{
	int err;

	err = vmexec_run_init();
	if (err)
		return err;
	err = vmexec_ksyms_init();
	if (err)
		goto fail_ksyms;
	err = vmexec_seccomp_init();
	if (err)
		goto fail_hooks;
	err = vmexec_hooks_init();
	if (err)
		goto fail_hooks;

	/* Last: from here on user space can reach us. */
	err = misc_register(&vmexec_misc);
	if (err)
		goto fail_misc;
	pr_info("version %s loaded\n", VMEXEC_VERSION);
	return 0;

fail_misc:
	vmexec_hooks_exit();
fail_hooks:
	vmexec_ksyms_exit();
fail_ksyms:
	vmexec_run_exit();
	return err;
}

static void __exit vmexec_exit(void)
{
	misc_deregister(&vmexec_misc);
	vmexec_mm_create_exit();
	vmexec_hooks_exit();
	vmexec_ksyms_exit();
	vmexec_run_exit();
}

module_init(vmexec_init);
module_exit(vmexec_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(VMEXEC_VERSION);
MODULE_AUTHOR("The vmexec developers");
MODULE_DESCRIPTION("Run system calls and code in another process's address space");
