/* The worker's seccomp filter (libseccomp). */
#ifndef LABWATCH_SANDBOX_H
#define LABWATCH_SANDBOX_H

/*
 * Allows the system calls the worker makes and nothing else: any other
 * fails with EPERM, and those that would let code that took over the
 * worker leave it (exec, ptrace, mounts, namespaces, module loading, BPF)
 * kill the process.  0, or -1 when the filter cannot be loaded.
 */
int	sandbox_enter(void);

#endif
