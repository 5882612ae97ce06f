#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "writer.h"

struct writer {
	struct store *store;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;	 /* jobs queued or stop asked */
	pthread_cond_t finished; /* some job's done() returned */
	struct writer_job *head, **tail;
	int stopping;
	uint64_t next_idx;
	uint64_t commits, rows;
};

/* The day in UTC: the only time the database keeps. */
static void
today(char out[STORE_DAY_BYTES + 1])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, STORE_DAY_BYTES + 1, "%Y-%m-%d", &tm);
}

/* One transaction for the whole batch; a row that fails is undone alone. */
static void
writer_commit_batch(struct writer *w, struct writer_job *batch)
{
	struct writer_job *j;
	char day[STORE_DAY_BYTES + 1];
	uint64_t idx = w->next_idx, n = 0;
	int ok;

	today(day);
	ok = store_begin(w->store) == 0;
	if (!ok)
		fprintf(
		    stderr, "sealtipd: cannot begin a transaction: %s\n", store_errmsg(w->store));
	for (j = batch; ok && j != NULL; j = j->next) {
		j->row.idx = idx;
		snprintf(j->row.day, sizeof j->row.day, "%s", day);
		j->stored = store_insert(w->store, &j->row, j->mem, j->fd) == 0;
		if (j->stored) {
			idx++;
			n++;
		} else {
			fprintf(stderr, "sealtipd: a report could not be stored: %s\n",
			    store_errmsg(w->store));
		}
	}
	if (ok && store_commit(w->store) != 0) {
		fprintf(stderr, "sealtipd: commit failed: %s\n", store_errmsg(w->store));
		store_rollback(w->store);
		ok = 0;
	}
	if (ok) {
		w->next_idx = idx;
		w->commits++;
		w->rows += n;
	} else {
		for (j = batch; j != NULL; j = j->next)
			j->stored = 0;
		/* Re-read the index: what failed left no row behind. */
		if (store_next_index(w->store, &w->next_idx) != 0)
			fprintf(stderr, "sealtipd: cannot read the next index\n");
	}
	for (j = batch; j != NULL; j = j->next)
		if (j->stored)
			printf("sealtipd: report %llu stored, %llu bytes\n",
			    (unsigned long long)j->row.idx, (unsigned long long)j->row.size);
	fflush(stdout);
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct writer_job *batch, *j, *next;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->head == NULL)
			break;
		batch = w->head;
		w->head = NULL;
		w->tail = &w->head;
		/* Uploads finishing during this commit queue up for the next one. */
		pthread_mutex_unlock(&w->lock);
		writer_commit_batch(w, batch);
		for (j = batch; j != NULL; j = next) {
			next = j->next;
			j->done(j);
			/* j may be freed as soon as finished is seen. */
			pthread_mutex_lock(&w->lock);
			j->finished = 1;
			pthread_cond_broadcast(&w->finished);
			pthread_mutex_unlock(&w->lock);
		}
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int
writer_start(struct writer **out, struct store *s)
{
	struct writer *w;

	*out = NULL;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return -1;
	w->store = s;
	w->tail = &w->head;
	if (store_next_index(s, &w->next_idx) != 0)
		goto fail;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->finished, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->wake);
		pthread_cond_destroy(&w->finished);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	free(w);
	return -1;
}

void
writer_submit(struct writer *w, struct writer_job *job)
{
	pthread_mutex_lock(&w->lock);
	job->next = NULL;
	job->finished = 0;
	job->stored = 0;
	*w->tail = job;
	w->tail = &job->next;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void
writer_wait(struct writer *w, struct writer_job *job)
{
	pthread_mutex_lock(&w->lock);
	while (!job->finished)
		pthread_cond_wait(&w->finished, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void
writer_stats(struct writer *w, uint64_t *commits, uint64_t *rows)
{
	pthread_mutex_lock(&w->lock);
	*commits = w->commits;
	*rows = w->rows;
	pthread_mutex_unlock(&w->lock);
}

void
writer_stop(struct writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->finished);
	free(w);
}
