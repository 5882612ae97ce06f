#include <sys/statvfs.h>

#include "quota.h"
#include "spool.h"

void
quota_init(struct quota *q, const struct config *cfg, int datafd, uint64_t stored)
{
	pthread_mutex_init(&q->lock, NULL);
	q->cfg = cfg;
	q->datafd = datafd;
	q->stored = stored;
	q->bytes_held = 0;
	q->disk_held = 0;
	q->uploads = 0;
}

void
quota_free(struct quota *q)
{
	pthread_mutex_destroy(&q->lock);
}

/* A sum that saturates instead of wrapping: the settings may be anything up
 * to 2^64 - 1, and a saturated sum is refused like any too large one. */
static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t
quota_disk_need(uint64_t len)
{
	/* The envelope's blob pages, once in the WAL and once in the database
	 * file when the WAL is checkpointed (the WAL is reused, not shrunk).
	 * An overflow page carries 4 bytes less than its size and a WAL frame
	 * has a 24-byte header: len / 128 covers both with room to spare. */
	uint64_t copy = add_sat(add_sat(len, len / 128), QUOTA_ROW_OVERHEAD_BYTES);
	uint64_t need = add_sat(copy, copy);

	/* Small bodies stay in memory and never reach a spool file. */
	if (len > SPOOL_MEMORY_BYTES)
		need = add_sat(need, len);
	return need;
}

static int
free_bytes(const struct quota *q, uint64_t *out)
{
	struct statvfs st;

	if (fstatvfs(q->datafd, &st) == -1)
		return -1;
	/* f_bavail: what an unprivileged writer may use, the cautious figure. */
	if (st.f_frsize != 0 && st.f_bavail > UINT64_MAX / st.f_frsize)
		*out = UINT64_MAX;
	else
		*out = (uint64_t)st.f_bavail * st.f_frsize;
	return 0;
}

enum quota_verdict
quota_admit(struct quota *q, uint64_t len, struct quota_ticket *t)
{
	const struct config *cfg = q->cfg;
	enum quota_verdict v = QUOTA_OK;
	uint64_t disk = quota_disk_need(len), avail = 0;

	t->held = 0;
	t->receiving = 0;
	pthread_mutex_lock(&q->lock);
	if (cfg->max_stored_bytes > 0 &&
	    add_sat(add_sat(q->stored, q->bytes_held), len) > cfg->max_stored_bytes) {
		v = QUOTA_NO_ROOM;
		goto done;
	}
	/* Space already written by uploads in flight is counted twice (in
	 * what statvfs no longer sees free and in disk_held): cautious, and
	 * it is only until they end. */
	if (free_bytes(q, &avail) == -1) {
		v = QUOTA_STATFS_FAILED;
		goto done;
	}
	if (avail < add_sat(add_sat(q->disk_held, disk), cfg->disk_reserve_bytes)) {
		v = QUOTA_DISK_FULL;
		goto done;
	}
	if (q->uploads >= cfg->max_uploads) {
		v = QUOTA_BUSY;
		goto done;
	}
	q->bytes_held += len;
	q->disk_held += disk;
	q->uploads++;
	t->len = len;
	t->disk = disk;
	t->held = 1;
	t->receiving = 1;
done:
	pthread_mutex_unlock(&q->lock);
	return v;
}

void
quota_stored(struct quota *q, struct quota_ticket *t, uint64_t size)
{
	pthread_mutex_lock(&q->lock);
	q->stored = add_sat(q->stored, size);
	if (t->held) {
		q->bytes_held -= t->len;
		t->len = 0;
	}
	pthread_mutex_unlock(&q->lock);
}

void
quota_received(struct quota *q, struct quota_ticket *t)
{
	if (!t->receiving)
		return;
	pthread_mutex_lock(&q->lock);
	q->uploads--;
	pthread_mutex_unlock(&q->lock);
	t->receiving = 0;
}

void
quota_release(struct quota *q, struct quota_ticket *t)
{
	if (!t->held)
		return;
	pthread_mutex_lock(&q->lock);
	q->bytes_held -= t->len;
	q->disk_held -= t->disk;
	if (t->receiving)
		q->uploads--;
	pthread_mutex_unlock(&q->lock);
	t->held = 0;
	t->receiving = 0;
}
