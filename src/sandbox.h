/* sandbox: what sealtipd does to itself so that a bug in it, libmicrohttpd
 * or sqlite reaches as little as possible: no core dumps, an unprivileged
 * user, Landlock on the file system, and a seccomp allow-list. The calls go
 * in that order (docs/server.md, "Sandbox"). */
#ifndef SEALTIP_SANDBOX_H
#define SEALTIP_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

/* Set when the build carries AddressSanitizer, whose runtime needs more
 * system calls (ptrace for the leak check at exit) and /proc. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif
#ifndef SANDBOX_ASAN
#define SANDBOX_ASAN 0
#endif

#define SANDBOX_USER_NAME_MAX 64

struct sandbox_user {
	char name[SANDBOX_USER_NAME_MAX];
	uid_t uid;
	gid_t gid;
};

/* No core file, and not dumpable (no ptrace attach by the same uid, no
 * /proc/PID/mem): the process holds the log key and uploads in memory.
 * Returns 0, or -1 with errno set. */
int sandbox_no_core_dumps(void);

/* Looks up the user to run as. Returns 0, or -1 with a message in err. */
int sandbox_user_find(const char *name, struct sandbox_user *u, char *err, size_t errlen);

/* Run as root before sandbox_drop: makes the folder (mode 0700) owned by u
 * if missing; an existing one must already belong to u, so that every file
 * the server creates there is u's. Returns 0, or -1 with a message in err. */
int sandbox_dir_prepare(const char *path, const struct sandbox_user *u, char *err, size_t errlen);

/* Becomes u for good: its groups, gid, uid; checks that root cannot be
 * regained. Returns 0, or -1 with a message in err. */
int sandbox_drop(const struct sandbox_user *u, char *err, size_t errlen);

/* Landlock on this process and the threads it starts later: read-write
 * beneath datafd, read-only beneath webfd (-1: none), /dev/urandom
 * readable, nothing else; no TCP bind or connect where the kernel can say
 * so. Sets no_new_privs. Returns the Landlock ABI version applied (>= 1),
 * 0 if the kernel has no Landlock (nothing applied), or -1 with a message. */
int sandbox_landlock(int datafd, int webfd, char *err, size_t errlen);

/* Sets no_new_privs and loads the seccomp allow-list on every thread; any
 * other system call kills the process. Returns 0, or -1 with a message. */
int sandbox_seccomp(char *err, size_t errlen);

#endif
