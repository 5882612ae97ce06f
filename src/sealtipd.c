/* sealtipd: the intake server. Parses options, loads the recipients' public
 * keys, opens the database, listens, and on SIGTERM/SIGINT stops accepting,
 * lets requests in flight finish, and closes the database cleanly. It never
 * looks at, logs or stores a client address or user agent. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "config.h"
#include "decimal.h"
#include "fileio.h"
#include "http.h"
#include "http_config.h"
#include "http_export.h"
#include "keyfile.h"
#include "logkey.h"
#include "sandbox.h"
#include "serverlog.h"
#include "status.h"
#include "store.h"
#include "tool.h"
#include "writer.h"

#define SEALTIPD_DB_NAME "reports.db"
/* How long the last log lines may wait for a reader at exit. */
#define SEALTIPD_LOG_WAIT_MS 2000

/* Splits "host:port" or "[v6]:port" and binds a listening socket; *port
 * gets the real port (so --listen 127.0.0.1:0 works). */
static int
listen_on(const char *spec, char *shown, size_t shownlen)
{
	char host[256], portstr[16], addr[INET6_ADDRSTRLEN];
	const char *colon;
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	size_t hlen;
	int fd = -1, one = 1, rc;
	unsigned port;
	uint64_t port_value;

	if (spec[0] == '[') {
		if ((colon = strstr(spec, "]:")) == NULL)
			goto bad;
		hlen = (size_t)(colon - spec - 1);
		if (hlen >= sizeof host)
			goto bad;
		memcpy(host, spec + 1, hlen);
		colon++;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			goto bad;
		hlen = (size_t)(colon - spec);
		if (hlen == 0 || hlen >= sizeof host)
			goto bad;
		memcpy(host, spec, hlen);
	}
	host[hlen] = '\0';
	/* getaddrinfo would take 70000 as 70000 mod 65536: another port than
	 * the onion service or proxy points at. */
	if (strlen(colon + 1) >= sizeof portstr || decimal_parse(colon + 1, 65535, &port_value) == -1)
		goto bad;
	snprintf(portstr, sizeof portstr, "%s", colon + 1);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, portstr, &hints, &ai)) != 0) {
		fprintf(stderr, "sealtipd: --listen %s: %s (a numeric address is needed)\n", spec,
		    gai_strerror(rc));
		return -1;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 || listen(fd, 512) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		fprintf(stderr, "sealtipd: --listen %s: %s\n", spec, strerror(errno));
		if (fd != -1)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof addr);
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		snprintf(shown, shownlen, "[%s]:%u", addr, port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof addr);
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		snprintf(shown, shownlen, "%s:%u", addr, port);
	}
	return fd;
bad:
	fprintf(stderr, "sealtipd: --listen %s: expected HOST:PORT, PORT 0 to 65535\n", spec);
	return -1;
}

static int
load_recipients(const struct config *cfg, struct keyfile_public *keys, struct spool_keys *ids)
{
	unsigned char *text = NULL;
	size_t i, j, len;
	int rc;

	for (i = 0; i < cfg->nrecipients; i++) {
		if (fileio_read_all(cfg->recipients[i], KEYFILE_TEXT_MAX, &text, &len) == -1) {
			fprintf(stderr, "sealtipd: %s: %s\n", cfg->recipients[i], fileio_read_error(errno));
			return -1;
		}
		rc = keyfile_public_parse((const char *)text, len, &keys[i]);
		free(text);
		text = NULL;
		if (rc != ST_OK) {
			fprintf(
			    stderr, "sealtipd: %s: %s\n", cfg->recipients[i], status_message(rc));
			return -1;
		}
		for (j = 0; j < i; j++)
			if (memcmp(keys[j].key_id, keys[i].key_id, KEYFILE_KEY_ID_BYTES) == 0) {
				fprintf(stderr, "sealtipd: %s: the same key is given twice\n",
				    cfg->recipients[i]);
				return -1;
			}
		memcpy(ids->ids[i], keys[i].key_id, KEYFILE_KEY_ID_BYTES);
		ids->n = i + 1;
	}
	return 0;
}

/* After the listening line, which scripts read first for the port. */
static void
print_recipients(const struct keyfile_public *keys, size_t n)
{
	char id[KEYFILE_KEY_ID_HEX_SIZE], fp[KEYFILE_FINGERPRINT_SIZE];
	size_t i;

	for (i = 0; i < n; i++) {
		keyfile_key_id_hex(keys[i].key_id, id);
		keyfile_fingerprint(&keys[i], fp);
		printf("recipient %s fingerprint %s\n", id, fp);
	}
}

/* First line of the token file; only its SHA-256 is kept. */
static int
load_token(const char *path, unsigned char hash[32])
{
	unsigned char *text = NULL;
	size_t len, n;
	int rc = -1;

	if (fileio_read_secret(path, 4096, &text, &len) == -1) {
		fprintf(stderr, "sealtipd: %s: %s\n", path, fileio_read_error(errno));
		return -1;
	}
	n = strcspn((const char *)text, "\r\n");
	if (n < HTTP_EXPORT_TOKEN_MIN || n > HTTP_EXPORT_TOKEN_MAX) {
		fprintf(stderr,
		    "sealtipd: %s: the token must be %d to %d bytes on the first line\n", path,
		    HTTP_EXPORT_TOKEN_MIN, HTTP_EXPORT_TOKEN_MAX);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		if (text[i] <= 0x20 || text[i] >= 0x7f) {
			fprintf(stderr,
			    "sealtipd: %s: the token must be printable ASCII without spaces\n",
			    path);
			goto done;
		}
	crypto_hash_sha256(hash, text, n);
	rc = 0;
done:
	sodium_memzero(text, len);
	sodium_free(text);
	return rc;
}

static int
open_web(const char *web, const char **shown)
{
	const char *dir = web;
	int fd;

	/* Never web/ itself: the sources lack libsodium.js (the page could not
	 * encrypt) and hold the build script. */
	if (dir == NULL)
		dir = "build/web";
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "sealtipd: web folder %s: %s (static pages disabled)\n", dir,
		    strerror(errno));
		return -1;
	}
	*shown = dir;
	return fd;
}

/* Beside log.key once the key is recorded in a database: the key has a
 * log, and a database made for it again would fork that log. Its absence
 * is what lets --adopt-log-key take a log.key that an older
 * --print-verifier-key made before any start. */
#define LOGKEY_USED_FILE LOGKEY_FILE ".used"

/* The refusal of a log.key whose log is gone: with no reports.db, or one
 * without a log (db_exists), by whether the key has signed. */
static void
log_key_orphan(const struct config *cfg, int datafd, int db_exists)
{
	int signed_ = faccessat(datafd, LOGKEY_USED_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;

	if (!db_exists && signed_)
		fprintf(stderr,
		    "sealtipd: %s: " LOGKEY_FILE " exists but " SEALTIPD_DB_NAME " does not: "
		    LOGKEY_FILE " has signed a log whose database is gone, and a new log under it "
		    "would fork it (restore " SEALTIPD_DB_NAME " with its -wal file, or move "
		    LOGKEY_FILE " and " LOGKEY_USED_FILE " away to start a new log)\n",
		    cfg->data_dir);
	else if (!db_exists)
		fprintf(stderr,
		    "sealtipd: %s: " LOGKEY_FILE " exists but " SEALTIPD_DB_NAME " does not: a new "
		    "log under the key of an old one would fork it (restore " SEALTIPD_DB_NAME
		    " with its -wal file; if this " LOGKEY_FILE " never signed a log, made by an "
		    "older --print-verifier-key before a first start, start once with "
		    "--adopt-log-key; else move " LOGKEY_FILE " away to start a new log)\n",
		    cfg->data_dir);
	else if (signed_)
		fprintf(stderr,
		    "sealtipd: %s: " LOGKEY_FILE " exists but " SEALTIPD_DB_NAME " has no log under "
		    "it: " LOGKEY_FILE " has signed a log this database does not hold (its -wal file "
		    "lost?), and a new log under it would fork it (restore " SEALTIPD_DB_NAME
		    " with its -wal file, or move " LOGKEY_FILE ", " LOGKEY_USED_FILE " and "
		    SEALTIPD_DB_NAME " away to start a new log)\n",
		    cfg->data_dir);
	else
		fprintf(stderr,
		    "sealtipd: %s: " LOGKEY_FILE " exists but " SEALTIPD_DB_NAME " has no log under "
		    "it: restore " SEALTIPD_DB_NAME " with its -wal file; if nothing was ever "
		    "stored (a first start cut short), move " SEALTIPD_DB_NAME " and its -wal and "
		    "-shm files away and start once with --adopt-log-key\n",
		    cfg->data_dir);
}

/* --adopt-log-key, before anything is made: only a log.key alone, which
 * never had a database (no reports.db, no LOGKEY_USED_FILE). Left in a unit
 * file, it then cannot make a lost database into a fork. 0, or -1 said. */
static int
log_key_adoptable(const struct config *cfg, int datafd)
{
	const char *why = NULL;

	if (faccessat(datafd, SEALTIPD_DB_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		why = SEALTIPD_DB_NAME " exists: adoption is only for a " LOGKEY_FILE " alone";
	else if (faccessat(datafd, LOGKEY_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == -1)
		why = "there is no " LOGKEY_FILE " to adopt";
	else if (faccessat(datafd, LOGKEY_USED_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		why = LOGKEY_FILE " has signed a log (" LOGKEY_USED_FILE "): a new database under "
		      "it would fork that log; restore " SEALTIPD_DB_NAME " with its -wal file";
	if (why == NULL)
		return 0;
	fprintf(stderr, "sealtipd: %s: --adopt-log-key: %s\n", cfg->data_dir, why);
	return -1;
}

/* Whether the data folder holds reports.db: 1 yes, 0 neither it nor what
 * only a database that was there leaves (a first start). Refused, -1 after
 * saying why on stderr:
 * - log.key without reports.db: that key signed a log whose database is gone
 *   (deleted, renamed, not restored), and a new database would start a
 *   second log from size 0 under it, whose checkpoints contradict every one
 *   already given out; unless --adopt-log-key takes it (log_key_adoptable);
 * - reports.db-wal without reports.db: sqlite would replay the last commits
 *   of the database that is gone onto a new or restored one. */
static int
data_files_check(const struct config *cfg, int datafd)
{
	const char *name = SEALTIPD_DB_NAME;

	if (cfg->adopt_log_key && log_key_adoptable(cfg, datafd) == -1)
		return -1;
	if (faccessat(datafd, SEALTIPD_DB_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno != ENOENT)
		goto fail;
	name = LOGKEY_FILE;
	if (!cfg->adopt_log_key && faccessat(datafd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		log_key_orphan(cfg, datafd, 0);
		return -1;
	}
	if (!cfg->adopt_log_key && errno != ENOENT)
		goto fail;
	name = SEALTIPD_DB_NAME "-wal";
	if (faccessat(datafd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		fprintf(stderr,
		    "sealtipd: %s: %s exists but %s does not: it holds the last commits of a "
		    "database that is gone (restore %s, or move %s and %s-shm away)\n",
		    cfg->data_dir, name, SEALTIPD_DB_NAME, SEALTIPD_DB_NAME, name,
		    SEALTIPD_DB_NAME);
		return -1;
	}
	if (errno != ENOENT)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "sealtipd: %s/%s: %s\n", cfg->data_dir, name, strerror(errno));
	return -1;
}

/* The files the server opens in the data folder must be its user's (the
 * key must be owner-only, the database writable): one that root copied in
 * (a restored backup, a new machine) stopped it with sqlite's "unable to
 * open database file", which names no cause. Root opens anything. 0, or -1
 * said. */
static int
data_files_owned(const struct config *cfg, int datafd)
{
	static const char *const names[] = {SEALTIPD_DB_NAME, SEALTIPD_DB_NAME "-wal",
	    SEALTIPD_DB_NAME "-shm", LOGKEY_FILE};
	struct stat st;
	uid_t me = geteuid();

	if (me == 0)
		return 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (fstatat(datafd, names[i], &st, AT_SYMLINK_NOFOLLOW) == -1 || st.st_uid == me)
			continue;
		fprintf(stderr,
		    "sealtipd: %s/%s: owned by uid %u, not by uid %u, which sealtipd runs as "
		    "(chown %u:%u %s/%s)\n",
		    cfg->data_dir, names[i], (unsigned)st.st_uid, (unsigned)me, (unsigned)me,
		    (unsigned)getegid(), cfg->data_dir, names[i]);
		return -1;
	}
	return 0;
}

/* A new reports.db made empty, before sqlite opens it, so that one made by
 * root (without --user, or --print-verifier-key) in the folder of the user
 * the server runs as is that user's: sqlite gives its -wal and -shm files
 * the database's owner, but makes the database itself as whoever runs it,
 * and the server as that user could not open a root's one again. An empty
 * file is an empty database to sqlite. 0, or -1 said. */
static int
db_make(const struct config *cfg, int datafd)
{
	int fd;

	if ((fd = openat(datafd, SEALTIPD_DB_NAME,
		 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 ||
	    fileio_give_to_dir_owner(datafd, fd) == -1) {
		fprintf(stderr, "sealtipd: %s/%s: %s\n", cfg->data_dir, SEALTIPD_DB_NAME,
		    strerror(errno));
		if (fd != -1) {
			close(fd);
			(void)unlinkat(datafd, SEALTIPD_DB_NAME, 0);
		}
		return -1;
	}
	close(fd);
	return 0;
}

/* LOGKEY_USED_FILE made, durably, if missing: only its existence counts,
 * so one that is there is left as it is (read-only, or root's). Made by
 * root, it is the data folder's owner's, as the files sealtipd --user
 * makes: a later start as that user must not find it in the way. 0, or -1
 * said. */
static int
log_key_mark_used(const struct config *cfg, int datafd)
{
	int fd = -1, rc = -1;

	if (faccessat(datafd, LOGKEY_USED_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if ((fd = openat(datafd, LOGKEY_USED_FILE, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		 0600)) == -1 ||
	    fileio_give_to_dir_owner(datafd, fd) == -1 || fsync(fd) == -1 ||
	    fileio_sync_dir(datafd) == -1) {
		fprintf(stderr, "sealtipd: %s/%s: %s\n", cfg->data_dir, LOGKEY_USED_FILE,
		    strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (fd != -1)
		close(fd);
	return rc;
}

/* The log key for this data folder into lk (freed by the caller, whatever
 * the outcome). The database remembers the verifier key (log key and origin)
 * it was first started with: a log that has begun needs that key back,
 * never a new one, so log.key is made only when the database has none (and
 * recorded in it at once, *recorded set), and a replaced key or a changed
 * origin, which would fork the log, is refused. So is a log.key beside a
 * database that has none recorded: its log was lost with the database's
 * WAL, or a first start stopped between making the key and recording it;
 * only a log.key alone is adopted (data_files_check). Once the key is the
 * database's, LOGKEY_USED_FILE says so. Returns 0, or -1 after saying why
 * on stderr. */
static int
log_key_load(struct logkey *lk, struct store *store, const struct config *cfg, int datafd,
    int *created, int *recorded)
{
	char known[NOTE_VERIFIER_KEY_MAX], err[512];
	int rc;

	*recorded = 0;
	if ((rc = store_meta_get(store, "log_verifier_key", known, sizeof known)) == -1) {
		fprintf(stderr, "sealtipd: cannot read the database's log key: %s\n",
		    store_errmsg(store));
		return -1;
	}
	if (rc == 0 && !cfg->adopt_log_key &&
	    faccessat(datafd, LOGKEY_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		log_key_orphan(cfg, datafd, 1);
		return -1;
	}
	/* A lost key: the bare "No such file or directory" told the operator
	 * neither that it cannot be replaced nor what to do. */
	if (rc == 1 && faccessat(datafd, LOGKEY_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == -1 &&
	    errno == ENOENT) {
		fprintf(stderr,
		    "sealtipd: %s: %s is missing, and this database's log was started with the "
		    "verifier key\n  %s\n(restore %s from a backup of this folder: no other key "
		    "can continue this log; if it is lost, the log ends here: docs/server.md, "
		    "\"Log key and origin\")\n",
		    cfg->data_dir, LOGKEY_FILE, known, LOGKEY_FILE);
		return -1;
	}
	if (logkey_load(lk, datafd, cfg->origin, rc == 0, created, err, sizeof err) == -1) {
		fprintf(stderr, "sealtipd: %s: %s\n", cfg->data_dir, err);
		return -1;
	}
	if (rc == 0) {
		if (store_meta_add(store, "log_verifier_key", lk->vkey) == -1) {
			fprintf(stderr, "sealtipd: cannot record the log key: %s\n",
			    store_errmsg(store));
			return -1;
		}
		*recorded = 1;
	} else if (strcmp(known, lk->vkey) != 0) {
		fprintf(stderr,
		    "sealtipd: this database's log was started with the verifier key\n  %s\n"
		    "but %s with origin '%s' gives\n  %s\n"
		    "(a replaced %s or a changed --origin would fork the log; restore the "
		    "original)\n",
		    known, LOGKEY_FILE, lk->v.name, lk->vkey, LOGKEY_FILE);
		return -1;
	}
	return log_key_mark_used(cfg, datafd);
}

/* Started as root with --user: the data folder is made that user's and the
 * process becomes the user before any file in the folder is opened or made,
 * so all of them are the user's. Without --user, root stays root (warned). */
static int
run_as_user(const struct config *cfg)
{
	struct sandbox_user u;
	char err[512];

	if (cfg->user == NULL) {
		if (geteuid() == 0)
			fprintf(stderr,
			    "sealtipd: warning: running as root; --user NAME would "
			    "run as NAME (docs/server.md, \"Sandbox\")\n");
		return 0;
	}
	if (sandbox_user_find(cfg->user, &u, err, sizeof err) == -1)
		goto fail;
	if (geteuid() != 0 && geteuid() != u.uid) {
		snprintf(
		    err, sizeof err, "--user %s: only root can change to another user", cfg->user);
		goto fail;
	}
	if (geteuid() == 0 &&
	    (sandbox_dir_prepare(cfg->data_dir, &u, err, sizeof err) == -1 ||
		sandbox_drop(&u, err, sizeof err) == -1))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "sealtipd: %s\n", err);
	return -1;
}

static char stdout_buffer[BUFSIZ];

/* Once everything is open and before any thread starts: Landlock, then the
 * seccomp filter (docs/server.md, "Sandbox"). */
static int
confine(const struct http_app *app)
{
	char err[512];
	int abi;

	if ((abi = sandbox_landlock(app->datafd, app->webfd, err, sizeof err)) == -1 ||
	    sandbox_seccomp(err, sizeof err) == -1) {
		fprintf(stderr, "sealtipd: sandbox: %s\n", err);
		return -1;
	}
	if (abi == 0)
		fprintf(stderr,
		    "sealtipd: warning: this kernel has no Landlock, so file access "
		    "is not confined (the seccomp filter still is)\n");
	return 0;
}

/* --print-verifier-key: the key start-up would use. It is made if missing
 * only where start-up would make it (no database yet, or one whose log has
 * no key), with the database that records it, as start-up makes them, and
 * checked against the database's as start-up checks it. It takes no lock:
 * it may run beside the server, which has the key recorded already. */
static int
print_verifier_key(const struct config *cfg)
{
	struct store *store = NULL;
	struct logkey lk;
	struct stat db_st;
	char err[512], *db_path = NULL;
	int datafd = -1, created, recorded, exists, rc = 1;

	memset(&lk, 0, sizeof lk);
	if (run_as_user(cfg) == -1)
		return 1;
	if (mkdir(cfg->data_dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "sealtipd: %s: %s\n", cfg->data_dir, strerror(errno));
		return 1;
	}
	if ((datafd = fileio_open_dir(cfg->data_dir)) == -1) {
		fprintf(stderr, "sealtipd: %s: %s\n", cfg->data_dir, strerror(errno));
		return 1;
	}
	if (asprintf(&db_path, "%s/%s", cfg->data_dir, SEALTIPD_DB_NAME) == -1) {
		db_path = NULL;
		goto out;
	}
	if ((exists = data_files_check(cfg, datafd)) == -1 ||
	    data_files_owned(cfg, datafd) == -1 || (!exists && db_make(cfg, datafd) == -1))
		goto out;
	/* An empty reports.db is one db_make made for a first start (this or
	 * the server's) stopped before its schema: given the schema, as the
	 * server's start gives it, not refused with "no such table: meta". */
	if (exists && fstatat(datafd, SEALTIPD_DB_NAME, &db_st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(db_st.st_mode) && db_st.st_size == 0)
		exists = 0;
	if (store_open(&store, db_path, !exists, err, sizeof err) == -1) {
		fprintf(stderr, "sealtipd: %s: %s\n", db_path, err);
		goto out;
	}
	if (log_key_load(&lk, store, cfg, datafd, &created, &recorded) == -1)
		goto out;
	/* The origin is fixed from here, as at a first start: said there on
	 * stdout, here on stderr (stdout is the key alone). */
	if (recorded && strcmp(cfg->origin, CONFIG_DEFAULT_ORIGIN) == 0)
		fprintf(stderr,
		    "sealtipd: warning: the log origin is the default '%s', fixed from now "
		    "on; a deployment sets its own with --origin (move %s and %s away to "
		    "start again with one)\n",
		    CONFIG_DEFAULT_ORIGIN, LOGKEY_FILE, SEALTIPD_DB_NAME);
	printf("%s\n", lk.vkey);
	rc = 0;
out:
	logkey_free(&lk);
	store_close(store);
	free(db_path);
	close(datafd);
	return rc;
}

/* Waits until no request is in flight, or the deadline. */
static void
drain(struct http_app *app, unsigned seconds)
{
	struct timespec tick = {0, 20 * 1000 * 1000};
	unsigned long i, n = (unsigned long)seconds * 50;

	for (i = 0; i < n && atomic_load(&app->in_flight) > 0; i++)
		nanosleep(&tick, NULL);
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct keyfile_public keys[CONFIG_MAX_RECIPIENTS];
	struct http_app app;
	struct store *store = NULL;
	struct logkey logkey;
	struct MHD_Daemon *d = NULL;
	char err[512], shown[300], *db_path = NULL;
	const char *web_shown = NULL;
	uint64_t commits, rows, stored;
	unsigned long long cut_deadline, cut_budget;
	sigset_t sigs;
	int sig, lfd = -1, rc, exit_code = 1, key_created = 0, key_recorded = 0, db_exists;
	unsigned i;
	MHD_socket quiesced;

	if (tool_stdio_guard() == -1)
		return 1;
	if (sandbox_no_core_dumps() == -1) {
		fprintf(stderr, "sealtipd: cannot turn core dumps off: %s\n", strerror(errno));
		return 1;
	}
	umask(077); /* the database, its WAL and spool files: owner only */
	memset(&app, 0, sizeof app);
	memset(&logkey, 0, sizeof logkey);
	app.datafd = app.webfd = -1;
	pthread_mutex_init(&app.suspend_lock, NULL);
	pthread_cond_init(&app.suspend_cond, NULL);
	for (i = 0; i < HTTP_LOG_READERS_MAX; i++)
		pthread_mutex_init(&app.log_locks[i], NULL);
	if ((rc = config_parse(&cfg, argc, argv)) != 0)
		return rc == 1 ? 0 : rc == -2 ? 1 : 2;
	if (sodium_init() < 0) {
		fprintf(stderr, "sealtipd: libsodium could not be initialised\n");
		goto done;
	}
	if (cfg.print_verifier_key) {
		exit_code = print_verifier_key(&cfg);
		config_free(&cfg);
		return exit_code;
	}
	app.cfg = &cfg;
	if (pow_gate_init(&app.pow, cfg.pow_bits, cfg.pow_ttl) == -1) {
		fprintf(stderr, "sealtipd: out of memory for the proof-of-work gate\n");
		goto done;
	}
	if (load_recipients(&cfg, keys, &app.keys) == -1)
		goto done;
	if (cfg.export_token_file != NULL) {
		if (load_token(cfg.export_token_file, app.export_token_hash) == -1)
			goto done;
		app.export_enabled = 1;
	}
	/* Bound as root (a port below 1024 is possible), then root is left. */
	if ((lfd = listen_on(cfg.listen, shown, sizeof shown)) == -1 || run_as_user(&cfg) == -1)
		goto done;
	if (mkdir(cfg.data_dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "sealtipd: %s: %s\n", cfg.data_dir, strerror(errno));
		goto done;
	}
	if ((app.datafd = fileio_open_dir(cfg.data_dir)) == -1) {
		fprintf(stderr, "sealtipd: %s: %s\n", cfg.data_dir, strerror(errno));
		goto done;
	}
	/* One server per data folder, for as long as it runs (the descriptor
	 * stays open): a second one's writer would find every index taken and
	 * answer 500 to every report. sealtip export reads without it. */
	if (flock(app.datafd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			fprintf(stderr,
			    "sealtipd: %s: locked by another process (another sealtipd using "
			    "this data folder?)\n",
			    cfg.data_dir);
		else
			fprintf(stderr, "sealtipd: %s: cannot lock the data folder: %s\n",
			    cfg.data_dir, strerror(errno));
		goto done;
	}
	if ((db_exists = data_files_check(&cfg, app.datafd)) == -1 ||
	    data_files_owned(&cfg, app.datafd) == -1 ||
	    (!db_exists && db_make(&cfg, app.datafd) == -1))
		goto done;
	/* sqlite's temporary files (big statement journals) go beside the
	 * database, the one folder Landlock leaves writable, instead of
	 * /var/tmp. Read when sqlite first starts, in store_open. */
	if (setenv("SQLITE_TMPDIR", cfg.data_dir, 1) == -1) {
		fprintf(stderr, "sealtipd: SQLITE_TMPDIR: %s\n", strerror(errno));
		goto done;
	}
	if (asprintf(&db_path, "%s/%s", cfg.data_dir, SEALTIPD_DB_NAME) == -1) {
		db_path = NULL;
		goto done;
	}
	app.db_path = db_path;
	if (store_open(&store, db_path, 1, err, sizeof err) == -1) {
		fprintf(stderr, "sealtipd: %s: %s\n", db_path, err);
		goto done;
	}
	if (log_key_load(&logkey, store, &cfg, app.datafd, &key_created, &key_recorded) == -1)
		goto done;
	app.logkey = &logkey;
	for (i = 0; i < cfg.threads && i < HTTP_LOG_READERS_MAX; i++) {
		if (store_open(&app.log_readers[i], db_path, 0, err, sizeof err) == -1) {
			fprintf(stderr, "sealtipd: %s: %s\n", db_path, err);
			goto done;
		}
		app.nlog_readers = i + 1;
	}
	if ((app.config_json = http_config_build(
		 keys, cfg.nrecipients, &cfg, &logkey, &app.config_json_len)) == NULL)
		goto done;
	app.webfd = open_web(cfg.web, &web_shown);
	/* Our own buffer for stdout: glibc would otherwise size it on the first
	 * printf with an ioctl (isatty) whenever stdout is a character device
	 * such as /dev/null, and the filter kills the process for it. The
	 * startup lines are flushed by hand; while serving, src/serverlog.c
	 * writes the lines. */
	setvbuf(stdout, stdout_buffer, _IOFBF, sizeof stdout_buffer);
	if (confine(&app) == -1)
		goto done;
	/* Every thread started from here inherits the mask: only sigwait below
	 * sees SIGTERM and SIGINT. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The quota starts from what is stored: read before the writer owns
	 * the connection. */
	if (store_stored_bytes(store, &stored) != 0) {
		fprintf(stderr, "sealtipd: %s: %s\n", db_path, store_errmsg(store));
		goto done;
	}
	quota_init(&app.quota, &cfg, app.datafd, stored);
	if (http_conns_start(&app.conns, cfg.timeout, http_conns_budget(cfg.max_connections)) ==
	    -1) {
		fprintf(stderr, "sealtipd: cannot start the connection reaper\n");
		goto done;
	}
	if (writer_start(&app.writer, store, &logkey, err, sizeof err) == -1) {
		fprintf(stderr, "sealtipd: %s: %s\n", db_path, err);
		goto done;
	}
	/* poll, not epoll: libmicrohttpd 0.9.75's epoll mode can abort in
	 * MHD_quiesce_daemon (a worker removes the listen socket from its epoll
	 * set first, and the second removal's ENOENT is a panic), and, being
	 * edge-triggered, misses an end of stream that comes right behind the
	 * last bytes it read, keeping a stopped upload's slot until --timeout. */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC,
	    0, NULL, NULL, http_handle, &app, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)lfd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)cfg.timeout, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)cfg.max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)CONFIG_CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, http_completed, &app,
	    MHD_OPTION_NOTIFY_CONNECTION, http_conns_notify, &app.conns,
	    MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, &app, MHD_OPTION_URI_LOG_CALLBACK,
	    http_request_new, &app, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "sealtipd: libmicrohttpd could not start\n");
		goto done;
	}
	printf("listening on http://%s/\n", shown);
	print_recipients(keys, cfg.nrecipients);
	if (key_created)
		printf("log key created: %s/%s\n", cfg.data_dir, LOGKEY_FILE);
	printf("log verifier key %s\n", logkey.vkey);
	if (strcmp(cfg.origin, CONFIG_DEFAULT_ORIGIN) == 0)
		printf("warning: the log origin is the default '%s'; a deployment sets its "
		       "own with --origin before its first start (it cannot change later)\n",
		    CONFIG_DEFAULT_ORIGIN);
	if (app.webfd != -1)
		printf("serving %s\n", web_shown);
	printf("export endpoint %s\n", app.export_enabled ? "enabled" : "disabled");
	if (cfg.pow_bits > 0)
		printf("proof of work %u bits, challenges valid %u s\n", cfg.pow_bits, cfg.pow_ttl);
	else
		printf("proof of work off\n");
	fflush(stdout);
	/* From here on log lines never wait for whoever reads them. */
	if (serverlog_start() == -1)
		fprintf(stderr, "sealtipd: warning: no thread for log lines; they are written "
				"directly\n");
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	serverlog_info("sealtipd: stopping");
	/* Stop accepting, let what is in flight finish, then close. */
	quiesced = MHD_quiesce_daemon(d);
	if (quiesced != MHD_INVALID_SOCKET)
		close(quiesced);
	lfd = -1;
	atomic_store(&app.stopping, 1); /* uploads not yet begun get 503 */
	drain(&app, cfg.timeout + 5);
	http_close_suspensions(&app);
	MHD_stop_daemon(d);
	d = NULL;
	exit_code = 0;
done:
	if (d != NULL)
		MHD_stop_daemon(d);
	if (app.writer != NULL) {
		writer_stats(app.writer, &commits, &rows);
		writer_stop(app.writer);
	}
	/* The last lines out, waiting a little for a reader that is slow. */
	serverlog_stop(SEALTIPD_LOG_WAIT_MS);
	if (app.writer != NULL && exit_code == 0)
		printf("sealtipd: stopped; %llu reports stored in %llu commits\n",
		    (unsigned long long)rows, (unsigned long long)commits);
	if (app.conns.running && exit_code == 0) {
		http_conns_stats(&app.conns, &cut_deadline, &cut_budget);
		printf("sealtipd: connections cut: %llu at the header deadline, %llu over the "
		       "waiting budget\n",
		    cut_deadline, cut_budget);
	}
	http_conns_stop(&app.conns);
	if (app.quota.cfg != NULL)
		quota_free(&app.quota);
	for (i = 0; i < app.nlog_readers; i++)
		store_close(app.log_readers[i]);
	store_close(store);
	logkey_free(&logkey);
	if (lfd != -1)
		close(lfd);
	if (app.webfd != -1)
		close(app.webfd);
	if (app.datafd != -1)
		close(app.datafd);
	pthread_mutex_destroy(&app.suspend_lock);
	pthread_cond_destroy(&app.suspend_cond);
	for (i = 0; i < HTTP_LOG_READERS_MAX; i++)
		pthread_mutex_destroy(&app.log_locks[i]);
	free(app.config_json);
	free(db_path);
	sodium_memzero(app.export_token_hash, sizeof app.export_token_hash);
	pow_gate_free(&app.pow);
	config_free(&cfg);
	fflush(stdout);
	return exit_code;
}
