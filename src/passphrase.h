/* Passphrases: read into sodium_malloc memory and wiped when freed. */
#ifndef SEALTIP_PASSPHRASE_H
#define SEALTIP_PASSPHRASE_H

#include <stddef.h>

#define PASSPHRASE_MAX 1024

/* Both return 0, or -1 after printing the reason with tool_error. */

/* First line of a file, without its newline; an empty passphrase is refused. */
int passphrase_from_file(const char *path, char **out, size_t *len);

/* Asks on /dev/tty without echo; with confirm, asks twice and requires a match.
 * Fails when there is no terminal. */
int passphrase_from_tty(const char *prompt, int confirm, char **out, size_t *len);

/* Wipes and frees; NULL is fine. */
void passphrase_free(char *passphrase);

#endif
