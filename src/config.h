/* sealtipd settings: one option table read from the command line and from a
 * `key = value` config file (same names; the command line wins), and every
 * limit the server enforces, named in one place. */
#ifndef SEALTIP_CONFIG_H
#define SEALTIP_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define CONFIG_MAX_RECIPIENTS 16
#define CONFIG_DEFAULT_LISTEN "127.0.0.1:8080"
#define CONFIG_DEFAULT_MAX_REPORT_BYTES (100u * 1024u * 1024u)
/* sqlite refuses blobs over 10^9 bytes (SQLITE_MAX_LENGTH). */
#define CONFIG_MAX_REPORT_BYTES_LIMIT 1000000000u
#define CONFIG_DEFAULT_TIMEOUT 30
#define CONFIG_DEFAULT_MAX_CONNECTIONS 512
#define CONFIG_DEFAULT_THREADS 4
/* The request line and headers, as they take up libmicrohttpd's memory for
 * the connection (http.c): a request over this gets our own 431. */
#define CONFIG_MAX_HEADER_BYTES 32768
/* libmicrohttpd's memory for one connection. The request's headers stay in
 * it until the answer is sent, and the answer's headers (about 1 KiB) are
 * built in what they leave: with no room, libmicrohttpd 0.9.75 closes the
 * connection unanswered, after the handler has run. Twice the header
 * limit, so a request within that limit always leaves room for the answer
 * and for what was read ahead of it (docs/server.md, "Limits"). */
#define CONFIG_CONNECTION_MEMORY (2 * CONFIG_MAX_HEADER_BYTES)
/* An upload slower than this on average (after its first timeout seconds) is
 * cut off: the idle timeout alone would let a 1 byte/s client hold a slot. */
#define CONFIG_MIN_UPLOAD_RATE 1024
#define CONFIG_LINE_MAX 4096
/* The log's origin line and key name when none is set. Deployments set
 * their own (docs/server.md, "Log key and origin"). */
#define CONFIG_DEFAULT_ORIGIN "sealtip.example/log"
#define CONFIG_FILE_MAX (64 * 1024)
/* Proof-of-work difficulty in leading zero bits (docs/api.md, "Proof of
 * work"); 0 turns it off. */
#define CONFIG_DEFAULT_POW_BITS 18
#define CONFIG_MAX_POW_BITS 32
/* How long a proof-of-work challenge stays valid (and spent ones are
 * remembered). */
#define CONFIG_DEFAULT_POW_TTL 300
/* Space left free on the data folder's file system: uploads that would eat
 * into it get 507, long before sqlite meets a full disk. */
#define CONFIG_DEFAULT_DISK_RESERVE_BYTES (256u * 1024u * 1024u)
#define CONFIG_DEFAULT_MAX_UPLOADS 64

struct config {
	char *data_dir;
	char *recipients[CONFIG_MAX_RECIPIENTS];
	size_t nrecipients;
	char *listen;
	char *web;		 /* NULL: build/web if it exists, else web */
	char *export_token_file; /* NULL: export endpoint disabled */
	uint64_t max_report_bytes;
	unsigned timeout; /* seconds */
	unsigned max_connections;
	unsigned threads;
	char *origin;		/* checkpoint origin = log key name */
	unsigned pow_bits;	/* 0: no proof of work asked */
	unsigned pow_ttl;	/* seconds a challenge is valid */
	uint64_t max_stored_bytes;   /* envelopes in the database; 0: no quota */
	uint64_t disk_reserve_bytes; /* free space never used by uploads */
	unsigned max_uploads;	     /* request bodies being received at once */
	char *user;		     /* started as root: run as this user */
	int print_verifier_key; /* --print-verifier-key: print it and exit */
	/* --adopt-log-key: a log.key made before the database (by an older
	 * --print-verifier-key) is taken as this log's, once */
	int adopt_log_key;
};

/* Fills cfg from argv (argv[0] is the program) and the file named by
 * --config, then applies defaults. Returns 0, 1 after printing --help on
 * stdout, -1 after a usage error, or -2 when the --config file cannot be
 * read or holds a bad setting (both said on stderr). */
int config_parse(struct config *cfg, int argc, char **argv);

/* Prints the option list (same text for --help and usage errors). */
void config_usage(FILE *out);

/* Frees the strings; the struct may be reused after config_free. */
void config_free(struct config *cfg);

#endif
