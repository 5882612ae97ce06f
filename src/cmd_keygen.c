/* sealtip keygen: a new investigator key pair, BASE.key and BASE.pub. Run on
 * the offline machine; only BASE.pub (and its fingerprint) ever leaves it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "interrupt.h"
#include "keyfile.h"
#include "passphrase.h"
#include "safename.h"
#include "status.h"
#include "tool.h"

static const char keygen_usage[] =
    "usage: sealtip keygen [--unprotected | --passphrase-file FILE]\n"
    "                      [--kdf interactive|moderate|sensitive] -o BASE\n";

static const char keygen_help[] =
    "\n"
    "Creates an investigator key pair: BASE.key, the secret key (mode 0600, stays\n"
    "on the offline machine) and BASE.pub, the public key to publish. Neither file\n"
    "may exist already. The passphrase is asked twice on the terminal unless\n"
    "--passphrase-file or --unprotected is given.\n"
    "\n"
    "  -o, --output BASE          write BASE.key and BASE.pub\n"
    "      --passphrase-file FILE take the passphrase from the first line of FILE\n"
    "      --unprotected          no passphrase: for automation on a protected disk\n"
    "      --kdf COST             Argon2id cost of the passphrase: interactive,\n"
    "                             moderate (default) or sensitive\n"
    "  -h, --help                 show this help\n";

/* True when path exists (or cannot be checked: then we say why and stop). */
static int
keygen_taken(const char *path, int *taken)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		*taken = 1;
		return 0;
	}
	if (errno == ENOENT) {
		*taken = 0;
		return 0;
	}
	tool_error("%s: cannot check whether it exists: %s", path, strerror(errno));
	return -1;
}

/* Why fileio_write_new failed, as the end of an error line. */
static const char *
keygen_why(int err)
{
	static char why[160];

	if (err == EEXIST)
		return "already exists; not overwriting it";
	snprintf(why, sizeof why, "cannot write: %s", strerror(err));
	return why;
}

int
cmd_keygen(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"passphrase-file", required_argument, NULL, 'p'},
	    {"unprotected", no_argument, NULL, 'u'},
	    {"kdf", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct keyfile_kdf_limits *limits = &keyfile_kdf_moderate;
	const char *base = NULL, *passphrase_file = NULL, *kdf = NULL;
	struct keyfile_secret *sk = NULL;
	struct keyfile_public *pk;
	char *key_path = NULL, *pub_path = NULL, *passphrase = NULL, *sk_text = NULL;
	char pk_text[KEYFILE_TEXT_MAX], id_hex[KEYFILE_KEY_ID_HEX_SIZE];
	char fingerprint[KEYFILE_FINGERPRINT_SIZE];
	size_t passphrase_len = 0, sk_len, pk_len;
	int ch, unprotected = 0, taken_key, taken_pub, st, fd, err, rc = TOOL_EXIT_FAIL;

	tool_options_begin();
	while ((ch = tool_getopt(argc, argv, ":ho:", longopts)) != -1) {
		switch (ch) {
		case 'o':
			base = optarg;
			break;
		case 'p':
			passphrase_file = optarg;
			break;
		case 'u':
			unprotected = 1;
			break;
		case 'k':
			kdf = optarg;
			break;
		case 'h':
			fputs(keygen_usage, stdout);
			fputs(keygen_help, stdout);
			return TOOL_EXIT_OK;
		default:
			return tool_option_error(keygen_usage, "keygen", ch, argv);
		}
	}
	if (optind < argc)
		return tool_usage_error(
		    keygen_usage, "keygen: unexpected argument %s", argv[optind]);
	if (base == NULL || base[0] == '\0')
		return tool_usage_error(keygen_usage, "keygen: -o BASE is required");
	if (unprotected && passphrase_file != NULL)
		return tool_usage_error(
		    keygen_usage, "keygen: --unprotected and --passphrase-file exclude each other");
	if (unprotected && kdf != NULL)
		return tool_usage_error(keygen_usage,
		    "keygen: --kdf sets the passphrase's cost; an --unprotected key has none");
	if (kdf != NULL) {
		if (strcmp(kdf, "interactive") == 0)
			limits = &keyfile_kdf_interactive;
		else if (strcmp(kdf, "moderate") == 0)
			limits = &keyfile_kdf_moderate;
		else if (strcmp(kdf, "sensitive") == 0)
			limits = &keyfile_kdf_sensitive;
		else
			return tool_usage_error(keygen_usage,
			    "keygen: unknown --kdf %s (interactive, moderate or sensitive)", kdf);
	}
	if (unprotected)
		limits = NULL;

	if (asprintf(&key_path, "%s.key", base) == -1) {
		key_path = NULL;
		tool_error("out of memory");
		goto out;
	}
	if (asprintf(&pub_path, "%s.pub", base) == -1) {
		pub_path = NULL;
		tool_error("out of memory");
		goto out;
	}
	/* Checked before asking anything, so nobody types a passphrase twice and
	 * waits for Argon2id to hear that the name is taken. The write itself
	 * never replaces a file either, so a race loses nothing. */
	if (keygen_taken(key_path, &taken_key) == -1 || keygen_taken(pub_path, &taken_pub) == -1)
		goto out;
	if (taken_key || taken_pub) {
		tool_error("%s: already exists; not overwriting it (nothing was written)",
		    taken_key ? key_path : pub_path);
		goto out;
	}

	if (passphrase_file != NULL) {
		if (passphrase_from_file(passphrase_file, &passphrase, &passphrase_len) == -1)
			goto out;
	} else if (!unprotected) {
		/* Say what to do instead, which passphrase_from_tty cannot know. */
		if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
			tool_error(
			    "no terminal to ask for a passphrase: use --passphrase-file FILE, "
			    "or --unprotected for a key without one");
			goto out;
		}
		close(fd);
		if (passphrase_from_tty("Passphrase for the new secret key: ", 1, &passphrase,
			&passphrase_len) == -1)
			goto out;
	}

	/* The text of an unprotected secret key is the key: sodium_malloc too. */
	if ((sk_text = sodium_malloc(KEYFILE_TEXT_MAX)) == NULL) {
		tool_error("out of memory");
		goto out;
	}
	if ((st = keyfile_secret_generate(&sk)) != ST_OK ||
	    (st = keyfile_secret_format(sk, passphrase, passphrase_len, limits, sk_text,
		 KEYFILE_TEXT_MAX, &sk_len)) != ST_OK ||
	    (st = keyfile_public_format(&sk->pub, pk_text, sizeof pk_text, &pk_len)) != ST_OK) {
		tool_error("%s: cannot make the key: %s", key_path, status_message(st));
		goto out;
	}

	/* From the first temp file on, ^C, SIGTERM and SIGHUP wait until the
	 * files are written (or not): killed between its write and its rename,
	 * the temp file would stay behind, hidden, holding the secret key.
	 * After the passphrase prompt and Argon2id, which need no cleaning up. */
	interrupt_catch();
	/* The secret key first: a public key without its secret key would let
	 * people send reports nobody can read. */
	if (fileio_write_new(key_path, sk_text, sk_len, 0600) == -1) {
		tool_error("%s: %s", key_path, keygen_why(errno));
		goto out;
	}
	if (interrupt_poll() != 0) {
		(void)unlink(key_path);
		tool_error("%s: interrupted; nothing was written", key_path);
		goto out;
	}
	if (fileio_write_new(pub_path, pk_text, pk_len, 0644) == -1) {
		err = errno;
		if (unlink(key_path) == 0)
			tool_error("%s: %s (removed %s again: no half pair is left)", pub_path,
			    keygen_why(err), key_path);
		else {
			int unlink_err = errno;

			tool_error("%s: %s (and %s, already written, could not be removed: %s)",
			    pub_path, keygen_why(err), key_path, strerror(unlink_err));
		}
		goto out;
	}
	if (interrupt_poll() != 0) {
		(void)unlink(pub_path);
		(void)unlink(key_path);
		tool_error("%s: interrupted; nothing was written", key_path);
		goto out;
	}

	pk = &sk->pub;
	keyfile_key_id_hex(pk->key_id, id_hex);
	keyfile_fingerprint(pk, fingerprint);
	/* The warning first: it must not be lost if stdout fails. */
	if (unprotected)
		tool_error("warning: %s is not protected by a passphrase: anyone who can read "
			   "the file can read every report sent to this key",
		    key_path);
	printf("key id:      %s\nfingerprint: %s\npublic key:  ", id_hex, fingerprint);
	safename_put_line(stdout, pub_path);
	printf(" (publish it, with the fingerprint for people to check)\nsecret key:  ");
	safename_put_line(stdout, key_path);
	printf(" (keep it on the offline machine; it reads every report)\n");
	if (fflush(stdout) == EOF || ferror(stdout)) {
		tool_error("cannot write to standard output (the key files were written)");
		goto out;
	}
	rc = TOOL_EXIT_OK;
out:
	keyfile_secret_free(sk);
	passphrase_free(passphrase);
	if (sk_text != NULL) {
		sodium_memzero(sk_text, KEYFILE_TEXT_MAX);
		sodium_free(sk_text);
	}
	free(key_path);
	free(pub_path);
	interrupt_reraise();
	return rc;
}
