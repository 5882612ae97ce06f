/* A name resolver for the tests to shape, with LD_PRELOAD, so that the
 * real tools meet one that stalls or hands out addresses that go nowhere:
 *   SEALTIP_TEST_RESOLVE_DELAY_MS=N    getaddrinfo answers N ms late;
 *   SEALTIP_TEST_RESOLVE_ADDRS=A,B...  and answers with these numeric
 *                                      addresses, in this order, whatever
 *                                      the name asked for. */
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *,
    struct addrinfo **);

int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
    struct addrinfo **res)
{
	getaddrinfo_fn real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
	const char *delay = getenv("SEALTIP_TEST_RESOLVE_DELAY_MS"),
		   *addrs = getenv("SEALTIP_TEST_RESOLVE_ADDRS");
	struct addrinfo numeric, *head = NULL, **tail = &head, *one;
	char list[256], *name, *save = NULL;
	struct timespec ts;
	long ms;
	int rc;

	if (delay != NULL && (ms = strtol(delay, NULL, 10)) > 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = ms % 1000 * 1000000;
		while (nanosleep(&ts, &ts) == -1)
			;
	}
	if (addrs == NULL || strlen(addrs) >= sizeof list)
		return real(node, service, hints, res);
	numeric = *hints;
	numeric.ai_flags |= AI_NUMERICHOST;
	strcpy(list, addrs);
	/* glibc's freeaddrinfo frees node by node: chained lists free whole. */
	for (name = strtok_r(list, ",", &save); name != NULL; name = strtok_r(NULL, ",", &save)) {
		if ((rc = real(name, service, &numeric, &one)) != 0) {
			if (head != NULL)
				freeaddrinfo(head);
			return rc;
		}
		*tail = one;
		while (*tail != NULL)
			tail = &(*tail)->ai_next;
	}
	*res = head;
	return head != NULL ? 0 : EAI_NONAME;
}
