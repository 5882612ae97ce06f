/* The client side of a SOCKS5 CONNECT (RFC 1928) by host name, as Tor's
 * SOCKS port takes it: the proxy resolves the name, so no DNS query for it
 * leaves this machine, and an .onion name reaches its onion service. Each
 * run offers a random user name and password (RFC 1929), which Tor takes
 * as the key of a circuit of its own (IsolateSOCKSAuth, on by default):
 * one run's connections share no circuit with the browser's or another
 * run's. */
#ifndef SEALTIP_SOCKS_H
#define SEALTIP_SOCKS_H

#include <stddef.h>

/* Asks the proxy connected on fd for a connection to host (1 to 255 bytes)
 * port (decimal), within timeout_ms for the whole handshake. Reads nothing
 * past the proxy's reply. Returns 0 (fd then
 * carries the connection), or -1 with why set (one line, for the caller to
 * print), or -1 with errno EINTR and why empty once a signal caught by
 * interrupt_catch came. */
int socks_connect(int fd, const char *host, const char *port, int timeout_ms, char *why,
    size_t whylen);

/* Whether host is an onion service's name (ends in ".onion", any case, a
 * final dot allowed): only a Tor SOCKS proxy can reach it, and asking the
 * system's resolver for it would tell the resolver. */
int socks_is_onion(const char *host);

#endif
