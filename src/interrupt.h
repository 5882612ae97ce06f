/* SIGINT, SIGTERM and SIGHUP for the tool's long commands: caught, so that
 * what is half written can be removed first, then raised again so that the
 * shell sees the usual death by signal. */
#ifndef SEALTIP_INTERRUPT_H
#define SEALTIP_INTERRUPT_H

/* Catches the three signals (not one ignored or blocked on entry, as a
 * background job's SIGINT) and blocks them: they are seen only by interrupt_wait and
 * interrupt_poll. Call on the main thread before starting any other. */
void interrupt_catch(void);

/* Waits until fd is ready for events (POLLIN, POLLOUT), at most timeout_ms
 * (-1: no limit); returns the events that came (poll's revents, > 0), or -1
 * with errno EINTR once a caught signal came, ETIMEDOUT, or another poll
 * error. A signal that comes just before a
 * read blocked on a slow input is not missed. */
int interrupt_wait(int fd, short events, int timeout_ms);

/* Non-zero once a caught signal came: its number. Never blocks, and leaves
 * errno as it was. */
int interrupt_poll(void);

/* When a caught signal came: dies of it (default action). Call last. */
void interrupt_reraise(void);

#endif
