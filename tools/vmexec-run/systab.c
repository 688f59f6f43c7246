// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * The syscall table: one entry per x86-64 system call the guest may make,
 * with its name, the decoders --trace uses for its arguments, its handler
 * and flags. A number without an entry is unsupported: ENOSYS, with a
 * message the first time. And the dispatcher that runs one entry for a
 * VMEXEC_EXIT_SYSCALL, with --deny, --trace and restarts after signals.
 *
 * Handlers (sys_fs.c, sys_proc.c): h_pass runs the call as it is in the
 * guest's address space (VMEXEC_IOC_SYSCALLS); h_pass_fd0 checks the
 * descriptor in the first argument first; h_native runs the call in the
 * tool (no pointer arguments); the others emulate or copy.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include "vmrun.h"

H(h_pass); H(h_pass_fd0); H(h_native); H(h_native_fd0); H(h_native_fd01);
H(h_close); H(h_close_range); H(h_dup); H(h_dup2); H(h_dup3); H(h_fcntl);
H(h_pipe); H(h_pipe2); H(h_eventfd2); H(h_memfd_create); H(h_ioctl);
H(h_open); H(h_creat); H(h_openat); H(h_stat); H(h_lstat); H(h_newfstatat);
H(h_statx); H(h_access); H(h_faccessat); H(h_faccessat2); H(h_readlink);
H(h_readlinkat); H(h_path0); H(h_path1_at); H(h_path01); H(h_path_at2);
H(h_symlink); H(h_symlinkat); H(h_utimensat); H(h_utimes); H(h_utime);
H(h_statfs); H(h_fstatfs); H(h_getcwd); H(h_sendfile); H(h_copy_splice);
H(h_poll); H(h_ppoll); H(h_select); H(h_pselect6); H(h_mmap);
H(h_exit); H(h_getpid); H(h_set_tid_address); H(h_set_robust_list);
H(h_nosys); H(h_eopnotsupp); H(h_echild); H(h_brk); H(h_arch_prctl);
H(h_prctl); H(h_uname); H(h_getrandom); H(h_clock_gettime);
H(h_clock_getres); H(h_gettimeofday); H(h_time); H(h_nanosleep);
H(h_clock_nanosleep); H(h_getitimer); H(h_setitimer); H(h_sysinfo);
H(h_times); H(h_getrusage); H(h_sched_getaffinity); H(h_getcpu);
H(h_getgroups); H(h_setgroups); H(h_getres_ids); H(h_prlimit64);
H(h_getrlimit); H(h_setrlimit); H(h_futex); H(h_kill); H(h_tgkill);
H(h_tkill); H(h_rt_sigaction); H(h_rt_sigprocmask); H(h_rt_sigpending);
H(h_rt_sigsuspend); H(h_pause); H(h_sigaltstack); H(h_rt_sigreturn);

#define E(nr, nm, fn, fl, ...) [nr] = { nm, fn, fl, { __VA_ARGS__ } }
/*
 * An entry whose handler runs the call through VMEXEC_IOC_SYSCALLS: it does
 * not compile if the module's allow-list (the uapi header) lacks the call.
 */
#define P(nr, nm, fn, fl, ...) \
	[(nr) + 0 * (int)sizeof(char[VMEXEC_CALL_ALLOWED(nr) ? 1 : -1])] = \
		{ nm, fn, fl, { __VA_ARGS__ } }
#define R F_RESTART
#define X F_RET_HEX
#define MP "multi-process programs are out of scope"

const struct sysent systab[SYSTAB_SIZE] = {
	/* Data between descriptors and guest memory: pass-through. */
	P(SYS_read, "read", h_pass_fd0, R, A_FD, A_BUFOUT, A_UINT),
	P(SYS_write, "write", h_pass_fd0, R, A_FD, A_BUFIN, A_UINT),
	P(SYS_pread64, "pread64", h_pass_fd0, R, A_FD, A_BUFOUT, A_UINT, A_LONG),
	P(SYS_pwrite64, "pwrite64", h_pass_fd0, R, A_FD, A_BUFIN, A_UINT, A_LONG),
	P(SYS_readv, "readv", h_pass_fd0, R, A_FD, A_IOV, A_INT),
	P(SYS_writev, "writev", h_pass_fd0, R, A_FD, A_IOV, A_INT),
	P(SYS_preadv, "preadv", h_pass_fd0, R, A_FD, A_IOV, A_INT, A_LONG),
	P(SYS_pwritev, "pwritev", h_pass_fd0, R, A_FD, A_IOV, A_INT, A_LONG),
	P(SYS_preadv2, "preadv2", h_pass_fd0, R, A_FD, A_IOV, A_INT, A_LONG, A_HEX),
	P(SYS_pwritev2, "pwritev2", h_pass_fd0, R, A_FD, A_IOV, A_INT, A_LONG, A_HEX),
	P(SYS_getdents64, "getdents64", h_pass_fd0, 0, A_FD, A_PTR, A_UINT),
	P(SYS_fstat, "fstat", h_pass_fd0, 0, A_FD, A_STATBUF),
	P(SYS_vmsplice, "vmsplice", h_pass_fd0, R, A_FD, A_IOV, A_UINT, A_HEX),

	/* Paths: pass-through unless --bind rewrites them. */
	E(SYS_open, "open", h_open, R, A_PATH, A_OFLAGS, A_OMODE),
	E(SYS_openat, "openat", h_openat, R, A_DIRFD, A_PATH, A_OFLAGS, A_OMODE),
	E(SYS_creat, "creat", h_creat, R, A_PATH, A_MODE),
	E(SYS_stat, "stat", h_stat, 0, A_PATH, A_STATBUF),
	E(SYS_lstat, "lstat", h_lstat, 0, A_PATH, A_STATBUF),
	E(SYS_newfstatat, "newfstatat", h_newfstatat, 0, A_DIRFD, A_PATH, A_STATBUF, A_ATFLAGS),
	E(SYS_statx, "statx", h_statx, 0, A_DIRFD, A_PATH, A_ATFLAGS, A_HEX, A_PTR),
	E(SYS_access, "access", h_access, 0, A_PATH, A_ACCMODE),
	E(SYS_faccessat, "faccessat", h_faccessat, 0, A_DIRFD, A_PATH, A_ACCMODE),
	E(SYS_faccessat2, "faccessat2", h_faccessat2, 0, A_DIRFD, A_PATH, A_ACCMODE, A_ATFLAGS),
	E(SYS_readlink, "readlink", h_readlink, 0, A_PATH, A_BUFOUT, A_UINT),
	E(SYS_readlinkat, "readlinkat", h_readlinkat, 0, A_DIRFD, A_PATH, A_BUFOUT, A_UINT),

	/* Paths the tool resolves and runs itself. */
	E(SYS_chdir, "chdir", h_path0, 0, A_PATH),
	E(SYS_mkdir, "mkdir", h_path0, 0, A_PATH, A_MODE),
	E(SYS_rmdir, "rmdir", h_path0, 0, A_PATH),
	E(SYS_unlink, "unlink", h_path0, 0, A_PATH),
	E(SYS_chmod, "chmod", h_path0, 0, A_PATH, A_MODE),
	E(SYS_chown, "chown", h_path0, 0, A_PATH, A_INT, A_INT),
	E(SYS_lchown, "lchown", h_path0, 0, A_PATH, A_INT, A_INT),
	E(SYS_truncate, "truncate", h_path0, 0, A_PATH, A_LONG),
	E(SYS_mknod, "mknod", h_path0, 0, A_PATH, A_MODE, A_HEX),
	E(SYS_chroot, "chroot", h_path0, 0, A_PATH),
	E(SYS_mkdirat, "mkdirat", h_path1_at, 0, A_DIRFD, A_PATH, A_MODE),
	E(SYS_mknodat, "mknodat", h_path1_at, 0, A_DIRFD, A_PATH, A_MODE, A_HEX),
	E(SYS_unlinkat, "unlinkat", h_path1_at, 0, A_DIRFD, A_PATH, A_ATFLAGS),
	E(SYS_fchmodat, "fchmodat", h_path1_at, 0, A_DIRFD, A_PATH, A_MODE),
	E(SYS_fchownat, "fchownat", h_path1_at, 0, A_DIRFD, A_PATH, A_INT, A_INT, A_ATFLAGS),
	E(SYS_rename, "rename", h_path01, 0, A_PATH, A_PATH),
	E(SYS_link, "link", h_path01, 0, A_PATH, A_PATH),
	E(SYS_renameat, "renameat", h_path_at2, 0, A_DIRFD, A_PATH, A_DIRFD, A_PATH),
	E(SYS_renameat2, "renameat2", h_path_at2, 0, A_DIRFD, A_PATH, A_DIRFD, A_PATH, A_HEX),
	E(SYS_linkat, "linkat", h_path_at2, 0, A_DIRFD, A_PATH, A_DIRFD, A_PATH, A_ATFLAGS),
	E(SYS_symlink, "symlink", h_symlink, 0, A_PATH, A_PATH),
	E(SYS_symlinkat, "symlinkat", h_symlinkat, 0, A_PATH, A_DIRFD, A_PATH),
	E(SYS_utimensat, "utimensat", h_utimensat, 0, A_DIRFD, A_PATH, A_PTR, A_ATFLAGS),
	E(SYS_utimes, "utimes", h_utimes, 0, A_PATH, A_PTR),
	E(SYS_utime, "utime", h_utime, 0, A_PATH, A_PTR),
	E(SYS_statfs, "statfs", h_statfs, 0, A_PATH, A_PTR),
	E(SYS_getcwd, "getcwd", h_getcwd, 0, A_BUFOUT, A_UINT),

	/* Descriptors, run by the tool on its own (shared) table. */
	E(SYS_close, "close", h_close, 0, A_FD),
	E(SYS_close_range, "close_range", h_close_range, 0, A_UINT, A_UINT, A_HEX),
	E(SYS_dup, "dup", h_dup, 0, A_FD),
	E(SYS_dup2, "dup2", h_dup2, 0, A_FD, A_FD),
	E(SYS_dup3, "dup3", h_dup3, 0, A_FD, A_FD, A_OFLAGS),
	E(SYS_fcntl, "fcntl", h_fcntl, R, A_FD, A_FCNTL, A_HEX),
	E(SYS_pipe, "pipe", h_pipe, 0, A_PIPEFDS),
	E(SYS_pipe2, "pipe2", h_pipe2, 0, A_PIPEFDS, A_OFLAGS),
	E(SYS_eventfd2, "eventfd2", h_eventfd2, 0, A_UINT, A_HEX),
	E(SYS_memfd_create, "memfd_create", h_memfd_create, 0, A_STR, A_HEX),
	E(SYS_ioctl, "ioctl", h_ioctl, R, A_FD, A_IOCTL, A_PTR),
	E(SYS_lseek, "lseek", h_native_fd0, 0, A_FD, A_LONG, A_WHENCE),
	E(SYS_fchdir, "fchdir", h_native_fd0, 0, A_FD),
	E(SYS_fchmod, "fchmod", h_native_fd0, 0, A_FD, A_MODE),
	E(SYS_fchown, "fchown", h_native_fd0, 0, A_FD, A_INT, A_INT),
	E(SYS_ftruncate, "ftruncate", h_native_fd0, 0, A_FD, A_LONG),
	E(SYS_fsync, "fsync", h_native_fd0, 0, A_FD),
	E(SYS_fdatasync, "fdatasync", h_native_fd0, 0, A_FD),
	E(SYS_syncfs, "syncfs", h_native_fd0, 0, A_FD),
	E(SYS_flock, "flock", h_native_fd0, R, A_FD, A_HEX),
	E(SYS_fadvise64, "fadvise64", h_native_fd0, 0, A_FD, A_LONG, A_LONG, A_INT),
	E(SYS_readahead, "readahead", h_native_fd0, 0, A_FD, A_LONG, A_UINT),
	E(SYS_fallocate, "fallocate", h_native_fd0, 0, A_FD, A_HEX, A_LONG, A_LONG),
	E(SYS_sync_file_range, "sync_file_range", h_native_fd0, 0, A_FD, A_LONG, A_LONG, A_HEX),
	E(SYS_tee, "tee", h_native_fd01, R, A_FD, A_FD, A_UINT, A_HEX),
	E(SYS_fstatfs, "fstatfs", h_fstatfs, 0, A_FD, A_PTR),
	E(SYS_sendfile, "sendfile", h_sendfile, R, A_FD, A_FD, A_PTR, A_UINT),
	E(SYS_copy_file_range, "copy_file_range", h_copy_splice, R, A_FD, A_PTR, A_FD, A_PTR,
	  A_UINT, A_HEX),
	E(SYS_splice, "splice", h_copy_splice, R, A_FD, A_PTR, A_FD, A_PTR, A_UINT, A_HEX),
	E(SYS_poll, "poll", h_poll, 0, A_PTR, A_UINT, A_INT),
	E(SYS_ppoll, "ppoll", h_ppoll, 0, A_PTR, A_UINT, A_TIMESPEC, A_SIGSET, A_UINT),
	E(SYS_select, "select", h_select, 0, A_INT, A_PTR, A_PTR, A_PTR, A_PTR),
	E(SYS_pselect6, "pselect6", h_pselect6, 0, A_INT, A_PTR, A_PTR, A_PTR, A_TIMESPEC, A_PTR),
	E(SYS_sync, "sync", h_native, 0, A_NONE),
	E(SYS_umask, "umask", h_native, 0, A_OCT),

	/* Memory: pass-through; brk emulated with mmap. */
	E(SYS_mmap, "mmap", h_mmap, X, A_PTR, A_UINT, A_PROT, A_MFLAGS, A_FD, A_HEX),
	P(SYS_munmap, "munmap", h_pass, 0, A_PTR, A_UINT),
	P(SYS_mprotect, "mprotect", h_pass, 0, A_PTR, A_UINT, A_PROT),
	P(SYS_mremap, "mremap", h_pass, X, A_PTR, A_UINT, A_UINT, A_HEX, A_PTR),
	P(SYS_madvise, "madvise", h_pass, 0, A_PTR, A_UINT, A_INT),
	P(SYS_msync, "msync", h_pass, 0, A_PTR, A_UINT, A_HEX),
	P(SYS_mincore, "mincore", h_pass, 0, A_PTR, A_UINT, A_PTR),
	P(SYS_mlock, "mlock", h_pass, 0, A_PTR, A_UINT),
	P(SYS_munlock, "munlock", h_pass, 0, A_PTR, A_UINT),
	P(SYS_mlock2, "mlock2", h_pass, 0, A_PTR, A_UINT, A_HEX),
	P(SYS_pkey_mprotect, "pkey_mprotect", h_pass, 0, A_PTR, A_UINT, A_PROT, A_INT),
	E(SYS_brk, "brk", h_brk, X, A_PTR),

	/* The process: emulated. */
	E(SYS_exit, "exit", h_exit, F_NORETURN, A_INT),
	E(SYS_exit_group, "exit_group", h_exit, F_NORETURN, A_INT),
	E(SYS_getpid, "getpid", h_getpid, 0, A_NONE),
	E(SYS_gettid, "gettid", h_getpid, 0, A_NONE),
	E(SYS_set_tid_address, "set_tid_address", h_set_tid_address, 0, A_PTR),
	E(SYS_set_robust_list, "set_robust_list", h_set_robust_list, 0, A_PTR, A_UINT),
	E(SYS_rseq, "rseq", h_nosys, 0, A_PTR, A_UINT, A_HEX, A_HEX),
	E(SYS_arch_prctl, "arch_prctl", h_arch_prctl, 0, A_ARCHPRCTL, A_HEX),
	E(SYS_prctl, "prctl", h_prctl, 0, A_PRCTL, A_HEX, A_HEX, A_HEX, A_HEX),
	E(SYS_uname, "uname", h_uname, 0, A_PTR),
	E(SYS_getrandom, "getrandom", h_getrandom, R, A_BUFOUT, A_UINT, A_RANDFLAGS),
	E(SYS_prlimit64, "prlimit64", h_prlimit64, 0, A_INT, A_RLIMIT, A_PTR, A_PTR),
	E(SYS_getrlimit, "getrlimit", h_getrlimit, 0, A_RLIMIT, A_PTR),
	E(SYS_setrlimit, "setrlimit", h_setrlimit, 0, A_RLIMIT, A_PTR),
	E(SYS_futex, "futex", h_futex, 0, A_PTR, A_INT, A_INT, A_PTR, A_PTR, A_INT),
	E(SYS_personality, "personality", h_native, 0, A_HEX),
	E(SYS_wait4, "wait4", h_echild, 0, A_INT, A_PTR, A_HEX, A_PTR),
	E(SYS_waitid, "waitid", h_echild, 0, A_INT, A_INT, A_PTR, A_HEX, A_PTR),
	E(SYS_clone, "clone", NULL, F_UNSUPP, A_HEX, A_PTR, A_PTR, A_PTR, A_HEX),
	E(SYS_clone3, "clone3", NULL, F_UNSUPP, A_PTR, A_UINT),
	E(SYS_fork, "fork", NULL, F_UNSUPP, A_NONE),
	E(SYS_vfork, "vfork", NULL, F_UNSUPP, A_NONE),
	E(SYS_execve, "execve", NULL, F_UNSUPP, A_PATH, A_PTR, A_PTR),
	E(SYS_execveat, "execveat", NULL, F_UNSUPP, A_DIRFD, A_PATH, A_PTR, A_PTR, A_HEX),
	E(SYS_getxattr, "getxattr", h_eopnotsupp, 0, A_PATH, A_STR, A_PTR, A_UINT),
	E(SYS_lgetxattr, "lgetxattr", h_eopnotsupp, 0, A_PATH, A_STR, A_PTR, A_UINT),
	E(SYS_fgetxattr, "fgetxattr", h_eopnotsupp, 0, A_FD, A_STR, A_PTR, A_UINT),
	E(SYS_listxattr, "listxattr", h_eopnotsupp, 0, A_PATH, A_PTR, A_UINT),
	E(SYS_llistxattr, "llistxattr", h_eopnotsupp, 0, A_PATH, A_PTR, A_UINT),
	E(SYS_flistxattr, "flistxattr", h_eopnotsupp, 0, A_FD, A_PTR, A_UINT),

	/* Identity: the tool's own. */
	E(SYS_getuid, "getuid", h_native, 0, A_NONE),
	E(SYS_geteuid, "geteuid", h_native, 0, A_NONE),
	E(SYS_getgid, "getgid", h_native, 0, A_NONE),
	E(SYS_getegid, "getegid", h_native, 0, A_NONE),
	E(SYS_getppid, "getppid", h_native, 0, A_NONE),
	E(SYS_getpgrp, "getpgrp", h_native, 0, A_NONE),
	E(SYS_getpgid, "getpgid", h_native, 0, A_INT),
	E(SYS_getsid, "getsid", h_native, 0, A_INT),
	E(SYS_setpgid, "setpgid", h_native, 0, A_INT, A_INT),
	E(SYS_setsid, "setsid", h_native, 0, A_NONE),
	E(SYS_setuid, "setuid", h_native, 0, A_INT),
	E(SYS_setgid, "setgid", h_native, 0, A_INT),
	E(SYS_setreuid, "setreuid", h_native, 0, A_INT, A_INT),
	E(SYS_setregid, "setregid", h_native, 0, A_INT, A_INT),
	E(SYS_setresuid, "setresuid", h_native, 0, A_INT, A_INT, A_INT),
	E(SYS_setresgid, "setresgid", h_native, 0, A_INT, A_INT, A_INT),
	E(SYS_setfsuid, "setfsuid", h_native, 0, A_INT),
	E(SYS_setfsgid, "setfsgid", h_native, 0, A_INT),
	E(SYS_getresuid, "getresuid", h_getres_ids, 0, A_PTR, A_PTR, A_PTR),
	E(SYS_getresgid, "getresgid", h_getres_ids, 0, A_PTR, A_PTR, A_PTR),
	E(SYS_getgroups, "getgroups", h_getgroups, 0, A_INT, A_PTR),
	E(SYS_setgroups, "setgroups", h_setgroups, 0, A_INT, A_PTR),
	E(SYS_getpriority, "getpriority", h_native, 0, A_INT, A_INT),
	E(SYS_setpriority, "setpriority", h_native, 0, A_INT, A_INT, A_INT),
	E(SYS_sched_yield, "sched_yield", h_native, 0, A_NONE),
	E(SYS_sched_getaffinity, "sched_getaffinity", h_sched_getaffinity, 0, A_INT, A_UINT,
	  A_PTR),
	E(SYS_getcpu, "getcpu", h_getcpu, 0, A_PTR, A_PTR, A_PTR),

	/* Time. */
	E(SYS_clock_gettime, "clock_gettime", h_clock_gettime, 0, A_CLOCK, A_PTR),
	E(SYS_clock_getres, "clock_getres", h_clock_getres, 0, A_CLOCK, A_PTR),
	E(SYS_gettimeofday, "gettimeofday", h_gettimeofday, 0, A_PTR, A_PTR),
	E(SYS_time, "time", h_time, 0, A_PTR),
	E(SYS_nanosleep, "nanosleep", h_nanosleep, 0, A_TIMESPEC, A_PTR),
	E(SYS_clock_nanosleep, "clock_nanosleep", h_clock_nanosleep, 0, A_CLOCK, A_HEX,
	  A_TIMESPEC, A_PTR),
	E(SYS_getitimer, "getitimer", h_getitimer, 0, A_INT, A_PTR),
	E(SYS_setitimer, "setitimer", h_setitimer, 0, A_INT, A_PTR, A_PTR),
	E(SYS_alarm, "alarm", h_native, 0, A_UINT),
	E(SYS_sysinfo, "sysinfo", h_sysinfo, 0, A_PTR),
	E(SYS_times, "times", h_times, 0, A_PTR),
	E(SYS_getrusage, "getrusage", h_getrusage, 0, A_INT, A_PTR),

	/* Signals: guest state. */
	E(SYS_rt_sigaction, "rt_sigaction", h_rt_sigaction, 0, A_SIG, A_SIGACT, A_PTR, A_UINT),
	E(SYS_rt_sigprocmask, "rt_sigprocmask", h_rt_sigprocmask, 0, A_SIGHOW, A_SIGSET, A_PTR,
	  A_UINT),
	E(SYS_rt_sigpending, "rt_sigpending", h_rt_sigpending, 0, A_PTR, A_UINT),
	E(SYS_rt_sigsuspend, "rt_sigsuspend", h_rt_sigsuspend, 0, A_SIGSET, A_UINT),
	E(SYS_rt_sigreturn, "rt_sigreturn", h_rt_sigreturn, F_NOREG, A_NONE),
	E(SYS_sigaltstack, "sigaltstack", h_sigaltstack, 0, A_PTR, A_PTR),
	E(SYS_pause, "pause", h_pause, 0, A_NONE),
	E(SYS_kill, "kill", h_kill, 0, A_INT, A_SIG),
	E(SYS_tgkill, "tgkill", h_tgkill, 0, A_INT, A_INT, A_SIG),
	E(SYS_tkill, "tkill", h_tkill, 0, A_INT, A_SIG),
};

/* Names for numbers without an entry, for messages and --deny. */
static const char *const other_names[SYSTAB_SIZE] = {
	[SYS_socket] = "socket", [SYS_connect] = "connect", [SYS_accept] = "accept",
	[SYS_sendto] = "sendto", [SYS_recvfrom] = "recvfrom", [SYS_sendmsg] = "sendmsg",
	[SYS_recvmsg] = "recvmsg", [SYS_shutdown] = "shutdown", [SYS_bind] = "bind",
	[SYS_listen] = "listen", [SYS_socketpair] = "socketpair",
	[SYS_setsockopt] = "setsockopt", [SYS_getsockopt] = "getsockopt",
	[SYS_getdents] = "getdents", [SYS_ptrace] = "ptrace", [SYS_mount] = "mount",
	[SYS_umount2] = "umount2", [SYS_epoll_create1] = "epoll_create1",
	[SYS_epoll_ctl] = "epoll_ctl", [SYS_epoll_wait] = "epoll_wait",
	[SYS_epoll_pwait] = "epoll_pwait", [SYS_timer_create] = "timer_create",
	[SYS_timerfd_create] = "timerfd_create", [SYS_signalfd4] = "signalfd4",
	[SYS_inotify_init1] = "inotify_init1", [SYS_rt_sigtimedwait] = "rt_sigtimedwait",
	[SYS_rt_sigqueueinfo] = "rt_sigqueueinfo", [SYS_membarrier] = "membarrier",
	[SYS_io_uring_setup] = "io_uring_setup", [SYS_pidfd_open] = "pidfd_open",
	[SYS_seccomp] = "seccomp", [SYS_unshare] = "unshare", [SYS_setns] = "setns",
	[SYS_sethostname] = "sethostname", [SYS_reboot] = "reboot",
	[SYS_restart_syscall] = "restart_syscall", [SYS_get_robust_list] = "get_robust_list",
	[SYS_sched_setaffinity] = "sched_setaffinity", [SYS_capget] = "capget",
	[SYS_capset] = "capset", [SYS_mlockall] = "mlockall", [SYS_munlockall] = "munlockall",
	[SYS_ioprio_get] = "ioprio_get", [SYS_ioprio_set] = "ioprio_set",
};

static const char *sys_name(long nr)
{
	if (nr < 0 || nr >= SYSTAB_SIZE)
		return NULL;
	return systab[nr].name ? systab[nr].name : other_names[nr];
}

int sys_lookup(const char *name)
{
	int nr;

	for (nr = 0; nr < SYSTAB_SIZE; nr++) {
		const char *n = sys_name(nr);

		if (n && !strcmp(n, name))
			return nr;
	}
	return -1;
}

static void unsupported(long nr, const char *why)
{
	static unsigned char said[SYSTAB_SIZE];
	const char *name = sys_name(nr);

	if (nr >= 0 && nr < SYSTAB_SIZE) {
		if (said[nr])
			return;
		said[nr] = 1;
	}
	if (name)
		vr_msg("%s: system call %s is not supported (%s): ENOSYS", vr.prog, name, why);
	else
		vr_msg("%s: system call %ld is not supported (%s): ENOSYS", vr.prog, nr, why);
}

/* A VMEXEC_EXIT_SYSCALL: run the call and set the guest's result. */
long sys_dispatch(void)
{
	struct vmexec_run *run = &vr.run;
	long nr = (long)run->exit.syscall.nr;
	u64 a[ARGS_MAX];
	const struct sysent *e = NULL;
	const char *note = NULL;
	long ret;

	memcpy(a, run->exit.syscall.args, sizeof(a));
	if (nr >= 0 && nr < SYSTAB_SIZE && (systab[nr].name || other_names[nr]))
		e = &systab[nr];

	if (run->exit.syscall.abi != VMEXEC_ABI_SYSCALL64) {
		static bool said;

		if (!said)
			vr_msg("%s: 32-bit system calls (int $0x80, sysenter) are not supported: "
			       "ENOSYS", vr.prog);
		said = true;
		ret = -ENOSYS;
		e = NULL;
		note = "32-bit system call";
	} else if (nr >= 0 && nr < SYSTAB_SIZE && (vr.deny[nr / 64] & (1ULL << (nr % 64)))) {
		ret = -EPERM;
		note = "denied by --deny";
	} else if (!e || !e->fn) {
		bool mp = e && (e->flags & F_UNSUPP);

		unsupported(nr, mp ? MP : "not implemented by vmexec-run");
		ret = -ENOSYS;
		note = mp ? MP : "not supported by vmexec-run";
	} else {
		if ((e->flags & F_NORETURN) && vr.trace)
			trace_syscall(nr, e, a, 0, NULL);
		ret = e->fn(nr, a);
		if (e->flags & F_NOREG) {
			if (vr.trace)
				trace_syscall(nr, e, a, ret, NULL);
			return ret;
		}
	}

	/* Interrupted by a signal for the guest: restart or report EINTR. */
	if (ret == -EINTR) {
		int s;

		sig_collect();
		s = sig_handler_deliverable();
		if (!s ? true : (e && (e->flags & F_RESTART) && (vr.act[s].flags & SA_RESTART))) {
			if (vr.trace)
				trace_syscall(nr, e && e->name ? e : NULL, a, -512, NULL);
			run->regs.rip -= 2;
			run->regs.rax = nr;
			return ret;
		}
	}
	if (vr.trace)
		trace_syscall(nr, e && e->name ? e : NULL, a, ret, note);
	run->regs.rax = (u64)ret;
	return ret;
}
