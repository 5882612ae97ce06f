/* sealtip open: decrypts envelopes on the offline machine, each into its own
 * folder under DIR. A report folder appears whole or not at all: everything
 * is written in a hidden temp folder that is renamed into place last, without
 * replacing anything. Attachment names are rewritten by safename. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "envelope.h"
#include "fileio.h"
#include "formdef.h"
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
    "usage: sealtip open -k FILE.key [--passphrase-file FILE] [--labels FILE.json] -o DIR INPUT...\n"
    "  -k, --key FILE.key        investigator secret key\n"
    "      --passphrase-file F   read the key's passphrase from F (else asked on the terminal)\n"
    "      --labels FILE.json    question labels in another language (web/i18n/*.json)\n"
    "  -o, --output DIR          folder for the reports (created if missing)\n"
    "Each INPUT opens into DIR/<input name without .env>/: report.txt, report.json, files/.\n";

#define OPEN_READ_BYTES 65536
#define OPEN_UNVERIFIED_SUFFIX ".UNVERIFIED"

/* One envelope being opened. */
struct open_report {
	const char *input;
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

/* DIR/<name>: the input's file name without its .env, made safe. */
static void
report_folder_name(const char *input, char *out, size_t size)
{
	const char *base = strrchr(input, '/');
	char safe[SAFENAME_SIZE];
	size_t len;

	base = base != NULL ? base + 1 : input;
	len = strlen(base);
	if (len > 4 && strcmp(base + len - 4, ".env") == 0)
		len -= 4;
	/* safename prefixes a number; drop it, the input name is unique enough. */
	safename_make(base, len, 1, 1, safe);
	snprintf(out, size, "%s", safe + 3);
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
	    (text = report_text(m, def, r->input, r->results, &len)) == NULL) {
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

/* Plaintext from the envelope reader to the payload reader. A payload error
 * does not stop the envelope: when both are bad, the envelope's defect (cut,
 * forged, non-canonical) is the truer reason, and it is known only at the
 * end. Only a failure to write output stops at once. */
static int
plaintext_to_payload(void *ctx, const unsigned char *buf, size_t len)
{
	struct open_report *r = ctx;

	(void)payload_reader_write(r->payload, buf, len);
	return payload_reader_status(r->payload) == ST_ERR_CALLBACK ? -1 : 0;
}

/* Streams the input through the envelope reader into the payload reader.
 * Decryption runs on this thread, hashing and writing on a relay thread. */
static int
decrypt_input(struct open_report *r, int fd, const struct keyfile_secret *sk)
{
	const struct payload_sink sink = { sink_manifest, sink_file_begin, sink_file_data,
		sink_file_end, r };
	struct envelope_open *envelope = NULL;
	struct relay *relay = NULL;
	unsigned char *buf = NULL;
	unsigned long long done = 0, total;
	uint64_t payload_len;
	struct stat st;
	ssize_t n;
	int status;

	total = fstat(fd, &st) == 0 ? (unsigned long long)st.st_size : 0;
	if ((buf = malloc(OPEN_READ_BYTES)) == NULL) {
		status = ST_ERR_NOMEM;
		goto out;
	}
	if ((status = payload_reader_new(&r->payload, &sink)) != ST_OK)
		goto out;
	if (relay_start(&relay, plaintext_to_payload, r) == -1) {
		status = ST_ERR_NOMEM;
		goto out;
	}
	if ((status = envelope_open_new(&envelope, sk->pub.box_pk, sk->box_sk, relay_write,
	    relay)) != ST_OK)
		goto out;
	for (;;) {
		n = read(fd, buf, OPEN_READ_BYTES);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r->write_errno = errno;
			status = ST_ERR_CALLBACK;
			goto out;
		}
		if (n == 0)
			break;
		if ((status = envelope_open_update(envelope, buf, (size_t)n)) != ST_OK)
			goto out;
		done += (unsigned long long)n;
		if (total >= 16u << 20)
			tool_progress("opening", done, total);
	}
	if ((status = envelope_open_final(envelope, &payload_len)) != ST_OK)
		goto out;
	if (relay_finish(relay) == -1) {
		status = ST_ERR_CALLBACK;
		goto out;
	}
	status = payload_reader_finish(r->payload);
out:
	tool_progress_end();
	/* Joins the relay thread before anything it uses is freed. */
	relay_free(relay);
	envelope_open_free(envelope);
	payload_reader_free(r->payload);
	r->payload = NULL;
	free(buf);
	return status;
}

static void
report_cleanup(struct open_report *r)
{
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
	free(r->results);
	r->results = NULL;
}

/* Opens one input into DIR; returns 0, or 1 after printing one line. */
static int
open_one(const char *input, const char *outdir, int outdirfd, const struct keyfile_secret *sk,
    const struct formdef *def)
{
	struct open_report r = { .input = input, .outdirfd = outdirfd, .tmpdirfd = -1,
		.filesfd = -1 };
	char name[SAFENAME_SIZE];
	int fd = -1, status, made_tmp = 0, rc = 1;

	report_folder_name(input, name, sizeof name);
	if ((fd = open(input, O_RDONLY | O_CLOEXEC)) == -1) {
		tool_error("%s: cannot open: %s", input, strerror(errno));
		goto out;
	}
	if (faccessat(outdirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		tool_error("%s: %s/%s already exists, not overwriting", input, outdir, name);
		goto out;
	}
	snprintf(r.tmpname, sizeof r.tmpname, ".sealtip-open-%08x%08x", randombytes_random(),
	    randombytes_random());
	if (mkdirat(outdirfd, r.tmpname, 0700) == -1) {
		tool_error("%s: cannot create a folder in %s: %s", input, outdir, strerror(errno));
		goto out;
	}
	made_tmp = 1;
	if ((r.tmpdirfd = openat(outdirfd, r.tmpname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || mkdirat(r.tmpdirfd, "files", 0700) == -1 ||
	    (r.filesfd = openat(r.tmpdirfd, "files", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		tool_error("%s: cannot create a folder in %s: %s", input, outdir, strerror(errno));
		goto out;
	}

	status = decrypt_input(&r, fd, sk);
	if (status == ST_ERR_CALLBACK) {
		tool_error("%s: cannot write the report: %s", input, strerror(r.write_errno));
		goto out;
	}
	if (status != ST_OK) {
		tool_error("%s: %s", input, status_message(status));
		goto out;
	}
	if (write_report_text(&r, def) == -1) {
		tool_error("%s: cannot write report.txt: %s", input, strerror(r.write_errno));
		goto out;
	}
	if (fileio_sync_dir(r.filesfd) == -1 || fileio_sync_dir(r.tmpdirfd) == -1 ||
	    renameat2(outdirfd, r.tmpname, outdirfd, name, RENAME_NOREPLACE) == -1) {
		tool_error("%s: cannot move the report into %s/%s: %s", input, outdir, name,
		    strerror(errno));
		goto out;
	}
	made_tmp = 0;
	(void)fileio_sync_dir(outdirfd);
	printf("%s: opened into %s/%s (%zu attachment%s)\n", input, outdir, name, r.nfiles,
	    r.nfiles == 1 ? "" : "s");
	if (r.mismatches > 0) {
		tool_error("%s: %d attachment%s did not match the manifest's sha256; kept, "
		    "marked %s", input, r.mismatches, r.mismatches == 1 ? "" : "s",
		    OPEN_UNVERIFIED_SUFFIX);
		goto out;
	}
	rc = 0;
out:
	report_cleanup(&r);
	if (made_tmp)
		(void)fileio_remove_tree(outdirfd, r.tmpname);
	if (fd != -1)
		close(fd);
	return rc;
}

static int
load_secret_key(const char *path, const char *passphrase_file, struct keyfile_secret **sk)
{
	unsigned char *text = NULL;
	char *passphrase = NULL;
	size_t len = 0, passphrase_len = 0;
	int status, protected, rc = -1;

	if (fileio_read_secret(path, KEYFILE_TEXT_MAX, &text, &len) == -1) {
		tool_error("%s: cannot read secret key: %s", path, strerror(errno));
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
		} else if (passphrase_from_tty("Passphrase for the secret key: ", 0, &passphrase,
		    &passphrase_len) == -1) {
			goto out;
		}
	}
	status = keyfile_secret_parse((const char *)text, len, passphrase, passphrase_len, sk);
	if (status != ST_OK) {
		tool_error("%s: %s", path, status_message(status));
		goto out;
	}
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct keyfile_secret *sk = NULL;
	struct formdef def = { NULL, NULL };
	const char *key = NULL, *passphrase_file = NULL, *labels = NULL, *outdir = NULL;
	unsigned char *labels_text = NULL;
	size_t labels_len;
	int c, i, outdirfd = -1, failures = 0, rc = TOOL_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "k:o:h", options, NULL)) != -1) {
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
		case 'h':
			fputs(open_usage, stdout);
			return TOOL_EXIT_OK;
		default:
			return tool_usage_error(open_usage, "unknown option");
		}
	}
	if (key == NULL || outdir == NULL || optind == argc)
		return tool_usage_error(open_usage, "%s is required", key == NULL ? "-k FILE.key" :
		    outdir == NULL ? "-o DIR" : "at least one INPUT");

	if (formdef_load_builtin(&def) == -1) {
		tool_error("built-in form definition is damaged");
		goto out;
	}
	if (labels != NULL) {
		if (fileio_read_all(labels, 1u << 20, &labels_text, &labels_len) == -1 ||
		    formdef_load_labels(&def, (const char *)labels_text, labels_len) == -1) {
			tool_error("%s: cannot load labels: %s", labels,
			    labels_text == NULL ? strerror(errno) : "not a JSON object");
			goto out;
		}
	}
	if (load_secret_key(key, passphrase_file, &sk) == -1)
		goto out;
	if (mkdir(outdir, 0700) == -1 && errno != EEXIST) {
		tool_error("%s: cannot create: %s", outdir, strerror(errno));
		goto out;
	}
	if ((outdirfd = fileio_open_dir(outdir)) == -1) {
		tool_error("%s: not a folder I can use: %s", outdir, strerror(errno));
		goto out;
	}
	for (i = optind; i < argc; i++)
		failures += open_one(argv[i], outdir, outdirfd, sk, &def);
	rc = failures == 0 ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
out:
	if (outdirfd != -1)
		close(outdirfd);
	keyfile_secret_free(sk);
	formdef_free(&def);
	free(labels_text);
	return rc;
}
