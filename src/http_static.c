#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_static.h"

#define STATIC_PATH_MAX 1024
#define STATIC_DEPTH_MAX 16

static const struct mime {
	const char *ext;
	const char *type;
} mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"wasm", "application/wasm"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"ico", "image/x-icon"},
    {"webp", "image/webp"},
    {"txt", "text/plain; charset=utf-8"},
    {"woff2", "font/woff2"},
    {"map", "application/json"},
    {"pub", "text/plain; charset=utf-8"},
};

static const char *
mime_for(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot != NULL)
		for (i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++)
			if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
				return mime_types[i].type;
	return "application/octet-stream";
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes raw (which starts with '/') into out without the leading
 * slash. Refuses what no file of ours is named with: NUL, backslash, control
 * bytes, and an encoded slash (which would hide a path separator). */
static int
decode_path(const char *raw, char *out, size_t outsize)
{
	size_t o = 0;
	int hi, lo;
	unsigned char c;

	if (*raw++ != '/')
		return -1;
	while (*raw != '\0') {
		c = (unsigned char)*raw++;
		if (c == '%') {
			if ((hi = hexval(raw[0])) < 0 || (lo = hexval(raw[1])) < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			raw += 2;
			if (c == '/')
				return -1;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return -1;
		if (o + 1 >= outsize)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Opens path below the web root one component at a time, refusing empty,
 * "." , ".." and hidden components and every symlink: nothing outside the
 * root can be reached however the tree is laid out. */
static int
open_below(int rootfd, char *path)
{
	char *seg, *next;
	int fd = -1, dirfd = rootfd, depth = 0, saved;

	for (seg = path; seg != NULL; seg = next) {
		if ((next = strchr(seg, '/')) != NULL)
			*next++ = '\0';
		if (*seg == '\0' || *seg == '.' || ++depth > STATIC_DEPTH_MAX)
			goto fail;
		fd = openat(
		    dirfd, seg, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (next ? O_DIRECTORY : 0));
		if (dirfd != rootfd)
			close(dirfd);
		dirfd = rootfd;
		if (fd == -1)
			return -1;
		if (next != NULL) {
			dirfd = fd;
			fd = -1;
		}
	}
	return fd;
fail:
	saved = errno;
	if (dirfd != rootfd)
		close(dirfd);
	errno = saved;
	return -1;
}

/* If-None-Match holds our tag (or "*"): weak comparison, as RFC 9110 says. */
static int
etag_matches(const char *header, const char *etag)
{
	const char *p = header, *start;
	size_t len, elen = strlen(etag);

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		start = p;
		while (*p != '\0' && *p != ',')
			p++;
		len = (size_t)(p - start);
		while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
			len--;
		if (len == 1 && start[0] == '*')
			return 1;
		if (len > 2 && start[0] == 'W' && start[1] == '/') {
			start += 2;
			len -= 2;
		}
		if (len == elen && memcmp(start, etag, elen) == 0)
			return 1;
	}
	return 0;
}

enum MHD_Result
http_static(struct http_app *app, struct MHD_Connection *conn, const char *raw_path)
{
	char path[STATIC_PATH_MAX], etag[80];
	const char *inm, *name;
	struct MHD_Response *r;
	struct stat st;
	int fd = -1;

	if (app->webfd == -1)
		goto not_found;
	if (strcmp(raw_path, "/") == 0)
		snprintf(path, sizeof path, "index.html");
	else if (decode_path(raw_path, path, sizeof path) == -1)
		goto not_found;
	name = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	if ((fd = open_below(app->webfd, path)) == -1)
		goto not_found;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		goto not_found;
	/* Strong: any change of content changes size, mtime or inode. */
	snprintf(etag, sizeof etag, "\"%llx-%llx-%lx-%llx\"", (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec,
	    (unsigned long long)st.st_ino);
	inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL && etag_matches(inm, etag)) {
		close(fd);
		if ((r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)) == NULL)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
		return http_queue(conn, MHD_HTTP_NOT_MODIFIED, r, 0);
	}
	/* MHD owns fd from here, and closes it. */
	if ((r = MHD_create_response_from_fd((size_t)st.st_size, fd)) == NULL) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, mime_for(name));
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	return http_queue(conn, MHD_HTTP_OK, r, 0);
not_found:
	if (fd != -1)
		close(fd);
	return http_reply_error(conn, 404, "not_found", "no such resource");
}
