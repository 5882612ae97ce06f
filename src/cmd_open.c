/* sealtip open: decrypts envelopes and export files on the offline machine,
 * each report into its own folder under DIR. A report folder appears whole or
 * not at all: everything is written in a hidden temp folder that is renamed
 * into place last, without replacing anything. Attachment names are rewritten
 * by safename. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include <sodium.h>

#include "decimal.h"
#include "envelope.h"
#include "exportfile.h"
#include "fileio.h"
#include "formdef.h"
#include "interrupt.h"
#include "note.h"
#include "tlog.h"
#include "keyfile.h"
#include "manifest.h"
#include "passphrase.h"
#include "payload.h"
#include "relay.h"
#include "report.h"
#include "safename.h"
#include "status.h"
#include "tool.h"

static const char open_usage[] =
    "usage: sealtip open -k FILE.key [--passphrase-file FILE] [--labels FILE.json]\n"
    "                    [--verifier-key KEY | --verifier-key-file FILE]\n"
    "                    -o DIR INPUT...\n";

static const char open_help[] =
    "\n"
    "Decrypts envelopes and export files (sealtip export, fetch) on the offline\n"
    "machine. An envelope opens into DIR/<its name without .env>/, each report of\n"
    "an export file into DIR/report-<index, 6 digits>/ (report-000042):\n"
    "report.txt, report.json, files/. A report appears whole or not at all;\n"
    "interrupted (^C, SIGTERM), open removes the one being written and dies of\n"
    "the signal. What a run killed outright (SIGKILL, a power cut) left in DIR\n"
    "(.sealtip-open-*) the next run into DIR removes, unread, and says so.\n"
    "\n"
    "  -k, --key FILE.key        investigator secret key\n"
    "      --passphrase-file F   read the key's passphrase from F (else asked on\n"
    "                            the terminal)\n"
    "      --verifier-key KEY    the log's published verifier key <name>+<id>+<key>:\n"
    "                            an export's checkpoint must be signed by it (else\n"
    "                            the key remembered in DIR/.sealtip-log, else the\n"
    "                            file's own, trusted on first use with a warning)\n"
    "      --verifier-key-file F the same, from the first line of F\n"
    "      --labels FILE.json    question labels in another language\n"
    "                            (web/i18n/*.json)\n"
    "  -o, --output DIR          folder for the reports (created if missing)\n"
    "  -h, --help                show this help\n";

/* Large reads let the envelope reader open whole chunks in place. */
#define OPEN_READ_BYTES (1u << 20)
/* An envelope known to be smaller is opened on one thread: a relay (its
 * thread and 4 MiB of locked memory) costs more than a second core saves
 * on so little, about 2 ms a report, the better part of an export of small
 * ones (docs/open.md). */
#define OPEN_RELAY_MIN_BYTES (1u << 20)
#define OPEN_UNVERIFIED_SUFFIX ".UNVERIFIED"
/* A report being built: DIR/.sealtip-open-<16 hex digits>, a folder. */
#define OPEN_STAGING_PREFIX ".sealtip-open-"
#define OPEN_STAGING_HEX 16
/* How long a run waits for DIR's lock held exclusively: by a run sweeping,
 * which takes moments; longer means another program holds it (sealtipd
 * holds its data folder's). */
#define OPEN_LOCK_WAIT_SECONDS 10
/* What DIR remembers of the log between exports (docs/export.md). */
#define OPEN_LOG_STATE ".sealtip-log"
#define OPEN_LOG_STATE_MAX 4096
/* Held exclusively by the run opening an export into DIR, from reading
 * .sealtip-log to saving it: another run's export waits its turn. */
#define OPEN_LOG_LOCK ".sealtip-log.lock"

/* What every report of one run shares. */
struct open_job {
	const char *outdir;
	int outdirfd;
	const struct keyfile_secret *sk;
	const struct formdef *def;
	const char *verifier_key; /* --verifier-key, or NULL */
};

/* DIR/.sealtip-log: the log key trusted for DIR, the last checkpoint
 * verified and the highest index an export delivered into DIR. */
struct log_state {
	int present;
	char key[NOTE_VERIFIER_KEY_MAX];
	uint64_t size;
	unsigned char root[TLOG_HASH_BYTES];
	int have_last;
	uint64_t last;
};

/* One envelope being opened. */
struct open_report {
	const char *label;      /* names it in messages: input, or input + entry */
	uint64_t entry;         /* an export's: its log index, to name it again in label */
	char name[SAFENAME_SIZE]; /* its folder under DIR */
	int status;             /* first envelope error, sticky */
	struct envelope_open *envelope;
	struct relay *relay;
	int outdirfd;           /* DIR, borrowed */
	int tmpdirfd;           /* DIR/.sealtip-open-*, the report folder being built */
	int filesfd;            /* its files/ */
	char tmpname[64];
	struct fileio_atomic current; /* the attachment being written */
	int current_open;
	size_t nfiles;
	struct report_file *results;
	unsigned char *manifest_raw; /* plaintext: sodium_malloc */
	size_t manifest_raw_len;
	int mismatches;
	int write_errno;        /* why a callback failed, for the message */
	struct payload_reader *payload;
};

static int
sink_manifest(void *ctx, const struct manifest *m, const unsigned char *raw, size_t raw_len)
{
	struct open_report *r = ctx;
	struct fileio_atomic f;

	if ((r->manifest_raw = sodium_malloc(raw_len + 1)) == NULL ||
	    (r->results = calloc(m->nfiles + 1, sizeof *r->results)) == NULL) {
		r->write_errno = ENOMEM;
		return -1;
	}
	memcpy(r->manifest_raw, raw, raw_len);
	r->manifest_raw_len = raw_len;
	r->nfiles = m->nfiles;
	/* report.json is the manifest exactly as received, byte for byte. */
	if (fileio_atomic_open(&f, r->tmpdirfd, "report.json", 0600) == -1)
		goto fail;
	if (fileio_atomic_write(&f, raw, raw_len) == -1) {
		fileio_atomic_abort(&f);
		goto fail;
	}
	if (fileio_atomic_commit(&f) == -1)
		goto fail;
	return 0;
fail:
	r->write_errno = errno;
	return -1;
}

static int
sink_file_begin(void *ctx, size_t index, const struct manifest_file *f)
{
	struct open_report *r = ctx;
	char safe[SAFENAME_SIZE];

	safename_make(f->name, f->name_len, index + 1, r->nfiles, safe);
	snprintf(r->results[index].path, sizeof r->results[index].path, "files/%s", safe);
	if (fileio_atomic_open(&r->current, r->filesfd, safe, 0600) == -1) {
		r->write_errno = errno;
		return -1;
	}
	r->current_open = 1;
	return 0;
}

static int
sink_file_data(void *ctx, const unsigned char *buf, size_t len)
{
	struct open_report *r = ctx;

	if (fileio_atomic_write(&r->current, buf, len) == -1) {
		r->write_errno = errno;
		return -1;
	}
	return 0;
}

static int
sink_file_end(void *ctx, size_t index, int sha256_ok)
{
	struct open_report *r = ctx;
	struct report_file *result = &r->results[index];
	char *marked;

	result->sha256_ok = sha256_ok;
	if (!sha256_ok) {
		/* Kept for the investigator to look at, but never under a name
		 * that could pass for the evidence the manifest vouches for. */
		strncat(result->path, OPEN_UNVERIFIED_SUFFIX,
		    sizeof result->path - strlen(result->path) - 1);
		if ((marked = strdup(result->path + strlen("files/"))) == NULL) {
			r->write_errno = ENOMEM;
			return -1;
		}
		sodium_memzero(r->current.name, strlen(r->current.name));
		free(r->current.name);
		r->current.name = marked;
		r->mismatches++;
	}
	r->current_open = 0;
	if (fileio_atomic_commit(&r->current) == -1) {
		r->write_errno = errno;
		return -1;
	}
	return 0;
}

static int
write_report_text(struct open_report *r, const struct formdef *def)
{
	struct manifest *m = NULL;
	struct fileio_atomic f;
	char *text = NULL;
	size_t len = 0;
	int rc = -1;

	if (manifest_parse(r->manifest_raw, r->manifest_raw_len, &m) != ST_OK ||
	    (text = report_text(m, def, r->label, r->results, &len)) == NULL) {
		r->write_errno = ENOMEM;
		goto out;
	}
	if (fileio_atomic_open(&f, r->tmpdirfd, "report.txt", 0600) == -1)
		goto fail;
	if (fileio_atomic_write(&f, text, len) == -1) {
		fileio_atomic_abort(&f);
		goto fail;
	}
	if (fileio_atomic_commit(&f) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	r->write_errno = errno;
out:
	report_text_free(text, len);
	manifest_free(m);
	return rc;
}

/* Plaintext from the envelope reader to the payload reader (on the relay
 * thread). A payload error does not stop the envelope: when both are bad,
 * the envelope's defect (cut, forged, non-canonical) is the truer reason, and
 * it is known only at the end. Only a failure to write output stops at once. */
static int
plaintext_to_payload(void *ctx, const unsigned char *buf, size_t len)
{
	struct open_report *r = ctx;

	(void)payload_reader_write(r->payload, buf, len);
	return payload_reader_status(r->payload) == ST_ERR_CALLBACK ? -1 : 0;
}

/* Frees everything but the temp folder; safe to call twice. */
static void
report_release(struct open_report *r)
{
	/* Joins the relay thread before anything it uses is freed. */
	relay_free(r->relay);
	r->relay = NULL;
	envelope_open_free(r->envelope);
	r->envelope = NULL;
	payload_reader_free(r->payload);
	r->payload = NULL;
	if (r->current_open)
		fileio_atomic_abort(&r->current);
	r->current_open = 0;
	if (r->filesfd != -1)
		close(r->filesfd);
	if (r->tmpdirfd != -1)
		close(r->tmpdirfd);
	r->filesfd = r->tmpdirfd = -1;
	if (r->manifest_raw != NULL)
		sodium_free(r->manifest_raw);
	r->manifest_raw = NULL;
	if (r->results != NULL) {
		sodium_memzero(r->results, (r->nfiles + 1) * sizeof *r->results);
		free(r->results);
	}
	r->results = NULL;
}

/* Drops a report that will not be kept: nothing of it stays on disk. */
static void
report_abort(struct open_report *r)
{
	report_release(r);
	if (r->tmpname[0] != '\0')
		(void)fileio_remove_tree(r->outdirfd, r->tmpname);
	r->tmpname[0] = '\0';
}

/* Starts DIR/name as a hidden temp folder with a decryption pipeline behind
 * it, on two threads unless envelope_bytes (UINT64_MAX: not known) is small.
 * Returns 0, or -1 after printing one line (nothing left on disk). */
static int
report_begin(struct open_report *r, const struct open_job *job, const char *name,
    const char *label, uint64_t envelope_bytes)
{
	const struct payload_sink sink = { sink_manifest, sink_file_begin, sink_file_data,
		sink_file_end, r };
	int status;

	memset(r, 0, sizeof *r);
	r->label = label;
	r->outdirfd = job->outdirfd;
	r->tmpdirfd = r->filesfd = -1;
	snprintf(r->name, sizeof r->name, "%s", name);
	if (faccessat(job->outdirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		tool_error("%s: %s/%s already exists, not overwriting", label, job->outdir, name);
		return -1;
	}
	snprintf(r->tmpname, sizeof r->tmpname, OPEN_STAGING_PREFIX "%08x%08x",
	    randombytes_random(), randombytes_random());
	if (mkdirat(job->outdirfd, r->tmpname, 0700) == -1) {
		r->tmpname[0] = '\0';
		goto fail_io;
	}
	if ((r->tmpdirfd = openat(job->outdirfd, r->tmpname, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 || mkdirat(r->tmpdirfd, "files", 0700) == -1 ||
	    (r->filesfd = openat(r->tmpdirfd, "files", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		goto fail_io;
	if ((status = payload_reader_new(&r->payload, &sink)) != ST_OK)
		goto fail;
	if (envelope_bytes < OPEN_RELAY_MIN_BYTES) {
		/* Plaintext stays in the reader's own chunk buffer (sodium_malloc). */
		if ((status = envelope_open_new(&r->envelope, job->sk->pub.box_pk,
		    job->sk->box_sk, plaintext_to_payload, r)) != ST_OK)
			goto fail;
		return 0;
	}
	if (relay_start(&r->relay, plaintext_to_payload, r) == -1) {
		status = ST_ERR_NOMEM;
		goto fail;
	}
	if ((status = envelope_open_new(&r->envelope, job->sk->pub.box_pk, job->sk->box_sk,
	    relay_write, r->relay)) != ST_OK)
		goto fail;
	/* Chunks are decrypted straight into the relay's slots: no copy. */
	envelope_open_set_buffer(r->envelope, relay_chunk_buffer, r->relay);
	return 0;
fail:
	tool_error("%s: %s", label, status_message(status));
	report_abort(r);
	return -1;
fail_io:
	tool_error("%s: cannot create a folder in %s: %s", label, job->outdir, strerror(errno));
	report_abort(r);
	return -1;
}

/* Envelope bytes, in any split. Returns a status; on failure the caller ends
 * with report_end, which prints the reason. */
static int
report_feed(struct open_report *r, const unsigned char *buf, size_t len)
{
	if (r->status == ST_OK)
		r->status = envelope_open_update(r->envelope, buf, len);
	return r->status;
}

/* The envelope is complete: checks it all, writes report.txt. Returns 0; -1
 * after printing one line and removing the report when the envelope is at
 * fault; -2 the same when this machine is (its output could not be written),
 * which opening the envelope again may cure. */
static int
report_end(struct open_report *r, const struct formdef *def)
{
	uint64_t payload_len;
	int status = r->status, rc = -1;

	if (status == ST_OK)
		status = envelope_open_final(r->envelope, &payload_len);
	if (r->relay != NULL && relay_finish(r->relay) == -1 && status == ST_OK)
		status = ST_ERR_CALLBACK;
	if (status == ST_OK)
		status = payload_reader_finish(r->payload);
	if (status == ST_ERR_CALLBACK) {
		tool_error("%s: cannot write the report: %s", r->label, strerror(r->write_errno));
		goto fail_here;
	}
	if (status != ST_OK) {
		tool_error("%s: %s", r->label, status_message(status));
		goto fail;
	}
	if (write_report_text(r, def) == -1) {
		tool_error("%s: cannot write report.txt: %s", r->label, strerror(r->write_errno));
		goto fail_here;
	}
	if (fileio_sync_dir(r->filesfd) == -1 || fileio_sync_dir(r->tmpdirfd) == -1) {
		tool_error("%s: cannot write the report: %s", r->label, strerror(errno));
		goto fail_here;
	}
	report_release(r);
	return 0;
fail_here:
	rc = -2;
fail:
	report_abort(r);
	return rc;
}

/* Moves a finished report into place, never replacing anything, and syncs
 * DIR so that the move survives a crash. Returns 0; 1 when it was kept but an
 * attachment did not match (for report_say_mismatches, once nothing can take
 * it back); or -1 with errno, nothing of it left, for the caller to say (what
 * else it undoes decides the words). */
static int
report_commit(struct open_report *r, const struct open_job *job)
{
	int err;

	if (renameat2(job->outdirfd, r->tmpname, job->outdirfd, r->name, RENAME_NOREPLACE) == -1)
		goto fail;
	r->tmpname[0] = '\0';
	if (fileio_sync_dir(job->outdirfd) == -1) {
		/* Said as not kept, so it must not stay: plaintext nobody knows of. */
		err = errno;
		(void)fileio_remove_tree(job->outdirfd, r->name);
		errno = err;
		goto fail;
	}
	return r->mismatches > 0 ? 1 : 0;
fail:
	err = errno;
	report_abort(r);
	errno = err;
	return -1;
}

/* For a report kept with attachments that did not match: says where. */
static void
report_say_mismatches(const struct open_report *r, const struct open_job *job, const char *label)
{
	if (r->mismatches > 0)
		tool_error("%s: %d attachment%s did not match the manifest's sha256; kept in "
		    "%s/%s, marked %s", label, r->mismatches, r->mismatches == 1 ? "" : "s",
		    job->outdir, r->name, OPEN_UNVERIFIED_SUFFIX);
}

/* DIR/<name> for a single envelope: its file name without .env, made safe. */
static void
envelope_folder_name(const char *input, char *out, size_t size)
{
	const char *base = strrchr(input, '/');
	char safe[SAFENAME_SIZE];
	size_t len;

	base = base != NULL ? base + 1 : input;
	len = strlen(base);
	if (len > 4 && strcmp(base + len - 4, ".env") == 0)
		len -= 4;
	/* safename prefixes a number; drop it, the input name is unique enough.
	 * Without it a name could start with a dot: a hidden folder, or DIR's
	 * own .sealtip-log, which would stop every later export into DIR. */
	safename_make(base, len, 1, 1, safe);
	snprintf(out, size, "%s", safe + 3);
	if (out[0] == '.')
		out[0] = '_';
}

/* An input being read. Its first bytes are read before its kind is known
 * and handed on to the reader for that kind: a pipe cannot be read twice. */
struct input_stream {
	int fd;
	unsigned char *block; /* OPEN_READ_BYTES */
	ssize_t have;         /* bytes read into block and not yet used; -1: that read failed */
	int read_errno;       /* why, kept for the message */
};

/* One read into buf once fd is readable. Returns the bytes read, 0 at the
 * end, or -1 with errno (EINTR when interrupted). */
static ssize_t
read_some(int fd, unsigned char *buf, size_t size)
{
	ssize_t n;

	do {
		if (interrupt_wait(fd, POLLIN, -1) == -1)
			return -1;
		n = read(fd, buf, size);
	} while (n == -1 && (errno == EINTR || errno == EAGAIN));
	return n;
}

/* Feeds the rest of the input to consume, a block at a time; progress on a
 * terminal for large inputs (of a pipe, once it proved large). Returns 0 at the end or when consume said stop
 * (the caller asks it why), -1 with errno when reading failed. */
static int
read_input(struct input_stream *in, int (*consume)(void *, const unsigned char *, size_t),
    void *ctx)
{
	unsigned long long done = 0, total = tool_progress_total(in->fd);

	while (in->have > 0) {
		if (consume(ctx, in->block, (size_t)in->have) != 0)
			break;
		done += (unsigned long long)in->have;
		tool_progress("opening", done, total);
		if ((in->have = read_some(in->fd, in->block, OPEN_READ_BYTES)) < 0)
			in->read_errno = errno;
	}
	tool_progress_end();
	errno = in->read_errno;
	return in->have < 0 ? -1 : 0;
}

static int
envelope_consume(void *ctx, const unsigned char *buf, size_t len)
{
	return report_feed(ctx, buf, len) != ST_OK;
}

/* One envelope file into DIR/<name>. Returns the number of failures. */
static int
open_envelope(struct open_job *job, const char *input, struct input_stream *in)
{
	struct open_report r;
	char name[SAFENAME_SIZE];
	struct stat st;
	int rc;

	envelope_folder_name(input, name, sizeof name);
	if (report_begin(&r, job, name, input,
		fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : UINT64_MAX) == -1)
		return 1;
	if (read_input(in, envelope_consume, &r) == -1) {
		if (interrupt_poll() != 0)
			tool_error("%s: interrupted; nothing of it was kept", input);
		else
			tool_error("%s: read failed: %s", input, strerror(errno));
		report_abort(&r);
		return 1;
	}
	if (report_end(&r, job->def) != 0)
		return 1;
	/* A signal that came while the report was finished (the relay drained,
	 * every file synced) still means "keep nothing of it". */
	if (interrupt_poll() != 0) {
		tool_error("%s: interrupted; nothing of it was kept", input);
		report_abort(&r);
		return 1;
	}
	if ((rc = report_commit(&r, job)) == -1) {
		tool_error("%s: cannot move the report into %s/%s: %s", input, job->outdir, r.name,
		    strerror(errno));
		return 1;
	}
	report_say_mismatches(&r, job, input);
	tool_print(stdout, "%s: opened into %s/%s (%zu attachment%s)", input, job->outdir,
	    r.name, r.nfiles, r.nfiles == 1 ? "" : "s");
	return rc == 0 ? 0 : 1;
}

/* Parses "sealtip-log 1\nkey K\nsize N\nroot B64\nlast I|none\n": each line
 * exactly once, the key a verifier key, the root 32 bytes. */
static int
log_state_parse(struct log_state *st, char *text)
{
	struct note_verifier v;
	char *line, *save = NULL, *value;
	size_t n;
	int seen = 0, bit;

	memset(st, 0, sizeof *st);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if ((value = strchr(line, ' ')) == NULL)
			return -1;
		*value++ = '\0';
		bit = 0;
		if (strcmp(line, "sealtip-log") == 0 && strcmp(value, "1") == 0) {
			bit = 1;
		} else if (strcmp(line, "key") == 0 &&
		    note_verifier_parse(&v, value, strlen(value)) == NOTE_OK &&
		    strlen(value) < sizeof st->key) {
			bit = 2;
			snprintf(st->key, sizeof st->key, "%s", value);
		} else if (strcmp(line, "size") == 0 &&
		    decimal_parse(value, INT64_MAX, &st->size) == 0) {
			bit = 4;
		} else if (strcmp(line, "root") == 0 &&
		    sodium_base642bin(st->root, sizeof st->root, value, strlen(value), NULL, &n,
			NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
		    n == sizeof st->root) {
			bit = 8;
		} else if (strcmp(line, "last") == 0 && strcmp(value, "none") == 0) {
			bit = 16;
		} else if (strcmp(line, "last") == 0 &&
		    decimal_parse(value, INT64_MAX, &st->last) == 0) {
			bit = 16;
			st->have_last = 1;
		}
		if (bit == 0 || (seen & bit) != 0)
			return -1;
		seen |= bit;
	}
	if (seen != 31)
		return -1;
	st->present = 1;
	return 0;
}

/* Loads DIR/.sealtip-log; a missing file is an empty state. Returns 0, or -1
 * after printing one line. */
static int
log_state_load(const struct open_job *job, struct log_state *st)
{
	char path[PATH_MAX];
	unsigned char *text = NULL;
	size_t len;
	int rc = -1;

	memset(st, 0, sizeof *st);
	snprintf(path, sizeof path, "%s/%s", job->outdir, OPEN_LOG_STATE);
	if (fileio_read_all(path, OPEN_LOG_STATE_MAX, &text, &len) == -1) {
		if (errno == ENOENT)
			return 0;
		tool_error("%s: cannot read: %s", path, fileio_read_error(errno));
		return -1;
	}
	if (memchr(text, '\0', len) != NULL || log_state_parse(st, (char *)text) == -1) {
		tool_error("%s: damaged; not opening exports into %s until it is restored or "
			   "removed", path, job->outdir);
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

/* Replaces DIR/.sealtip-log atomically: temp file, fsync, rename. Returns 0;
 * -1 with errno, the old state still in place; or -2 with errno when the new
 * one was renamed in but DIR could not be synced (it may not last). */
static int
log_state_save(const struct open_job *job, const struct log_state *st)
{
	struct fileio_atomic f;
	char text[OPEN_LOG_STATE_MAX], b64[sodium_base64_ENCODED_LEN(TLOG_HASH_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)], tmp[64], last[24];
	int len, err;

	sodium_bin2base64(b64, sizeof b64, st->root, sizeof st->root,
	    sodium_base64_VARIANT_ORIGINAL);
	if (st->have_last)
		snprintf(last, sizeof last, "%llu", (unsigned long long)st->last);
	else
		snprintf(last, sizeof last, "none");
	len = snprintf(text, sizeof text, "sealtip-log 1\nkey %s\nsize %llu\nroot %s\nlast %s\n",
	    st->key, (unsigned long long)st->size, b64, last);
	snprintf(tmp, sizeof tmp, "%s.%08x", OPEN_LOG_STATE, randombytes_random());
	if (fileio_atomic_open(&f, job->outdirfd, tmp, 0600) == -1)
		return -1;
	if (fileio_atomic_write(&f, text, (size_t)len) == -1) {
		fileio_atomic_abort(&f);
		return -1;
	}
	if (fileio_atomic_commit(&f) == -1)
		return -1;
	if (renameat(job->outdirfd, tmp, job->outdirfd, OPEN_LOG_STATE) == -1) {
		err = errno;
		(void)unlinkat(job->outdirfd, tmp, 0);
		errno = err;
		return -1;
	}
	if (fileio_sync_dir(job->outdirfd) == -1)
		return -2;
	return 0;
}

/* Takes DIR/.sealtip-log.lock exclusively, so that two runs opening exports
 * into DIR at the same time do not both read .sealtip-log and the later
 * save put back the older checkpoint over the newer one, leaving reports in
 * DIR that it does not count. Waits (said once) while another run holds it.
 * Returns the lock's fd; -1 when no lock can be had here (a read-only or
 * full DIR, a file system without flock): the export is then opened as
 * before, and fails where DIR cannot be written; -2 when interrupted while
 * waiting (said). The file is removed while still locked (log_state_unlock),
 * so a run that locked it must check it is still the one DIR names. */
static int
log_state_lock(const struct open_job *job, const char *input)
{
	const struct timespec tick = {0, 100 * 1000 * 1000};
	struct stat held, named;
	int fd, said = 0;

	for (;;) {
		if ((fd = openat(job->outdirfd, OPEN_LOG_LOCK,
		    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
			return -1;
		while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			if (errno != EWOULDBLOCK) {
				close(fd);
				return -1;
			}
			if (!said)
				tool_error("%s: waiting for another sealtip open to finish its "
					   "export into %s", input, job->outdir);
			said = 1;
			if (interrupt_poll() != 0) {
				close(fd);
				tool_error("%s: interrupted; no report from it was kept", input);
				return -2;
			}
			nanosleep(&tick, NULL);
		}
		if (fstat(fd, &held) == 0 &&
		    fstatat(job->outdirfd, OPEN_LOG_LOCK, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
		    held.st_dev == named.st_dev && held.st_ino == named.st_ino)
			return fd;
		close(fd);
	}
}

/* Lets go of the lock, removing its file first (nothing of it stays in DIR). */
static void
log_state_unlock(const struct open_job *job, int fd)
{
	if (fd < 0)
		return;
	(void)unlinkat(job->outdirfd, OPEN_LOG_LOCK, 0);
	close(fd);
}

/* An export file: every entry into DIR/report-<index>. Reports are kept only
 * if the whole export checks out (count, digest, every leaf hash): a damaged
 * or truncated export leaves nothing behind. */
struct export_open {
	struct open_job *job;
	const char *input;
	struct open_report current;
	int current_active;
	char label[PATH_MAX + 64];
	struct open_report *done;   /* finished, waiting for the export's verdict */
	size_t ndone, done_cap;
	int failures;
	uint64_t first_opened, last_opened, opened;
	uint64_t already;       /* entries skipped: opened into DIR before */
	int halted;             /* a report could not be written here: */
	uint64_t halted_at;     /* from this entry on, none is opened */
	struct log_state *state;
	const char *trusted_key; /* NULL: none given or remembered */
	char refused[512];       /* why the header callback stopped the reader */
};

/* The file's checkpoint verified with the key the file names: that key must
 * be the trusted one, and the tree no smaller than the last one seen. */
static int
export_header(void *ctx, const struct exportfile_log *log)
{
	struct export_open *x = ctx;

	if (log->note_len > 0 && x->trusted_key != NULL &&
	    strcmp(log->verifier_key, x->trusted_key) != 0) {
		snprintf(x->refused, sizeof x->refused,
		    "the checkpoint is signed by %s, not by the trusted log key %s",
		    log->verifier_key, x->trusted_key);
		return -1;
	}
	if (x->state->present && log->tree_size < x->state->size) {
		snprintf(x->refused, sizeof x->refused,
		    "the log was rolled back: its checkpoint has %llu entries, %s/%s remembers "
		    "a signed checkpoint of %llu",
		    (unsigned long long)log->tree_size, x->job->outdir, OPEN_LOG_STATE,
		    (unsigned long long)x->state->size);
		return -1;
	}
	return 0;
}

/* After the file checked out: its checkpoint must extend the remembered one.
 * Returns 0, or -1 after printing one line. */
static int
export_consistent(struct export_open *x, const struct exportfile_log *log,
    const struct exportfile_summary *sum)
{
	const struct log_state *st = x->state;

	if (!st->present || st->size == 0)
		return 0;
	if (sum->watched) {
		if (sodium_memcmp(sum->watched_root, st->root, sizeof st->root) == 0)
			return 0;
	} else if (log->proof_size == st->size) {
		if (tlog_verify_consistency(st->size, log->tree_size, st->root,
			log->checkpoint.root, (const unsigned char(*)[TLOG_HASH_BYTES])log->proof,
			log->proof_len) == TLOG_OK)
			return 0;
	} else {
		tool_error("WARNING: %s: cannot check that the log's checkpoint of %llu "
			   "extends the one of %llu remembered in %s/%s: the file starts after it "
			   "and carries no consistency proof (export with --since-size %llu)",
		    x->input, (unsigned long long)log->tree_size, (unsigned long long)st->size,
		    x->job->outdir, OPEN_LOG_STATE, (unsigned long long)st->size);
		return 0;
	}
	tool_error("%s: the log was forked or rewritten: its tree of %llu entries does not "
		   "contain the signed tree of %llu remembered in %s/%s; no report from it was "
		   "kept",
	    x->input, (unsigned long long)log->tree_size, (unsigned long long)st->size,
	    x->job->outdir, OPEN_LOG_STATE);
	return -1;
}

/* A report of the export could not be written on this machine (a full disk,
 * say): the later entries are not opened, so that .sealtip-log's "last" can
 * stop just before it and a later run, of this file or of the next export,
 * opens it then. The file is still read to its end, so that the reports
 * before it are kept once the whole file checked out. */
static void
export_halt(struct export_open *x, uint64_t index)
{
	x->halted = 1;
	x->halted_at = index;
	x->failures++;
}

static int
export_entry_begin(void *ctx, const struct exportfile_entry *e)
{
	struct export_open *x = ctx;
	char name[64];

	x->current_active = 0;
	if (x->halted)
		return 0;
	snprintf(name, sizeof name, "report-%06llu", (unsigned long long)e->index);
	snprintf(x->label, sizeof x->label, "%s: entry %llu", x->input,
	    (unsigned long long)e->index);
	/* Counted in .sealtip-log and there: an earlier export of this same log
	 * put it there (a file that does not extend that log keeps nothing), so
	 * an overlapping export, or this one opened again, leaves it as it is. */
	if (x->state->have_last && e->index <= x->state->last &&
	    faccessat(x->job->outdirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		x->already++;
		return 0;
	}
	if (report_begin(&x->current, x->job, name, x->label, e->size) == -1) {
		export_halt(x, e->index);
		return 0;
	}
	x->current_active = 1;
	x->current.entry = e->index;
	return 0;
}

static int
export_entry_data(void *ctx, const unsigned char *buf, size_t len)
{
	struct export_open *x = ctx;

	/* An entry that does not open (another investigator's, say) is
	 * reported at its end; the other entries still open. */
	if (x->current_active)
		(void)report_feed(&x->current, buf, len);
	return 0;
}

static int
export_entry_end(void *ctx, const struct exportfile_entry *e)
{
	struct export_open *x = ctx;
	struct open_report *bigger;
	int rc;

	if (!x->current_active)
		return 0;
	x->current_active = 0;
	/* An entry that does not open (another investigator's, say) is said and
	 * counted; one that could not be written stops the opening here. */
	if ((rc = report_end(&x->current, x->job->def)) != 0) {
		if (rc == -2)
			export_halt(x, e->index);
		else
			x->failures++;
		return 0;
	}
	if (x->ndone == x->done_cap) {
		x->done_cap = x->done_cap ? x->done_cap * 2 : 16;
		if ((bigger = realloc(x->done, x->done_cap * sizeof *bigger)) == NULL) {
			report_abort(&x->current);
			return -1;
		}
		x->done = bigger;
	}
	x->done[x->ndone++] = x->current;
	if (x->opened == 0)
		x->first_opened = e->index;
	x->last_opened = e->index;
	x->opened++;
	return 0;
}

/* Removes the first n reports export_commit moved into place. */
static void
export_take_back(struct export_open *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)fileio_remove_tree(x->job->outdirfd, x->done[i].name);
	(void)fileio_sync_dir(x->job->outdirfd);
}

/* Moves the export's reports into place, all or none: when one cannot be
 * (a full or failing disk), those already moved are taken back, so that DIR
 * and its .sealtip-log never claim a report that is not there. Returns 0
 * (mismatches counted as failures), or -1 after saying so in one line. */
static int
export_commit(struct export_open *x)
{
	size_t i;
	int rc, err;

	for (i = 0; i < x->ndone; i++) {
		/* x->label names the last entry read; each report is named again. */
		snprintf(x->label, sizeof x->label, "%s: entry %llu", x->input,
		    (unsigned long long)x->done[i].entry);
		if ((rc = report_commit(&x->done[i], x->job)) == 1)
			x->failures++;
		if (rc == -1)
			goto fail;
	}
	return 0;
fail:
	err = errno;
	export_take_back(x, i);
	tool_error("%s: cannot move the report into %s/%s: %s; no report from it was kept",
	    x->label, x->job->outdir, x->done[i].name, strerror(err));
	return -1;
}

static int
export_consume(void *ctx, const unsigned char *buf, size_t len)
{
	return exportfile_reader_update(ctx, buf, len) != ST_OK;
}

/* Says loudly which indexes of the signed log this folder never got:
 * reports the server may be holding back. */
static void
export_gap_warning(const struct export_open *x, const struct exportfile_summary *sum)
{
	const struct log_state *st = x->state;
	uint64_t from = st->have_last ? st->last + 1 : 0;
	uint64_t to = sum->first_index < sum->tree_size ? sum->first_index : sum->tree_size;
	char after[40] = "";

	if (to <= from)
		return;
	if (from > 0)
		snprintf(after, sizeof after, " --after %llu", (unsigned long long)(from - 1));
	tool_error("WARNING: %s: reports %llu to %llu were never opened into %s: this export "
		   "starts at %llu%s.",
	    x->input, (unsigned long long)from, (unsigned long long)(to - 1), x->job->outdir,
	    (unsigned long long)sum->first_index,
	    st->have_last ? "" : " and this folder has opened no export before");
	tool_error("WARNING: ask the operator for them (sealtip export%s) and open them before "
		   "trusting that nothing was held back.", after);
}

/* After the reports were moved into place: DIR/.sealtip-log remembers the
 * export's checkpoint and last index. When that cannot be saved, the reports
 * are taken back and the old state restored as well as can be: DIR never
 * holds a report its .sealtip-log does not count, and a lost state would
 * trust the next file's key and size afresh. Returns 0, or -1 after saying
 * so in one line. */
static int
export_remember(struct export_open *x, const struct log_state *old,
    const struct exportfile_log *log, const struct exportfile_summary *sum)
{
	struct log_state next = *old;
	/* One past the last entry DIR now holds or never will (a report that
	 * did not open counts: opening it again cannot help). */
	uint64_t end = x->halted ? x->halted_at : sum->first_index + sum->count;
	int rc, err;

	if (log->note_len == 0)
		return 0; /* an empty log: nothing to remember, nothing opened */
	next.present = 1;
	snprintf(next.key, sizeof next.key, "%s", log->verifier_key);
	next.size = log->tree_size;
	memcpy(next.root, log->checkpoint.root, sizeof next.root);
	/* Not when the file's first entry was not opened: that would also
	 * count the indexes before the file, which DIR may never have had. */
	if (end > sum->first_index && (!next.have_last || next.last < end - 1)) {
		next.have_last = 1;
		next.last = end - 1;
	}
	if ((rc = log_state_save(x->job, &next)) == 0)
		return 0;
	err = errno;
	export_take_back(x, x->ndone);
	if (rc == -2) {
		if (old->present)
			(void)log_state_save(x->job, old);
		else if (unlinkat(x->job->outdirfd, OPEN_LOG_STATE, 0) == 0)
			(void)fileio_sync_dir(x->job->outdirfd);
	}
	tool_error("%s: cannot save %s/%s: %s; no report from it was kept", x->input,
	    x->job->outdir, OPEN_LOG_STATE, strerror(err));
	return -1;
}

/* After a halt: what was left unopened, and the way to open it. */
static void
export_halt_say(const struct export_open *x, const struct exportfile_summary *sum)
{
	uint64_t last = sum->first_index + sum->count - 1;
	char rest[96] = "";

	if (last == x->halted_at + 1)
		snprintf(rest, sizeof rest, ", so entry %llu was not opened", (unsigned long long)last);
	else if (last > x->halted_at)
		snprintf(rest, sizeof rest, ", so entries %llu to %llu were not opened",
		    (unsigned long long)x->halted_at + 1, (unsigned long long)last);
	tool_error("%s: entry %llu could not be written into %s%s; open the file again once "
		   "that is fixed (the reports already there stay as they are)",
	    x->input, (unsigned long long)x->halted_at, x->job->outdir, rest);
}

/* One export file. Returns the number of failures. */
static int
open_export(struct open_job *job, const char *input, struct input_stream *in)
{
	struct log_state state;
	struct export_open x = { .job = job, .input = input, .state = &state };
	const struct exportfile_sink sink = { export_entry_begin, export_entry_data,
		export_entry_end, &x, export_header };
	struct exportfile_reader *reader = NULL;
	struct exportfile_summary summary;
	const struct exportfile_log *log;
	char already[48] = "";
	size_t i;
	int status, lockfd;

	status = ST_ERR_STATE;
	if ((lockfd = log_state_lock(job, input)) == -2)
		goto out;
	if (log_state_load(job, &state) == -1)
		goto out;
	if (job->verifier_key != NULL && state.present && strcmp(job->verifier_key, state.key) != 0) {
		tool_error("%s: --verifier-key differs from the log key %s/%s remembers (%s): the log "
			   "key was replaced, or this is another log; use another folder",
		    input, job->outdir, OPEN_LOG_STATE, state.key);
		goto out;
	}
	x.trusted_key = job->verifier_key != NULL ? job->verifier_key
	    : state.present			  ? state.key
						  : NULL;
	if ((status = exportfile_reader_new(&reader, &sink)) != ST_OK) {
		tool_error("%s: %s", input, status_message(status));
		goto out;
	}
	if (state.present)
		exportfile_reader_watch(reader, state.size);
	if (read_input(in, export_consume, reader) == -1) {
		if (interrupt_poll() != 0)
			tool_error("%s: interrupted; no report from it was kept", input);
		else
			tool_error("%s: read failed: %s", input, strerror(errno));
		status = ST_ERR_TRUNCATED;
	} else if ((status = exportfile_reader_final(reader, &summary)) != ST_OK) {
		tool_error("%s: %s; no report from it was kept", input,
		    x.refused[0] != '\0' ? x.refused : exportfile_reader_error(reader));
	} else if (export_consistent(&x, exportfile_reader_log(reader), &summary) == -1) {
		status = ST_ERR_CHUNK_AUTH;
	}
	if (x.current_active)
		report_abort(&x.current);
	/* A signal that came while the last reports were finished still means
	 * "keep nothing of it". */
	if (status == ST_OK && interrupt_poll() != 0) {
		tool_error("%s: interrupted; no report from it was kept", input);
		status = ST_ERR_CALLBACK;
	}
	if (status == ST_OK && export_commit(&x) == -1)
		status = ST_ERR_CALLBACK;
	if (status == ST_OK && export_remember(&x, &state, exportfile_reader_log(reader),
	    &summary) == -1)
		status = ST_ERR_CALLBACK;
	for (i = 0; i < x.ndone; i++)
		report_abort(&x.done[i]); /* those not moved into place: nothing to keep */
	if (status == ST_OK) {
		log = exportfile_reader_log(reader);
		if (log->note_len > 0 && x.trusted_key == NULL)
			tool_error("NOTE: %s: no log key given or remembered for %s: trusting "
				   "the one the file names, %s, from now on (first use). Compare it "
				   "with the key the operator published.",
			    input, job->outdir, log->verifier_key);
		export_gap_warning(&x, &summary);
		for (i = 0; i < x.ndone; i++) {
			snprintf(x.label, sizeof x.label, "%s: entry %llu", input,
			    (unsigned long long)x.done[i].entry);
			report_say_mismatches(&x.done[i], job, x.label);
		}
		if (x.halted)
			export_halt_say(&x, &summary);
		if (x.already > 0)
			snprintf(already, sizeof already, "; %llu already there",
			    (unsigned long long)x.already);
		if (x.opened > 0)
			tool_print(stdout, "%s: opened %llu report%s, indexes %llu to %llu, into %s%s",
			    input, (unsigned long long)x.opened, x.opened == 1 ? "" : "s",
			    (unsigned long long)x.first_opened,
			    (unsigned long long)x.last_opened, job->outdir, already);
		else
			tool_print(stdout, "%s: no report opened (%llu entr%s%s)", input,
			    (unsigned long long)summary.count, summary.count == 1 ? "y" : "ies",
			    already);
		tool_print(stdout, "%s: log verified: checkpoint of %llu entries signed by %s", input,
		    (unsigned long long)summary.tree_size,
		    log->note_len > 0 ? log->verifier_key : "nobody (empty log)");
	}
out:
	log_state_unlock(job, lockfd);
	free(x.done);
	exportfile_reader_free(reader);
	return status != ST_OK ? 1 + x.failures : x.failures;
}

/* One INPUT, envelope or export file (told apart by their magic). */
static int
open_input(struct open_job *job, const char *input)
{
	struct input_stream in = { .fd = -1, .have = 0 };
	ssize_t n;
	int failures;

	if ((in.block = malloc(OPEN_READ_BYTES)) == NULL) {
		tool_error("out of memory");
		return 1;
	}
	/* O_NONBLOCK: a FIFO would hold open() until a writer came, with ^C
	 * blocked; read_some waits for it where a signal can end the wait. */
	if ((in.fd = open(input, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		tool_error("%s: cannot open: %s", input, strerror(errno));
		free(in.block);
		return 1;
	}
	/* A pipe may deliver the magic in pieces. A failed read is said by the
	 * reader it goes to (an envelope's, unless the magic came first). */
	while (in.have < EXPORTFILE_MAGIC_BYTES) {
		n = read_some(in.fd, in.block + in.have, OPEN_READ_BYTES - (size_t)in.have);
		if (n < 0) {
			in.have = -1;
			in.read_errno = errno;
		}
		if (n <= 0)
			break;
		in.have += n;
	}
	if (in.have > 0 && exportfile_sniff(in.block, (size_t)in.have))
		failures = open_export(job, input, &in);
	else
		failures = open_envelope(job, input, &in);
	close(in.fd);
	free(in.block);
	return failures;
}

/* True for a name report_begin makes: the prefix, then exactly 16 lowercase
 * hex digits. Nothing else in DIR is ever removed as a leftover. */
static int
staging_name(const char *name)
{
	size_t i, prefix = strlen(OPEN_STAGING_PREFIX);

	if (strncmp(name, OPEN_STAGING_PREFIX, prefix) != 0 ||
	    strlen(name) != prefix + OPEN_STAGING_HEX)
		return 0;
	for (i = prefix; name[i] != '\0'; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return 1;
}

/* Whether DIR is on a file system other machines write to (NFS, SMB, 9p,
 * Ceph, OpenAFS and the kernel's AFS, Coda): there flock(2) on a folder is seen on this machine only, and a
 * run elsewhere in the same DIR would look dead. */
static int
staging_on_network(int dirfd)
{
	static const unsigned long network[] = {NFS_SUPER_MAGIC, SMB_SUPER_MAGIC,
	    CIFS_SUPER_MAGIC, SMB2_SUPER_MAGIC, V9FS_MAGIC, CEPH_SUPER_MAGIC, AFS_SUPER_MAGIC,
	    AFS_FS_MAGIC, CODA_SUPER_MAGIC};
	struct statfs fs;
	size_t i;

	if (fstatfs(dirfd, &fs) == -1)
		return 0;
	for (i = 0; i < sizeof network / sizeof network[0]; i++)
		if ((unsigned long)fs.f_type == network[i])
			return 1;
	return 0;
}

/* Takes DIR's lock shared, for the whole run (closing outdirfd drops it),
 * waiting while another holds it exclusively: a run sweeping. Not atomic
 * with the release of an exclusive lock of this run's, which is harmless:
 * it has no folder yet. Returns 0, or -1 (said) when the lock stayed held
 * for OPEN_LOCK_WAIT_SECONDS: nothing is then opened, since a sweeping run
 * would take this one's reports unfinished. */
static int
staging_share(const struct open_job *job)
{
	const struct timespec tick = {0, 100 * 1000 * 1000};
	int ticks;

	for (ticks = 0; flock(job->outdirfd, LOCK_SH | LOCK_NB) == -1; ticks++) {
		if (errno != EWOULDBLOCK) {
			tool_error("%s: cannot lock: %s; an open into it at the same time may "
				   "remove this one's reports unfinished",
			    job->outdir, strerror(errno));
			return 0;
		}
		if (ticks == OPEN_LOCK_WAIT_SECONDS * 10) {
			tool_error("%s: locked by another program for %d s (sealtipd's data "
				   "folder?); nothing was opened",
			    job->outdir, OPEN_LOCK_WAIT_SECONDS);
			return -1;
		}
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* Removes the staging folders a run killed outright (SIGKILL, a power cut)
 * left in DIR: plaintext that ls does not show. Only a run that gets DIR's
 * lock exclusively does so; every run then holds it shared until it ends
 * (staging_share), so a live run's folders are never taken from under it,
 * and one that was killed lost its lock with its life (formats.md). Only
 * directories of exactly that name, never through a symlink, and never on
 * a network file system. Returns the number of failures, each said in one
 * line (says in one line what it removed), or -1 when nothing may be
 * opened (said). */
static int
staging_sweep(const struct open_job *job)
{
	struct dirent *entry;
	struct stat st;
	DIR *dir = NULL;
	size_t removed = 0;
	int fd, failures = 0;

	if (staging_on_network(job->outdirfd)) {
		tool_error("%s: on a network file system, where a run on another machine "
			   "cannot be seen: folders an interrupted run may have left (%s*) "
			   "were not looked for",
		    job->outdir, OPEN_STAGING_PREFIX);
		goto share;
	}
	if (flock(job->outdirfd, LOCK_EX | LOCK_NB) == -1) {
		/* EWOULDBLOCK: another run is in DIR, and its folders look the
		 * same; anything else (ENOLCK): nothing can be known dead. */
		if (errno != EWOULDBLOCK) {
			tool_error("%s: cannot lock: %s; folders an interrupted run may have "
				   "left (%s*) were not looked for",
			    job->outdir, strerror(errno), OPEN_STAGING_PREFIX);
			return 0;
		}
		goto share;
	}
	if ((fd = openat(job->outdirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (dir = fdopendir(fd)) == NULL) {
		tool_error("%s: cannot list: %s", job->outdir, strerror(errno));
		if (fd != -1)
			close(fd);
		failures++;
		goto share;
	}
	while ((entry = readdir(dir)) != NULL) {
		if (!staging_name(entry->d_name) ||
		    fstatat(job->outdirfd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (fileio_remove_tree(job->outdirfd, entry->d_name) == -1) {
			tool_error("%s/%s: left by an interrupted run, cannot remove it: %s",
			    job->outdir, entry->d_name, strerror(errno));
			failures++;
			continue;
		}
		removed++;
	}
	closedir(dir);
	if (removed > 0) {
		/* Gone for good, not back after a power cut. */
		(void)fileio_sync_dir(job->outdirfd);
		tool_error("%s: removed %zu unfinished report folder%s (%s*) left by an "
			   "interrupted run, unread",
		    job->outdir, removed, removed == 1 ? "" : "s", OPEN_STAGING_PREFIX);
	}
share:
	return staging_share(job) == -1 ? -1 : failures;
}

static int
load_secret_key(const char *path, const char *passphrase_file, struct keyfile_secret **sk)
{
	unsigned char *text = NULL;
	char *passphrase = NULL;
	size_t len = 0, passphrase_len = 0;
	int status, protected, fd, rc = -1;

	if (fileio_read_secret(path, KEYFILE_TEXT_MAX, &text, &len) == -1) {
		tool_error("%s: cannot read secret key: %s", path, fileio_read_error(errno));
		return -1;
	}
	if ((protected = keyfile_secret_is_protected((const char *)text, len)) < 0) {
		tool_error("%s: %s", path, status_message(protected));
		goto out;
	}
	if (protected) {
		if (passphrase_file != NULL) {
			if (passphrase_from_file(passphrase_file, &passphrase, &passphrase_len) == -1)
				goto out;
		} else {
			/* Say what to do instead, which passphrase_from_tty cannot
			 * know (as keygen does). */
			if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
				tool_error("%s: no terminal to ask for its passphrase: use "
					   "--passphrase-file FILE", path);
				goto out;
			}
			close(fd);
			if (passphrase_from_tty("Passphrase for the secret key: ", 0, &passphrase,
			    &passphrase_len) == -1)
				goto out;
		}
	}
	status = keyfile_secret_parse((const char *)text, len, passphrase, passphrase_len, sk);
	if (status != ST_OK) {
		tool_error("%s: %s", path, status_message(status));
		goto out;
	}
	/* Said on every use, not only at keygen: a key left unprotected for a
	 * demo or for automation should not be forgotten on a real machine. */
	if (!protected)
		tool_error("warning: %s is not protected by a passphrase", path);
	rc = 0;
out:
	passphrase_free(passphrase);
	sodium_free(text);
	return rc;
}

int
cmd_open(int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "labels", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "verifier-key", required_argument, NULL, 'v' },
		{ "verifier-key-file", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct keyfile_secret *sk = NULL;
	struct formdef def = { NULL, NULL };
	struct open_job job;
	const char *key = NULL, *passphrase_file = NULL, *labels = NULL, *outdir = NULL;
	const char *verifier_key = NULL, *verifier_key_file = NULL;
	struct note_verifier verifier;
	char keyline[NOTE_VERIFIER_KEY_MAX];
	unsigned char *labels_text = NULL, *keytext = NULL;
	size_t keytext_len;
	size_t labels_len;
	int c, i, outdirfd = -1, failures = 0, swept, created_outdir = 0, rc = TOOL_EXIT_FAIL;

	tool_options_begin();
	while ((c = tool_getopt(argc, argv, ":k:o:h", options)) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 'p':
			passphrase_file = optarg;
			break;
		case 'l':
			labels = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'v':
			verifier_key = optarg;
			break;
		case 'V':
			verifier_key_file = optarg;
			break;
		case 'h':
			fputs(open_usage, stdout);
			fputs(open_help, stdout);
			return TOOL_EXIT_OK;
		default:
			return tool_option_error(open_usage, "open", c, argv);
		}
	}
	if (key == NULL || outdir == NULL || optind == argc)
		return tool_usage_error(open_usage, "open: %s is required", key == NULL ? "-k FILE.key" :
		    outdir == NULL ? "-o DIR" : "at least one INPUT");

	if (verifier_key != NULL && verifier_key_file != NULL)
		return tool_usage_error(
		    open_usage, "open: --verifier-key and --verifier-key-file exclude each other");
	if (verifier_key_file != NULL) {
		if (fileio_read_all(verifier_key_file, 4096, &keytext, &keytext_len) == -1) {
			tool_error("%s: cannot read: %s", verifier_key_file, fileio_read_error(errno));
			return TOOL_EXIT_FAIL;
		}
		keytext_len = strcspn((const char *)keytext, "\r\n");
		snprintf(keyline, sizeof keyline, "%.*s",
		    keytext_len < sizeof keyline ? (int)keytext_len : 0, (const char *)keytext);
		free(keytext);
		keytext = NULL;
		verifier_key = keyline; /* empty when too long: refused below */
	}
	if (verifier_key != NULL &&
	    note_verifier_parse(&verifier, verifier_key, strlen(verifier_key)) != NOTE_OK) {
		/* What a file holds is bad input, not a usage error. */
		if (verifier_key_file != NULL) {
			tool_error("%s: not a verifier key (<name>+<id>+<key>) on its first line",
			    verifier_key_file);
			return TOOL_EXIT_FAIL;
		}
		return tool_usage_error(
		    open_usage, "open: '%s' is not a verifier key (<name>+<id>+<key>)", verifier_key);
	}

	if (formdef_load_builtin(&def) == -1) {
		tool_error("built-in form definition is damaged");
		goto out;
	}
	if (labels != NULL) {
		if (fileio_read_all(labels, 1u << 20, &labels_text, &labels_len) == -1 ||
		    formdef_load_labels(&def, (const char *)labels_text, labels_len) == -1) {
			tool_error("%s: cannot load labels: %s", labels,
			    labels_text == NULL ? fileio_read_error(errno) : "not a JSON object");
			goto out;
		}
	}
	if (load_secret_key(key, passphrase_file, &sk) == -1)
		goto out;
	if (mkdir(outdir, 0700) == 0)
		created_outdir = 1;
	else if (errno != EEXIST) {
		tool_error("%s: cannot create: %s", outdir, strerror(errno));
		goto out;
	}
	if ((outdirfd = fileio_open_dir(outdir)) == -1) {
		tool_error("%s: not a folder I can use: %s", outdir, strerror(errno));
		goto out;
	}
	job.outdir = outdir;
	job.outdirfd = outdirfd;
	job.sk = sk;
	job.def = &def;
	job.verifier_key = verifier_key;
	/* Before signals are caught: a ^C while it waits for another run's
	 * sweep, or removes, just ends the run (the next one sweeps again). */
	if ((swept = staging_sweep(&job)) == -1)
		goto out;
	failures += swept;
	/* After the passphrase prompt, which has its own answer to ^C; before
	 * the relay's thread starts. */
	interrupt_catch();
	for (i = optind; i < argc && interrupt_poll() == 0; i++)
		failures += open_input(&job, argv[i]);
	if (interrupt_poll() != 0)
		failures++;
	rc = failures == 0 ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
	/* The lines that say which reports were kept where must not be lost
	 * without a word (as keygen and fingerprint). */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		tool_error("cannot write to standard output (the reports opened are kept in %s)",
		    outdir);
		rc = TOOL_EXIT_FAIL;
	}
out:
	if (outdirfd != -1)
		close(outdirfd);
	/* A DIR made for reports that all failed would be the only trace of the
	 * attempt; rmdir leaves it when anything was kept in it. */
	if (created_outdir && rc != TOOL_EXIT_OK)
		(void)rmdir(outdir);
	keyfile_secret_free(sk);
	formdef_free(&def);
	free(labels_text);
	interrupt_reraise();
	return rc;
}
