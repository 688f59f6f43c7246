/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The code every benchmark variant runs: one shape, hand-written so that no
 * libc code (and no libc system call) sits inside a timed loop.
 *
 * The intercepted system call is number 123 (setfsgid on x86-64, never made
 * by this program otherwise); the interceptor must make it return 456.
 */
	.text

/*
 * long bench_loop_local(long n): n times "syscall(123) must return 456".
 * Returns the count left: 0 when every call returned 456.
 */
	.globl	bench_loop_local
	.type	bench_loop_local, @function
bench_loop_local:
	push	%r12
	mov	%rdi, %r12
1:	mov	$123, %eax
	syscall
	cmp	$456, %rax
	jne	2f
	dec	%r12
	jnz	1b
2:	mov	%r12, %rax
	pop	%r12
	ret
	.size	bench_loop_local, . - bench_loop_local

/*
 * long bench_loop_sud(long n, volatile char *selector): the same loop for
 * Syscall User Dispatch. The selector is set to BLOCK before each call; the
 * SIGSYS handler sets it to ALLOW, so that its rt_sigreturn goes through.
 */
	.globl	bench_loop_sud
	.type	bench_loop_sud, @function
bench_loop_sud:
	push	%r12
	mov	%rdi, %r12
1:	movb	$1, (%rsi)
	mov	$123, %eax
	syscall
	cmp	$456, %rax
	jne	2f
	dec	%r12
	jnz	1b
2:	mov	%r12, %rax
	pop	%r12
	ret
	.size	bench_loop_sud, . - bench_loop_sud

/* long bench_getppid_loop(long n, long ppid): n raw getppid() == ppid. */
	.globl	bench_getppid_loop
	.type	bench_getppid_loop, @function
bench_getppid_loop:
	push	%r12
	mov	%rdi, %r12
1:	mov	$110, %eax
	syscall
	cmp	%rsi, %rax
	jne	2f
	dec	%r12
	jnz	1b
2:	mov	%r12, %rax
	pop	%r12
	ret
	.size	bench_getppid_loop, . - bench_getppid_loop

/*
 * Guest code for the supervisor variants (vmexec RUN, PTRACE_SYSEMU),
 * entered with %r12 = n. The same loop as bench_loop_local; at the end it
 * makes syscall 60 with the count left in %rdi, which the supervisor sees
 * as the guest's last exit (under RUN and SYSEMU it is never executed).
 */
	.globl	bench_remote_loop
	.type	bench_remote_loop, @function
bench_remote_loop:
1:	mov	$123, %eax
	syscall
	cmp	$456, %rax
	jne	2f
	dec	%r12
	jnz	1b
2:	mov	$60, %eax
	mov	%r12, %rdi
	syscall
	ud2
	.size	bench_remote_loop, . - bench_remote_loop

/*
 * void bench_stop_then_remote(long n, long pid): for a PTRACE_TRACEME child.
 * kill(pid, SIGSTOP) by hand (no libc after the stop), then the loop above.
 */
	.globl	bench_stop_then_remote
	.type	bench_stop_then_remote, @function
bench_stop_then_remote:
	mov	%rdi, %r12
	mov	%rsi, %rdi
	mov	$19, %esi
	mov	$62, %eax
	syscall
	jmp	bench_remote_loop
	.size	bench_stop_then_remote, . - bench_stop_then_remote

/*
 * Fault loop, entered with %rbx = first page, %r12 = n: writes %r12 into
 * n consecutive pages (each one is unmapped until the supervisor maps it
 * after the fault), then syscall 60 with the count left (0).
 */
	.globl	bench_fault_loop
	.type	bench_fault_loop, @function
bench_fault_loop:
1:	mov	%r12, (%rbx)
	add	$4096, %rbx
	dec	%r12
	jnz	1b
	mov	$60, %eax
	mov	%r12, %rdi
	syscall
	ud2
	.size	bench_fault_loop, . - bench_fault_loop

/* void bench_stop_then_fault(long n, long pid, void *base) */
	.globl	bench_stop_then_fault
	.type	bench_stop_then_fault, @function
bench_stop_then_fault:
	mov	%rdi, %r12
	mov	%rdx, %rbx
	mov	%rsi, %rdi
	mov	$19, %esi
	mov	$62, %eax
	syscall
	jmp	bench_fault_loop
	.size	bench_stop_then_fault, . - bench_stop_then_fault

/* A syscall instruction followed by a breakpoint: ptrace's injection gadget. */
	.globl	bench_syscall_int3
	.type	bench_syscall_int3, @function
bench_syscall_int3:
	syscall
	int3
	.size	bench_syscall_int3, . - bench_syscall_int3

	.section .note.GNU-stack, "", @progbits

	.text
/*
 * F. Guest code: %r12 = n, %r13 = fd, %r14 = buffer. n times read(fd, buf,
 * 1) must return 1; then syscall 60 with the count left in %rdi.
 */
	.globl	bench_remote_read
	.type	bench_remote_read, @function
bench_remote_read:
1:	xor	%eax, %eax
	mov	%r13, %rdi
	mov	%r14, %rsi
	mov	$1, %edx
	syscall
	cmp	$1, %rax
	jne	2f
	dec	%r12
	jnz	1b
2:	mov	$60, %eax
	mov	%r12, %rdi
	syscall
	ud2
	.size	bench_remote_read, . - bench_remote_read

/* long bench_read_local(long n, long fd, void *buf): the same, natively. */
	.globl	bench_read_local
	.type	bench_read_local, @function
bench_read_local:
	push	%r12
	push	%r13
	push	%r14
	mov	%rdi, %r12
	mov	%rsi, %r13
	mov	%rdx, %r14
1:	xor	%eax, %eax
	mov	%r13, %rdi
	mov	%r14, %rsi
	mov	$1, %edx
	syscall
	cmp	$1, %rax
	jne	2f
	dec	%r12
	jnz	1b
2:	mov	%r12, %rax
	pop	%r14
	pop	%r13
	pop	%r12
	ret
	.size	bench_read_local, . - bench_read_local
