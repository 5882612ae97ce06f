/* sandbox: core dumps off, the run-as user, Landlock and seccomp for
 * sealtipd. The system call list was found by tracing the integration tests
 * (strace -f) and is explained in docs/server.md, "Sandbox". */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

/* Rights newer than Debian 12's kernel headers (values from the kernel's
 * include/uapi/linux/landlock.h). */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* The ruleset attribute as of ABI 6; the kernel takes the size given, and
 * older kernels accept the longer struct while the newer fields are zero. */
struct sandbox_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define SANDBOX_FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* The database, its WAL and journal, spool files (O_TMPFILE), the log key
 * (temp name then rename in the same folder): no folders, links or devices. */
#define SANDBOX_FS_DATA                                                                            \
	(SANDBOX_FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_FILE |        \
	    LANDLOCK_ACCESS_FS_MAKE_REG)
/* sqlite seeds its generator from here if it ever needs to reseed. */
#define SANDBOX_RANDOM_DEVICE "/dev/urandom"

/* What the server itself calls, with glibc, sqlite, libmicrohttpd (poll,
 * eventfd; not epoll, which sealtipd does not ask it for) and libsodium (getrandom, mlock for sodium_malloc). Names
 * unknown on the architecture are skipped. No socket, connect, bind,
 * listen, execve, fork, ptrace, mount, setuid or kill: the listening socket
 * is open before the filter. */
/* Grouped by purpose, several to a line. */
/* clang-format off */
static const char *const sandbox_allowed[] = {
	/* files */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "lseek",
	"close", "openat", "open", "fstat", "newfstatat", "stat", "lstat", "statx", "fstatfs",
	"statfs", "fsync", "fdatasync", "ftruncate", "fcntl", "unlink", "unlinkat", "rename",
	"renameat", "renameat2", "fchown", "fchmod", "access", "faccessat", "faccessat2",
	"getcwd", "readlink", "readlinkat", "getdents64", "flock", "umask", "sendfile",
	/* memory */
	"mmap", "munmap", "mremap", "mprotect", "madvise", "brk", "mlock", "munlock", "mlock2",
	/* threads, time, signals */
	"futex", "set_robust_list", "get_robust_list", "rseq", "exit", "exit_group", "gettid",
	"getpid", "sched_yield", "sched_getaffinity", "nanosleep", "clock_nanosleep",
	"clock_gettime", "clock_getres", "gettimeofday", "time", "restart_syscall",
	"rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack",
	"prlimit64", "getrlimit", "getrandom", "geteuid", "getuid", "getegid", "getgid",
	"membarrier",
	/* connections on the already listening socket */
	"accept4", "accept", "recvfrom", "recvmsg", "sendto", "sendmsg", "shutdown",
	"setsockopt", "getsockopt", "getsockname", "getpeername", "eventfd2", "pipe2", "poll",
	"ppoll", "select", "pselect6",
};

/* The AddressSanitizer runtime's leak check at exit stops the threads with
 * ptrace from a clone()d helper that reads /proc/self/task. */
static const char *const sandbox_allowed_asan[] = {
	"ptrace", "wait4", "waitid", "getppid", "sched_getparam", "prctl", "dup", "dup2", "dup3",
	"kill", "tgkill", "tkill", "mincore", "process_vm_readv", "clone", "clone3", "uname",
	"getdents", "ioctl",
};
/* clang-format on */

int
sandbox_no_core_dumps(void)
{
	struct rlimit none = {0, 0};

	if (setrlimit(RLIMIT_CORE, &none) == -1 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return -1;
	return 0;
}

int
sandbox_user_find(const char *name, struct sandbox_user *u, char *err, size_t errlen)
{
	struct passwd *pw;

	if (strlen(name) >= sizeof u->name) {
		snprintf(err, errlen, "--user %s: the name is too long", name);
		return -1;
	}
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		/* getpwnam(3): these all mean "not found", depending on NSS. */
		if (errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF ||
		    errno == EPERM)
			snprintf(err, errlen, "--user %s: no such user", name);
		else
			snprintf(err, errlen, "--user %s: %s", name, strerror(errno));
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "--user %s: has uid or gid 0, which is root's", name);
		return -1;
	}
	snprintf(u->name, sizeof u->name, "%s", name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

int
sandbox_dir_prepare(const char *path, const struct sandbox_user *u, char *err, size_t errlen)
{
	struct stat st;
	int fd = -1, created = 0, rc = -1;

	if (mkdir(path, 0700) == 0)
		created = 1;
	else if (errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    (created && fchown(fd, u->uid, u->gid) == -1) || fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (st.st_uid != u->uid) {
		snprintf(err, errlen, "%s: owned by uid %u, not by %s (chown -R %s %s)", path,
		    (unsigned)st.st_uid, u->name, u->name, path);
		goto done;
	}
	rc = 0;
done:
	if (fd != -1)
		close(fd);
	return rc;
}

int
sandbox_drop(const struct sandbox_user *u, char *err, size_t errlen)
{
	if (initgroups(u->name, u->gid) == -1 || setgid(u->gid) == -1 || setuid(u->uid) == -1) {
		snprintf(
		    err, errlen, "--user %s: cannot change to it: %s", u->name, strerror(errno));
		return -1;
	}
	/* Saved ids included: setuid as root sets all three. */
	if (setuid(0) != -1 || seteuid(0) != -1 || getuid() != u->uid || geteuid() != u->uid ||
	    getgid() != u->gid || getegid() != u->gid) {
		snprintf(
		    err, errlen, "--user %s: root could be regained after the change", u->name);
		return -1;
	}
	return 0;
}

static int
landlock_allow(int ruleset, int dirfd, uint64_t access)
{
	struct landlock_path_beneath_attr rule;

	memset(&rule, 0, sizeof rule);
	rule.allowed_access = access;
	rule.parent_fd = dirfd;
	return (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
}

int
sandbox_landlock(int datafd, int webfd, char *err, size_t errlen)
{
	struct sandbox_ruleset_attr attr;
	uint64_t fs_all, fs_data;
	long abi;
	int ruleset = -1, fd = -1, rc = -1;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		if (errno == ENOSYS || errno == EOPNOTSUPP)
			return 0;
		snprintf(err, errlen, "Landlock: %s", strerror(errno));
		return -1;
	}
	/* Every right this kernel knows is handled, so all but the rules below
	 * is denied; a right it does not know cannot be asked for. */
	fs_all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	fs_data = SANDBOX_FS_DATA;
	memset(&attr, 0, sizeof attr);
	if (abi >= 2)
		fs_all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3) {
		fs_all |= LANDLOCK_ACCESS_FS_TRUNCATE;
		fs_data |= LANDLOCK_ACCESS_FS_TRUNCATE;
	}
	if (abi >= 4)
		attr.handled_access_net =
		    LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
	if (abi >= 5)
		fs_all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi >= 6)
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
	attr.handled_access_fs = fs_all;
	if ((ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)) == -1) {
		snprintf(err, errlen, "Landlock ruleset: %s", strerror(errno));
		goto done;
	}
	if (landlock_allow(ruleset, datafd, fs_data) == -1 ||
	    (webfd != -1 && landlock_allow(ruleset, webfd, SANDBOX_FS_READ) == -1)) {
		snprintf(err, errlen, "Landlock rule: %s", strerror(errno));
		goto done;
	}
	if ((fd = open(SANDBOX_RANDOM_DEVICE, O_PATH | O_CLOEXEC)) == -1 ||
	    landlock_allow(ruleset, fd, LANDLOCK_ACCESS_FS_READ_FILE) == -1) {
		snprintf(err, errlen, "Landlock rule for %s: %s", SANDBOX_RANDOM_DEVICE,
		    strerror(errno));
		goto done;
	}
	close(fd);
	fd = -1;
	if (SANDBOX_ASAN) {
		if ((fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1 ||
		    landlock_allow(ruleset, fd, SANDBOX_FS_READ) == -1) {
			snprintf(err, errlen, "Landlock rule for /proc: %s", strerror(errno));
			goto done;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(SYS_landlock_restrict_self, ruleset, 0) == -1) {
		snprintf(err, errlen, "Landlock: %s", strerror(errno));
		goto done;
	}
	rc = (int)abi;
done:
	if (fd != -1)
		close(fd);
	if (ruleset != -1)
		close(ruleset);
	return rc;
}

static int
seccomp_allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	int nr;

	for (size_t i = 0; i < n; i++) {
		if ((nr = seccomp_syscall_resolve_name(names[i])) == __NR_SCMP_ERROR)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
			return -1;
	}
	return 0;
}

int
sandbox_seccomp(char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int rc = -1, bad = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(err, errlen, "seccomp: cannot make a filter");
		return -1;
	}
	bad |= seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0;
	bad |= seccomp_allow_names(
		   ctx, sandbox_allowed, sizeof sandbox_allowed / sizeof sandbox_allowed[0]) == -1;
	if (SANDBOX_ASAN) {
		bad |= seccomp_allow_names(ctx, sandbox_allowed_asan,
			   sizeof sandbox_allowed_asan / sizeof sandbox_allowed_asan[0]) == -1;
	} else {
		/* Threads only, never a new process: clone with CLONE_THREAD, and
		 * clone3 (whose flags sit in memory a filter cannot read) answers
		 * ENOSYS so glibc falls back to clone. The only prctl is the thread
		 * name libmicrohttpd sets. */
		bad |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			   SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) < 0;
		bad |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0;
		/* Spelled out: SCMP_A0 with one datum leaves datum_b to an implicit
		 * zero, which clang's -Wextra names. */
		bad |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
			   (struct scmp_arg_cmp){.arg = 0, .op = SCMP_CMP_EQ,
			       .datum_a = PR_SET_NAME, .datum_b = 0}) < 0;
	}
	if (bad || seccomp_load(ctx) < 0) {
		snprintf(err, errlen, "seccomp: the filter could not be built or loaded");
		goto done;
	}
	rc = 0;
done:
	seccomp_release(ctx);
	return rc;
}
