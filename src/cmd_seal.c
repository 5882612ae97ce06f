/* sealtip seal: builds a payload (manifest, files, padding) and seals it to
 * one or more investigators' public keys, streaming, in constant memory. */
#include <ctype.h>
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
#include "interrupt.h"
#include "keyfile.h"
#include "manifest.h"
#include "payload.h"
#include "sha256.h"
#include "status.h"
#include "tool.h"

static const char seal_usage[] =
    "usage: sealtip seal -r FILE.pub [-r FILE.pub]... [--form ID] [--lang LANG]\n"
    "                    [--field NAME=VALUE]... [--file PATH]... -o OUT\n";

static const char seal_help[] =
    "\n"
    "Seals a report (answers and attachments) to the investigators' public keys,\n"
    "as the page does, into the new envelope file OUT; `sealtip submit` sends it.\n"
    "The answers' names are the questions of web/form.json.\n"
    "\n"
    "  -r, --recipient FILE.pub  investigator public key (1 to 16)\n"
    "      --form ID             form id (default: the built-in form's)\n"
    "      --lang LANG           language tag of the answers (default: en)\n"
    "      --field NAME=VALUE    an answer; repeat a NAME for several values\n"
    "      --file PATH           attach a file (its name, size and sha256 go in\n"
    "                            the manifest)\n"
    "  -o, --output OUT          envelope to write (never overwritten)\n"
    "  -h, --help                show this help\n";

#define SEAL_READ_BYTES 65536

struct seal_input {
	const char *path;
	int fd;
	uint64_t size;
	unsigned char sha256[32];
};

struct seal_output {
	struct fileio_atomic file;
	uint64_t written, total;
	int write_errno; /* why the output failed: the envelope code only sees -1 */
};

static int
output_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct seal_output *out = ctx;

	if (fileio_atomic_write(&out->file, buf, len) == -1) {
		out->write_errno = errno;
		return -1;
	}
	out->written += len;
	tool_progress("sealing", out->written, out->total);
	return 0;
}

static const char *
media_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" }, { ".png", "image/png" },
		{ ".gif", "image/gif" }, { ".webp", "image/webp" }, { ".heic", "image/heic" },
		{ ".pdf", "application/pdf" }, { ".txt", "text/plain" },
		{ ".mp3", "audio/mpeg" }, { ".m4a", "audio/mp4" }, { ".ogg", "audio/ogg" },
		{ ".mp4", "video/mp4" }, { ".mov", "video/quicktime" },
		{ ".doc", "application/msword" },
		{ ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
		{ ".zip", "application/zip" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* Reads a file to the end, hashing it, optionally sealing it on the way.
 * Returns 0; -1 after saying why; -2 when sealing failed (the output's
 * failure, for the caller to say). */
static int
input_stream(struct seal_input *in, struct envelope_seal *seal, unsigned char digest[32])
{
	struct sha256 hash; /* SHA-NI where the CPU has it */
	unsigned char *buf;
	uint64_t total = 0;
	ssize_t n;
	int rc = -1;

	if ((buf = sodium_malloc(SEAL_READ_BYTES)) == NULL) {
		tool_error("%s: out of memory", in->path);
		return -1;
	}
	if (lseek(in->fd, 0, SEEK_SET) == -1) {
		tool_error("%s: cannot rewind: %s", in->path, strerror(errno));
		goto out;
	}
	sha256_init(&hash);
	for (;;) {
		if (interrupt_poll() != 0)
			goto out; /* cmd_seal says so */
		n = read(in->fd, buf, SEAL_READ_BYTES);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			tool_error("%s: read failed: %s", in->path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		sha256_update(&hash, buf, (size_t)n);
		if (seal != NULL && envelope_seal_update(seal, buf, (size_t)n) != ST_OK) {
			rc = -2;
			goto out;
		}
	}
	sha256_final(&hash, digest);
	if (seal != NULL && total != in->size) {
		tool_error("%s: file changed while it was being sealed", in->path);
		goto out;
	}
	in->size = total;
	rc = 0;
out:
	sodium_memzero(&hash, sizeof hash);
	sodium_memzero(buf, SEAL_READ_BYTES);
	sodium_free(buf);
	return rc;
}

/* How a message names the position-th --field: by NAME when it is a plain
 * id, else by its place. Never by VALUE: that is the report itself. */
static void
field_label(const char *arg, size_t name_len, int position, char *out, size_t size)
{
	size_t i;

	for (i = 0; i < name_len && i < 64; i++)
		if (!isalnum((unsigned char)arg[i]) && strchr("_-.", arg[i]) == NULL)
			break;
	if (name_len > 0 && i == name_len)
		snprintf(out, size, "--field %.*s", (int)name_len, arg);
	else
		snprintf(out, size, "--field #%d", position);
}

/* Adds the position-th --field NAME=VALUE. Returns 0, -1 (said why) or -2
 * (usage error, said why). */
static int
add_field(json_t *fields, const char *arg, int position)
{
	const char *eq = strchr(arg, '=');
	json_t *old, *value, *list;
	char *name, label[96];
	int rc = -1;

	field_label(arg, eq != NULL ? (size_t)(eq - arg) : 0, position, label, sizeof label);
	if (eq == NULL || eq == arg)
		return tool_usage_error(seal_usage, "seal: %s: wants NAME=VALUE", label), -2;
	if ((name = strndup(arg, (size_t)(eq - arg))) == NULL) {
		tool_error("%s: out of memory", label);
		return -1;
	}
	if ((value = json_string(eq + 1)) == NULL) {
		tool_error("%s: the answer is not valid UTF-8", label);
		goto out;
	}
	old = json_object_get(fields, name);
	if (old == NULL) {
		/* Steals value, also on failure (a name that is not UTF-8). */
		if ((rc = json_object_set_new(fields, name, value)) != 0)
			tool_error("%s: the name is not valid UTF-8", label);
	} else if (json_is_array(old)) {
		/* The reader's limit: an envelope past it would never open. */
		if (json_array_size(old) == MANIFEST_MAX_VALUES) {
			json_decref(value);
			tool_error("%s: more than %d answers", label, MANIFEST_MAX_VALUES);
			goto out;
		}
		if ((rc = json_array_append_new(old, value)) != 0)
			tool_error("%s: out of memory", label);
	} else {
		/* A repeated NAME turns the answer into a list, as checkboxes send. */
		list = json_array();
		json_array_append(list, old);
		json_array_append_new(list, value);
		if ((rc = json_object_set_new(fields, name, list)) != 0)
			tool_error("%s: out of memory", label);
	}
	if (rc == 0 && json_object_size(fields) > MANIFEST_MAX_FIELDS) {
		tool_error("--field: more than %d fields", MANIFEST_MAX_FIELDS);
		rc = -1;
	}
out:
	free(name);
	return rc == 0 ? 0 : -1;
}

/* Reads -r path into box_pks[n]: a public key file, and not a key already
 * given (sealtipd refuses an envelope naming one twice). */
static int
load_recipient(const char *path, unsigned char (*box_pks)[32], unsigned n)
{
	struct keyfile_public pk;
	unsigned char *text;
	size_t len;
	unsigned i;
	int status;

	if (fileio_read_all(path, KEYFILE_TEXT_MAX, &text, &len) == -1) {
		tool_error("%s: cannot read public key: %s", path, fileio_read_error(errno));
		return -1;
	}
	status = keyfile_public_parse((const char *)text, len, &pk);
	/* Someone may pass a secret key by mistake: leave no copy in the heap. */
	sodium_memzero(text, len);
	free(text);
	if (status != ST_OK) {
		tool_error("%s: %s", path, status_message(status));
		return -1;
	}
	for (i = 0; i < n; i++)
		if (memcmp(box_pks[i], pk.box_pk, 32) == 0) {
			tool_error("%s: %s (given as -r before)", path,
			    status_message(ST_ERR_DUPLICATE_RECIPIENT));
			return -1;
		}
	memcpy(box_pks[n], pk.box_pk, 32);
	return 0;
}

int
cmd_seal(int argc, char **argv)
{
	static const struct option options[] = {
		{ "recipient", required_argument, NULL, 'r' },
		{ "form", required_argument, NULL, 'F' },
		{ "lang", required_argument, NULL, 'L' },
		{ "field", required_argument, NULL, 'f' },
		{ "file", required_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned char box_pks[ENVELOPE_MAX_RECIPIENTS][32];
	struct seal_input inputs[MANIFEST_MAX_FILES];
	struct seal_output out = { .file = { .fd = -1 } };
	struct envelope_seal *seal = NULL;
	struct formdef def = { NULL, NULL };
	struct manifest *check;
	const char *form = NULL, *lang = "en", *output = NULL;
	json_t *manifest = NULL, *fields = NULL, *files = NULL, *entry;
	char *manifest_text = NULL, *dir = NULL, *slash, hex[65];
	size_t manifest_len = 0, ninputs = 0, i;
	unsigned nrecip = 0;
	uint64_t files_total = 0, unpadded, padded;
	struct stat st;
	int c, dirfd = -1, status, rc = TOOL_EXIT_FAIL, opened_output = 0, nfields = 0, ok;

	if ((fields = json_object()) == NULL || (files = json_array()) == NULL)
		goto out;
	tool_options_begin();
	while ((c = tool_getopt(argc, argv, ":r:o:h", options)) != -1) {
		switch (c) {
		case 'r':
			if (nrecip == ENVELOPE_MAX_RECIPIENTS) {
				rc = tool_usage_error(seal_usage, "seal: at most %d recipients",
				    ENVELOPE_MAX_RECIPIENTS);
				goto out;
			}
			if (load_recipient(optarg, box_pks, nrecip) == -1)
				goto out;
			nrecip++;
			break;
		case 'F':
			form = optarg;
			break;
		case 'L':
			lang = optarg;
			break;
		case 'f':
			if ((status = add_field(fields, optarg, ++nfields)) != 0) {
				rc = status == -2 ? TOOL_EXIT_USAGE : TOOL_EXIT_FAIL;
				goto out;
			}
			break;
		case 'a':
			if (ninputs == MANIFEST_MAX_FILES) {
				rc = tool_usage_error(seal_usage, "seal: at most %d files", MANIFEST_MAX_FILES);
				goto out;
			}
			inputs[ninputs].path = optarg;
			inputs[ninputs].fd = -1;
			ninputs++;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(seal_usage, stdout);
			fputs(seal_help, stdout);
			rc = TOOL_EXIT_OK;
			goto out;
		default:
			rc = tool_option_error(seal_usage, "seal", c, argv);
			goto out;
		}
	}
	if (optind != argc) {
		/* Not quoted back: an unquoted answer split by the shell lands here. */
		rc = tool_usage_error(seal_usage, "seal: %d unexpected argument%s (an answer with "
		    "spaces needs quotes: --field \"NAME=VALUE\")", argc - optind,
		    argc - optind == 1 ? "" : "s");
		goto out;
	}
	if (nrecip == 0 || output == NULL) {
		rc = tool_usage_error(seal_usage, "seal: %s is required",
		    nrecip == 0 ? "-r FILE.pub" : "-o OUT");
		goto out;
	}
	/* Before the work, which could be long: the rename would fail after it. */
	if (base_name(output)[0] == '\0' || strcmp(base_name(output), ".") == 0 ||
	    strcmp(base_name(output), "..") == 0) {
		rc = tool_usage_error(seal_usage, "seal: -o %s: not a file name", output);
		goto out;
	}
	if (form == NULL) {
		if (formdef_load_builtin(&def) == -1) {
			tool_error("built-in form definition is damaged");
			goto out;
		}
		form = formdef_id(&def);
	}

	/* ^C while sealing: the temp output is removed (at out:), then sealtip
	 * dies of the signal. */
	interrupt_catch();
	/* First pass: size and hash of every file, for the manifest. */
	for (i = 0; i < ninputs; i++) {
		struct seal_input *in = &inputs[i];

		/* O_NONBLOCK: a FIFO must not hold open() until a writer comes,
		 * with ^C blocked; it is refused below, as is anything not a
		 * regular file. A regular file reads the same either way. */
		if ((in->fd = open(in->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
		    fstat(in->fd, &st) == -1) {
			tool_error("%s: cannot open: %s", in->path, strerror(errno));
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			tool_error("%s: not a regular file", in->path);
			goto out;
		}
		if (input_stream(in, NULL, in->sha256) == -1)
			goto out;
		if (in->size > MANIFEST_MAX_FILE_SIZE - files_total) {
			tool_error("%s: attachments too large in total", in->path);
			goto out;
		}
		files_total += in->size;
		sodium_bin2hex(hex, sizeof hex, in->sha256, sizeof in->sha256);
		entry = json_pack("{s:s, s:s, s:I, s:s}", "name", base_name(in->path),
		    "type", media_type(in->path), "size", (json_int_t)in->size, "sha256", hex);
		sodium_memzero(hex, sizeof hex);
		if (entry == NULL || json_array_append_new(files, entry) == -1) {
			tool_error("%s: file name is not valid UTF-8", in->path);
			goto out;
		}
	}
	manifest = json_pack("{s:i, s:s, s:s, s:O, s:O}", "v", 1, "form", form, "lang", lang,
	    "fields", fields, "files", files);
	if (manifest == NULL || (manifest_text = manifest_dump(manifest, &manifest_len)) == NULL) {
		tool_error("--form/--lang: not valid UTF-8");
		goto out;
	}
	if ((status = payload_lengths(manifest_len, files_total, &unpadded, &padded)) != ST_OK) {
		tool_error("manifest: %s", status_message(status));
		goto out;
	}
	/* Checked again as it is written; said now, before any output. */
	if ((status = manifest_parse((const unsigned char *)manifest_text, manifest_len,
		 &check)) != ST_OK) {
		tool_error("manifest: %s", status_message(status));
		goto out;
	}
	manifest_free(check);

	if ((dir = strdup(output)) == NULL)
		goto out;
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	dirfd = open(slash == NULL ? "." : dir[0] == '\0' ? "/" : dir,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd == -1) {
		tool_error("%s: cannot open its folder: %s", output, strerror(errno));
		goto out;
	}
	/* Checked now to fail before the work; the final rename checks again. */
	if (faccessat(dirfd, base_name(output), F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		tool_error("%s: already exists, not overwriting", output);
		goto out;
	}
	if (fileio_atomic_open(&out.file, dirfd, base_name(output), 0644) == -1) {
		tool_error("%s: cannot create: %s", output, strerror(errno));
		goto out;
	}
	opened_output = 1;
	out.total = envelope_length(padded, nrecip);

	/* Second pass: stream manifest, files and padding through the envelope. */
	if ((status = envelope_seal_new(&seal, (const unsigned char (*)[32])box_pks, nrecip,
	    output_write, &out)) != ST_OK ||
	    (status = payload_write_manifest(envelope_seal_write, seal, manifest_text,
	    manifest_len)) != ST_OK)
		goto sealing_failed;
	for (i = 0; i < ninputs; i++) {
		unsigned char again[32];

		status = input_stream(&inputs[i], seal, again);
		ok = status == 0 && sodium_memcmp(again, inputs[i].sha256, 32) == 0;
		sodium_memzero(again, sizeof again);
		if (status == -2) {
			status = ST_ERR_CALLBACK;
			goto sealing_failed;
		}
		if (status == 0 && !ok)
			tool_error("%s: file changed while it was being sealed", inputs[i].path);
		if (!ok)
			goto out;
	}
	if ((status = payload_write_padding(envelope_seal_write, seal, padded - unpadded)) != ST_OK ||
	    (status = envelope_seal_final(seal)) != ST_OK)
		goto sealing_failed;
	tool_progress_end();
	if (fileio_atomic_commit_durable(&out.file) == -1) {
		opened_output = 0;
		tool_error("%s: %s", output, errno == EEXIST ?
		    "already exists, not overwriting" : strerror(errno));
		goto out;
	}
	opened_output = 0;
	rc = TOOL_EXIT_OK;
	goto out;
sealing_failed:
	if (status == ST_ERR_CALLBACK)
		tool_error("%s: cannot write: %s", output, strerror(out.write_errno));
	else
		tool_error("%s: %s", output, status_message(status));
out:
	tool_progress_end();
	if (rc != TOOL_EXIT_OK && interrupt_poll() != 0)
		tool_error("%s: interrupted; nothing was written", output);
	if (opened_output)
		fileio_atomic_abort(&out.file);
	envelope_seal_free(seal);
	for (i = 0; i < ninputs; i++)
		if (inputs[i].fd != -1)
			close(inputs[i].fd);
	if (manifest_text != NULL) {
		sodium_memzero(manifest_text, manifest_len);
		free(manifest_text);
	}
	json_decref(manifest);
	json_decref(fields);
	json_decref(files);
	formdef_free(&def);
	if (dirfd != -1)
		close(dirfd);
	free(dir);
	sodium_memzero(box_pks, sizeof box_pks);
	/* The attachments' hashes describe the report as much as its sizes. */
	sodium_memzero(inputs, sizeof inputs);
	interrupt_reraise();
	return rc;
}
