#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interrupt.h"
#include "resolve.h"

/* Shared by the caller and the lookup thread; the last of the two to let go
 * frees it, since a caller that gave up is not there when the lookup ends. */
struct resolve_job {
	atomic_int holders;
	int done_pipe[2]; /* the thread writes a byte once result and rc are set */
	char *host, *port;
	struct addrinfo hints, *result;
	int rc, saved_errno;
};

static void
resolve_release(struct resolve_job *job)
{
	if (atomic_fetch_sub(&job->holders, 1) != 1)
		return;
	if (job->result != NULL)
		freeaddrinfo(job->result);
	close(job->done_pipe[0]);
	close(job->done_pipe[1]);
	free(job->host);
	free(job->port);
	free(job);
}

static void *
resolve_thread(void *arg)
{
	struct resolve_job *job = arg;
	const char done = 1;
	ssize_t written;

	job->rc = getaddrinfo(job->host, job->port, &job->hints, &job->result);
	job->saved_errno = errno;
	/* The pipe has room for the one byte, so this cannot block; the
	 * caller's read of it orders the stores above before its use. */
	written = write(job->done_pipe[1], &done, 1);
	(void)written;
	resolve_release(job);
	return NULL;
}

int
resolve_name(const char *host, const char *port, const struct addrinfo *hints,
    int timeout_ms, struct addrinfo **result)
{
	struct resolve_job *job;
	pthread_t thread;
	char done;
	int rc = EAI_SYSTEM, err, saved;

	*result = NULL;
	if ((job = calloc(1, sizeof *job)) == NULL)
		return EAI_MEMORY;
	job->done_pipe[0] = job->done_pipe[1] = -1;
	atomic_init(&job->holders, 1);
	job->hints = *hints;
	if ((job->host = strdup(host)) == NULL || (job->port = strdup(port)) == NULL) {
		rc = EAI_MEMORY;
		goto out;
	}
	if (pipe2(job->done_pipe, O_CLOEXEC) == -1)
		goto out;
	/* Created with the caller's mask, so the caught signals stay blocked
	 * on the lookup thread and reach only interrupt_wait. */
	atomic_fetch_add(&job->holders, 1);
	if ((err = pthread_create(&thread, NULL, resolve_thread, job)) != 0) {
		atomic_fetch_sub(&job->holders, 1);
		errno = err;
		goto out;
	}
	if (interrupt_wait(job->done_pipe[0], POLLIN, timeout_ms) == -1) {
		/* ETIMEDOUT or EINTR: the thread finishes alone. */
		saved = errno;
		(void)pthread_detach(thread);
		errno = saved;
		goto out;
	}
	/* Done but for letting go: joined, so that the pipe is closed by the
	 * time this returns, not some moment later. */
	(void)pthread_join(thread, NULL);
	if (read(job->done_pipe[0], &done, 1) != 1) {
		errno = EIO;
		goto out;
	}
	rc = job->rc;
	if (rc == 0) {
		*result = job->result;
		job->result = NULL;
	} else if (rc == EAI_SYSTEM)
		errno = job->saved_errno;
out:
	saved = errno;
	resolve_release(job);
	errno = saved;
	return rc;
}
