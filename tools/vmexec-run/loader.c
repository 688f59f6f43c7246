// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * The loader: an address space for the program, filled with a static ELF
 * program, a stack, argv, envp and the auxiliary vector, through
 * VMEXEC_IOC_SYSCALLS and VMEXEC_IOC_MEM only (no ptrace, no code of ours
 * in it).
 *
 * By default the address space is a new, empty one that no process has
 * (VMEXEC_BIND_NEW_MM): it lives as long as the vmexec file, so nothing is
 * left to stop, kill or reap, and no pid names it. With --stub, or when the
 * module lacks VMEXEC_BIND_NEW_MM, a stub process lends its address space:
 * a fork of the tool that moves to its own process group (so terminal
 * signals never reach it), ignores every signal, asks for SIGKILL when the
 * tool dies, closes all its descriptors and stops itself for ever.
 *
 * Either way one SYSCALLS batch then unmaps the whole user address range
 * (a stub's copy of the tool, its stack, its vDSO; nothing in a new one),
 * maps a span for the ELF's PT_LOAD segments, pread()s them from the ELF
 * into place, sets each segment's protection, maps the stack; the stack
 * image is then written.
 *
 * AT_SYSINFO_EHDR is not given: there is no vDSO in the guest, so libc
 * falls back to real system calls (clock_gettime, gettimeofday, time,
 * getcpu), which the tool then sees.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vmrun.h"

#define MAX_PHDRS	64
#define STACK_DEFAULT	(8UL << 20)
#define STACK_MAX	(256UL << 20)

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ	51
#endif

/* PATH search as execvp() does it, each candidate seen through --bind. */
static int find_program(const char *name, char *out, size_t size)
{
	const char *path, *p;
	char cand[PATH_MAX];

	if (strchr(name, '/')) {
		if (path_map(name, out, size) < 0)
			return -ENAMETOOLONG;
		return 0;
	}
	path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; ) {
		const char *e = strchrnul(p, ':');
		int n = (int)(e - p);

		if (snprintf(cand, sizeof(cand), "%.*s%s%s", n, p, n ? "/" : "", name) <
		    (int)sizeof(cand) && path_map(cand, out, size) >= 0 &&
		    access(out, X_OK) == 0) {
			struct stat st;

			if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
				return 0;
		}
		if (!*e)
			break;
		p = e + 1;
	}
	return -ENOENT;
}

static void stub_main(pid_t parent)
{
	int s;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		_exit(1);
	setpgid(0, 0);
	for (s = 1; s <= NSIG_G; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_IGN);
	/* No descriptor of ours may outlive the tool's use of it (pipes' EOF). */
	syscall(SYS_close_range, 0, ~0U, 0);
	for (;;)
		raise(SIGSTOP);
}

static int stub_start(void)
{
	pid_t parent = getpid(), pid;
	int status;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		stub_main(parent);
	vr.stub = pid;
	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status))
		return -ECHILD;
	return 0;
}

/* A stub process's address space (--stub, or a module without NEW_MM). */
static int bind_stub(void)
{
	int ret = stub_start();

	if (ret < 0) {
		vr_msg("starting the stub process: %s", strerror(-ret));
		return ret;
	}
	ret = vmexec_bind_pid(vr.vfd, vr.stub);
	if (ret < 0)
		vr_msg("binding to the stub %d: %s", vr.stub, strerror(-ret));
	return ret;
}

/*
 * A new, empty address space that no process has, if the module can make
 * one: 1 if bound, 0 if the module lacks VMEXEC_BIND_NEW_MM, or -errno.
 */
static int bind_new_mm(void)
{
	int ret = vmexec_check_feature(vr.vfd, VMEXEC_FEATURE_BIND_NEW_MM);

	if (ret != 1) {
		if (vr.trace)
			vr_msg("the vmexec module has no VMEXEC_BIND_NEW_MM: "
			       "running the program in a stub process");
		return 0;
	}
	ret = vmexec_bind_new_mm(vr.vfd);
	if (ret < 0) {
		vr_msg("binding a new address space: %s", strerror(-ret));
		return ret;
	}
	return 1;
}

/* Open /dev/vmexec and bind it to the program's future address space. */
static int bind_address_space(void)
{
	int ret;

	vr.vfd = vmexec_open();
	if (vr.vfd < 0) {
		ret = vr.vfd;
		vr_msg("%s: %s%s", VMEXEC_DEVICE_PATH, strerror(-ret),
		       ret == -ENOENT ? " (is the vmexec module loaded?)" : "");
		return ret;
	}
	vr.vfd = fd_hide(vr.vfd);
	if (vr.vfd < 0) {
		vr_msg("%s: %s", VMEXEC_DEVICE_PATH, strerror(-vr.vfd));
		return vr.vfd;
	}
	/* The tool's own copies of guest memory (mem.c) need VMEXEC_IOC_MEM. */
	if (vmexec_check_feature(vr.vfd, VMEXEC_FEATURE_MEM) != 1) {
		vr_msg("the vmexec module has no VMEXEC_IOC_MEM (too old for this vmexec-run)");
		return -EOPNOTSUPP;
	}
	if (!vr.use_stub) {
		ret = bind_new_mm();
		if (ret)
			return ret < 0 ? ret : 0;
		vr.use_stub = true;
	}
	return bind_stub();
}

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_PHDRS];
	u64 bias, entry, phdr_addr, lo, hi;
};

static int read_elf(int fd, struct image *im, const char *name)
{
	int i, nload = 0;
	u64 lo = ~0ULL, hi = 0;

	if (pread(fd, &im->eh, sizeof(im->eh), 0) != sizeof(im->eh) ||
	    memcmp(im->eh.e_ident, ELFMAG, SELFMAG)) {
		vr_msg("%s: not an ELF file", name);
		return -ENOEXEC;
	}
	if (im->eh.e_ident[EI_CLASS] != ELFCLASS64 || im->eh.e_machine != EM_X86_64 ||
	    (im->eh.e_type != ET_EXEC && im->eh.e_type != ET_DYN)) {
		vr_msg("%s: not an x86-64 executable", name);
		return -ENOEXEC;
	}
	if (im->eh.e_phentsize != sizeof(Elf64_Phdr) || im->eh.e_phnum == 0 ||
	    im->eh.e_phnum > MAX_PHDRS ||
	    pread(fd, im->ph, im->eh.e_phnum * sizeof(Elf64_Phdr), im->eh.e_phoff) !=
	    (ssize_t)(im->eh.e_phnum * sizeof(Elf64_Phdr))) {
		vr_msg("%s: bad program headers", name);
		return -ENOEXEC;
	}
	for (i = 0; i < im->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];

		if (p->p_type == PT_INTERP) {
			vr_msg("%s: dynamically linked programs are not supported "
			       "(link it with -static)", name);
			return -ENOEXEC;
		}
		if (p->p_type != PT_LOAD)
			continue;
		if ((p->p_vaddr - p->p_offset) % PAGE_SIZE_G || p->p_filesz > p->p_memsz ||
		    p->p_vaddr + p->p_memsz < p->p_vaddr) {
			vr_msg("%s: bad PT_LOAD segment", name);
			return -ENOEXEC;
		}
		if (nload && p->p_vaddr < hi - PAGE_SIZE_G) {
			vr_msg("%s: PT_LOAD segments out of order", name);
			return -ENOEXEC;
		}
		nload++;
		if (PAGE_DOWN(p->p_vaddr) < lo)
			lo = PAGE_DOWN(p->p_vaddr);
		if (PAGE_UP(p->p_vaddr + p->p_memsz) > hi)
			hi = PAGE_UP(p->p_vaddr + p->p_memsz);
	}
	if (!nload) {
		vr_msg("%s: no PT_LOAD segment", name);
		return -ENOEXEC;
	}
	im->bias = im->eh.e_type == ET_DYN ? GUEST_PIE_BASE - lo : 0;
	im->lo = lo + im->bias;
	im->hi = hi + im->bias;
	if (im->lo < 0x10000 || im->hi > GUEST_STACK_TOP - STACK_MAX - (1UL << 30)) {
		vr_msg("%s: segments outside the usable address range", name);
		return -ENOEXEC;
	}
	im->entry = im->eh.e_entry + im->bias;
	im->phdr_addr = 0;
	for (i = 0; i < im->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];

		if (p->p_type == PT_PHDR)
			im->phdr_addr = p->p_vaddr + im->bias;
	}
	for (i = 0; i < im->eh.e_phnum && !im->phdr_addr; i++) {
		const Elf64_Phdr *p = &im->ph[i];

		if (p->p_type == PT_LOAD && p->p_offset <= im->eh.e_phoff &&
		    im->eh.e_phoff + im->eh.e_phnum * sizeof(Elf64_Phdr) <=
		    p->p_offset + p->p_filesz)
			im->phdr_addr = p->p_vaddr + (im->eh.e_phoff - p->p_offset) + im->bias;
	}
	return 0;
}

static int prot_of(u32 flags)
{
	return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) |
	       ((flags & PF_X) ? PROT_EXEC : 0);
}

static u64 stack_size(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_STACK, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return STACK_DEFAULT;
	if (rl.rlim_cur > STACK_MAX)
		return STACK_MAX;
	if (rl.rlim_cur < (128UL << 10))
		return 128UL << 10;
	return PAGE_UP(rl.rlim_cur);
}

/* Empty the address space and map the program and its stack, in one batch. */
static int map_image(int elf, const struct image *im, u64 stack_len)
{
	struct vmexec_syscall c[4 + 4 * MAX_PHDRS];
	const char *what[4 + 4 * MAX_PHDRS];
	u64 prev_end = 0;
	int prev_prot = 0;
	unsigned int n = 0, i;
	int done, k;

#define ADD(desc, ...) do { what[n] = desc; vmexec_prep_syscall(&c[n++], __VA_ARGS__); } while (0)
	ADD("munmap the whole user address range", SYS_munmap, 0, GUEST_TASK_END, 0, 0, 0, 0);
	ADD("mmap the program's span", SYS_mmap, im->lo, im->hi - im->lo, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	for (k = 0; k < im->eh.e_phnum; k++) {
		const Elf64_Phdr *p = &im->ph[k];

		if (p->p_type == PT_LOAD && p->p_filesz)
			ADD("pread a segment", SYS_pread64, elf, p->p_vaddr + im->bias,
			    p->p_filesz, p->p_offset, 0, 0);
	}
	for (k = 0; k < im->eh.e_phnum; k++) {
		const Elf64_Phdr *p = &im->ph[k];
		u64 s = PAGE_DOWN(p->p_vaddr) + im->bias;
		u64 e = PAGE_UP(p->p_vaddr + p->p_memsz) + im->bias;
		int prot = prot_of(p->p_flags);

		if (p->p_type != PT_LOAD)
			continue;
		if (prev_end > s) {
			/* A page shared with the previous segment gets both rights. */
			ADD("mprotect a shared page", SYS_mprotect, s, prev_end - s,
			    prot | prev_prot, 0, 0, 0);
			if (e > prev_end)
				ADD("mprotect a segment", SYS_mprotect, prev_end, e - prev_end,
				    prot, 0, 0, 0);
		} else {
			if (prev_end && s > prev_end)
				ADD("munmap a gap", SYS_munmap, prev_end, s - prev_end, 0, 0, 0, 0);
			ADD("mprotect a segment", SYS_mprotect, s, e - s, prot, 0, 0, 0);
		}
		if (e > prev_end) {
			prev_end = e;
			prev_prot = prot;
		}
	}
	ADD("mmap the stack", SYS_mmap, GUEST_STACK_TOP - stack_len, stack_len,
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE |
	    MAP_NORESERVE, -1, 0);
#undef ADD
	done = gsys_batch(c, n);
	for (i = 0; i < n; i++) {
		if (i >= (unsigned int)done) {
			vr_msg("loading: %s: not run", what[i]);
			return -EIO;
		}
		if (c[i].ret < 0) {
			vr_msg("loading: %s: %s", what[i], strerror((int)-c[i].ret));
			return (int)c[i].ret;
		}
	}
	return 0;
}

struct strtab {
	char *buf;
	size_t len, cap;
};

/* The initial stack: argc, argv, envp, auxv, and the strings above them. */
static int build_stack(const struct image *im, const char *execfn, char *const argv[],
		       char *const envp[], u64 stack_len, u64 *sp_out)
{
	int argc = 0, envc = 0, i, naux = 0;
	size_t strsize = 0, tabsize, total;
	u64 top = GUEST_STACK_TOP - 16, strbase, sp, pos;
	u64 aux[2 * 32];
	unsigned char rnd[16];
	char *img;
	u64 *tab;
	u64 rnd_addr, plat_addr, execfn_addr;
	int ret;

	for (argc = 0; argv[argc]; argc++)
		strsize += strlen(argv[argc]) + 1;
	for (envc = 0; envp[envc]; envc++)
		strsize += strlen(envp[envc]) + 1;
	strsize += strlen(execfn) + 1 + sizeof("x86_64") + sizeof(rnd);
	strbase = (top - strsize) & ~15UL;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;

	/* Strings: random bytes, platform, argv, envp, execfn (top). */
	img = calloc(1, strsize + 16);
	if (!img)
		return -ENOMEM;
	pos = 0;
	memcpy(img + pos, rnd, sizeof(rnd));
	rnd_addr = strbase + pos;
	pos += sizeof(rnd);
	memcpy(img + pos, "x86_64", sizeof("x86_64"));
	plat_addr = strbase + pos;
	pos += sizeof("x86_64");

#define AUX(k, v) do { aux[naux++] = (k); aux[naux++] = (v); } while (0)
	AUX(AT_HWCAP, getauxval(AT_HWCAP));
	AUX(AT_PAGESZ, PAGE_SIZE_G);
	AUX(AT_CLKTCK, getauxval(AT_CLKTCK) ? getauxval(AT_CLKTCK) : 100);
	AUX(AT_PHDR, im->phdr_addr);
	AUX(AT_PHENT, sizeof(Elf64_Phdr));
	AUX(AT_PHNUM, im->eh.e_phnum);
	AUX(AT_BASE, 0);
	AUX(AT_FLAGS, 0);
	AUX(AT_ENTRY, im->entry);
	AUX(AT_UID, getuid());
	AUX(AT_EUID, geteuid());
	AUX(AT_GID, getgid());
	AUX(AT_EGID, getegid());
	AUX(AT_SECURE, 0);
	AUX(AT_RANDOM, rnd_addr);
	AUX(AT_HWCAP2, getauxval(AT_HWCAP2));
	AUX(AT_PLATFORM, plat_addr);
	if (getauxval(AT_MINSIGSTKSZ))
		AUX(AT_MINSIGSTKSZ, getauxval(AT_MINSIGSTKSZ));
	execfn_addr = 0;	/* set below, once known */
	AUX(AT_EXECFN, 0);
	AUX(AT_NULL, 0);
#undef AUX

	tabsize = (1 + argc + 1 + envc + 1 + naux) * sizeof(u64);
	sp = (strbase - tabsize) & ~15UL;
	if (GUEST_STACK_TOP - sp > stack_len / 2) {
		free(img);
		vr_msg("arguments and environment too large");
		return -E2BIG;
	}
	total = top - sp;
	{
		char *all = calloc(1, total);

		if (!all) {
			free(img);
			return -ENOMEM;
		}
		tab = (u64 *)all;
		i = 0;
		tab[i++] = argc;
		for (int a = 0; a < argc; a++) {
			size_t l = strlen(argv[a]) + 1;

			memcpy(img + pos, argv[a], l);
			tab[i++] = strbase + pos;
			pos += l;
		}
		tab[i++] = 0;
		for (int e = 0; e < envc; e++) {
			size_t l = strlen(envp[e]) + 1;

			memcpy(img + pos, envp[e], l);
			tab[i++] = strbase + pos;
			pos += l;
		}
		tab[i++] = 0;
		memcpy(img + pos, execfn, strlen(execfn) + 1);
		execfn_addr = strbase + pos;
		aux[naux - 3] = execfn_addr;
		memcpy(&tab[i], aux, naux * sizeof(u64));
		memcpy(all + (strbase - sp), img, strsize);
		ret = mem_write(sp, all, total);
		free(all);
	}
	free(img);
	if (ret)
		return ret;
	*sp_out = sp;
	return 0;
}

int load_program(const char *name, char *const argv[], char *const envp[])
{
	char host[PATH_MAX], real[PATH_MAX];
	struct image im;
	u64 sp = 0, stack_len = stack_size();
	const char *base;
	int fd, ret;

	ret = find_program(name, host, sizeof(host));
	if (ret < 0) {
		vr_msg("%s: %s", name, strerror(-ret));
		return EXIT_NOT_FOUND;
	}
	fd = open(host, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = errno;
		vr_msg("%s: %s", name, strerror(ret));
		return ret == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
	}
	fd = fd_hide(fd);
	if (fd < 0 || read_elf(fd, &im, name) < 0) {
		close(fd);
		return EXIT_CANNOT_RUN;
	}
	vr.exe = strdup(realpath(host, real) ? real : host);
	base = strrchr(name, '/');
	snprintf(vr.comm, sizeof(vr.comm), "%s", base ? base + 1 : name);

	ret = bind_address_space();
	if (ret < 0)
		goto fail;
	ret = map_image(fd, &im, stack_len);
	if (ret < 0)
		goto fail;
	ret = build_stack(&im, name, argv, envp, stack_len, &sp);
	if (ret < 0) {
		vr_msg("writing the initial stack: %s", strerror(-ret));
		goto fail;
	}
	close(fd);

	vr.brk_start = vr.brk_cur = vr.brk_end = im.hi;
	vmexec_run_prep(&vr.run, im.entry, sp);
	vr.run.xstate = (u64)(uintptr_t)vr.xstate;
	vr.run.xstate_size = vr.xstate_size;
	return 0;
fail:
	close(fd);
	return EXIT_TOOL_ERROR;
}
