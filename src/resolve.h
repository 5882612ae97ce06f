/* Name lookup with a deadline. getaddrinfo can wait on a stalled resolver
 * for as long as resolv.conf's retries add up to, and the tool's caught
 * signals are blocked outside interrupt_wait: the lookup runs on a thread
 * of its own while the caller waits for it, a signal, or the deadline. */
#ifndef SEALTIP_RESOLVE_H
#define SEALTIP_RESOLVE_H

#include <netdb.h>

/* getaddrinfo(host, port, hints), given up on after timeout_ms. Returns 0
 * (*result then to be freed with freeaddrinfo), getaddrinfo's error code
 * (for gai_strerror), or EAI_SYSTEM with errno ETIMEDOUT, EINTR (a signal
 * caught by interrupt_catch) or the thread's start error. A lookup given up
 * on finishes on its thread, which frees what it finds. */
int resolve_name(const char *host, const char *port, const struct addrinfo *hints,
    int timeout_ms, struct addrinfo **result);

#endif
