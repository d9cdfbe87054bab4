/* The worker's seccomp filter. */
#include <seccomp.h>

#include <errno.h>
#include <stddef.h>

#include "log.h"
#include "sandbox.h"

/* What the worker uses: I/O, memory, time, sockets, its files. */
static const char *allowed[] = {
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close",
	"openat", "open", "newfstatat", "fstat", "stat", "lstat", "statx",
	"lseek", "fcntl", "dup", "dup2", "dup3", "ioctl", "readlink", "getcwd",
	"statfs", "fstatfs", "fadvise64", "inotify_init1", "inotify_add_watch",
	"inotify_rm_watch", "name_to_handle_at",
	"readlinkat", "getdents64", "faccessat", "faccessat2", "access",
	"mkdir", "mkdirat", "rename", "renameat", "renameat2", "unlink",
	"unlinkat", "ftruncate", "fsync", "fdatasync", "flock", "umask",
	"mmap", "munmap", "mremap", "mprotect", "madvise", "brk",
	"futex", "set_robust_list", "rseq", "sched_yield", "sched_getaffinity",
	"clock_gettime", "clock_getres", "gettimeofday", "time",
	"nanosleep", "clock_nanosleep",
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
	"epoll_pwait", "poll", "ppoll", "select", "pselect6",
	"eventfd2", "pipe", "pipe2", "timerfd_create", "timerfd_settime",
	"socket", "socketpair", "connect", "bind", "listen", "accept4",
	"getsockopt", "setsockopt", "getsockname", "getpeername",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
	"shutdown",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid",
	"getegid", "getresuid", "getresgid", "getgroups", "uname",
	"getrandom", "getrlimit", "prlimit64", "getrusage", "sysinfo",
	"kill", "tgkill", "exit", "exit_group", "restart_syscall",
	"prctl", "arch_prctl", "clone", "wait4", "sched_getparam",
	"sched_getscheduler",
};

/* Ways out of the sandbox: the process dies on the spot. */
static const char *deadly[] = {
	"execve", "execveat", "ptrace", "process_vm_readv",
	"process_vm_writev", "mount", "umount2", "pivot_root", "chroot",
	"unshare", "setns", "init_module", "finit_module", "delete_module",
	"kexec_load", "bpf", "perf_event_open", "keyctl", "add_key",
	"request_key", "setuid", "setgid", "setreuid", "setregid",
	"setresuid", "setresgid", "setgroups", "capset", "personality",
	"userfaultfd", "fanotify_init", "open_by_handle_at",
};

int
sandbox_enter(void)
{
	scmp_filter_ctx	ctx;
	size_t		i;
	int		nr, rc = -1;

#if defined(__SANITIZE_ADDRESS__)
	/*
	 * make SANITIZE=1 (tests only): LeakSanitizer's exit check needs
	 * what the filter forbids; the unprivileged worker stays.
	 */
	log_warnx("sanitizer build: no seccomp filter");
	return 0;
#endif
	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL)
		return -1;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if ((nr = seccomp_syscall_resolve_name(allowed[i])) !=
		    __NR_SCMP_ERROR &&
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
			goto done;
	for (i = 0; i < sizeof(deadly) / sizeof(deadly[0]); i++)
		if ((nr = seccomp_syscall_resolve_name(deadly[i])) !=
		    __NR_SCMP_ERROR &&
		    seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0) != 0)
			goto done;
	rc = seccomp_load(ctx) == 0 ? 0 : -1;
done:
	if (rc == -1)
		log_warnx("seccomp filter not loaded");
	seccomp_release(ctx);
	return rc;
}
