/* Upload admission (src/quota.c): the disk one report needs, hand-computed;
 * the quota's boundary (equal fits, one byte over does not); reservations
 * held by uploads in flight and given back once; the upload slots; the
 * reserve against the real free space of a temp folder. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "quota.h"

struct fixture {
	struct config cfg;
	struct quota q;
	int dirfd;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	f->dirfd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dirfd == -1) {
		free(f);
		return -1;
	}
	f->cfg.max_uploads = 2;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	quota_free(&f->q);
	close(f->dirfd);
	free(f);
	return 0;
}

static uint64_t
free_space(int fd)
{
	struct statvfs st;

	assert_int_equal(fstatvfs(fd, &st), 0);
	return (uint64_t)st.f_bavail * st.f_frsize;
}

static void
disk_need_by_hand(void **state)
{
	(void)state;
	/* In memory: twice (len + len/128 + 64 KiB). */
	assert_int_equal(quota_disk_need(0), 2 * 65536);
	assert_int_equal(quota_disk_need(570), 2 * (570 + 4 + 65536));
	assert_int_equal(quota_disk_need(32768), 2 * (32768 + 256 + 65536));
	/* Spooled: the spool file's copy too. */
	assert_int_equal(quota_disk_need(32769), 32769 + 2 * (32769 + 256 + 65536));
	assert_int_equal(
	    quota_disk_need(1000000000), 1000000000 + 2 * (1000000000ull + 7812500 + 65536));
	/* Saturates instead of wrapping. */
	assert_true(quota_disk_need(UINT64_MAX) == UINT64_MAX);
}

static void
quota_boundary(void **state)
{
	struct fixture *f = *state;
	struct quota_ticket a = {0}, b = {0}, c = {0};

	f->cfg.max_stored_bytes = 1000;
	quota_init(&f->q, &f->cfg, f->dirfd, 400);
	/* 400 stored + 600 = 1000: fits exactly. */
	assert_int_equal(quota_admit(&f->q, 600, &a), QUOTA_OK);
	assert_int_equal(a.held, 1);
	/* In flight counts: nothing more fits, not even one byte. */
	assert_int_equal(quota_admit(&f->q, 1, &b), QUOTA_NO_ROOM);
	assert_int_equal(b.held, 0);
	/* Stored: its bytes move from held to stored at once, never counted
	 * twice (1000, not 1600), and ending it changes nothing more. */
	quota_stored(&f->q, &a, 600);
	assert_int_equal(f->q.stored, 1000);
	assert_int_equal(f->q.bytes_held, 0);
	assert_int_equal(quota_admit(&f->q, 1, &b), QUOTA_NO_ROOM);
	quota_release(&f->q, &a);
	assert_int_equal(f->q.stored, 1000);
	assert_int_equal(quota_admit(&f->q, 1, &b), QUOTA_NO_ROOM);
	/* Failed (never stored) and ended: its bytes come back. */
	f->q.stored = 400;
	assert_int_equal(quota_admit(&f->q, 600, &c), QUOTA_OK);
	quota_release(&f->q, &c);
	quota_release(&f->q, &c); /* twice is harmless */
	assert_int_equal(f->q.bytes_held, 0);
	assert_int_equal(f->q.disk_held, 0);
	assert_int_equal(f->q.uploads, 0);
	assert_int_equal(quota_admit(&f->q, 600, &c), QUOTA_OK);
	assert_int_equal(quota_admit(&f->q, 601, &b), QUOTA_NO_ROOM);
	quota_release(&f->q, &c);
}

static void
upload_slots(void **state)
{
	struct fixture *f = *state;
	struct quota_ticket a = {0}, b = {0}, c = {0}, d = {0};

	quota_init(&f->q, &f->cfg, f->dirfd, 0);
	assert_int_equal(quota_admit(&f->q, 100, &a), QUOTA_OK);
	assert_int_equal(quota_admit(&f->q, 100, &b), QUOTA_OK);
	assert_int_equal(quota_admit(&f->q, 100, &c), QUOTA_BUSY);
	/* A body all in frees its slot but keeps its bytes. */
	quota_received(&f->q, &a);
	quota_received(&f->q, &a);
	assert_int_equal(f->q.uploads, 1);
	assert_int_equal(f->q.bytes_held, 200);
	assert_int_equal(quota_admit(&f->q, 100, &c), QUOTA_OK);
	assert_int_equal(quota_admit(&f->q, 100, &d), QUOTA_BUSY);
	assert_int_equal(d.held, 0);
	quota_release(&f->q, &b);
	quota_release(&f->q, &c);
	assert_int_equal(f->q.uploads, 0);
	assert_int_equal(f->q.bytes_held, 100);
	quota_release(&f->q, &a);
	assert_int_equal(f->q.bytes_held, 0);
	assert_int_equal(f->q.disk_held, 0);
}

static void
disk_reserve(void **state)
{
	struct fixture *f = *state;
	struct quota_ticket a = {0}, b = {0};
	uint64_t avail = free_space(f->dirfd);

	quota_init(&f->q, &f->cfg, f->dirfd, 0);
	if (avail < 1024ull * 1024 * 1024) {
		print_message("/tmp has less than 1 GiB free: reserve test skipped\n");
		skip();
	}
	f->cfg.disk_reserve_bytes = avail + 1;
	assert_int_equal(quota_admit(&f->q, 0, &a), QUOTA_DISK_FULL);
	assert_int_equal(f->q.uploads, 0);
	/* A reserve leaving room for about one 100 MB upload (64 MiB of
	 * slack for whatever else writes to /tmp meanwhile): the second, with
	 * the first's reservation counted, does not fit. */
	f->cfg.disk_reserve_bytes = avail - quota_disk_need(100000000) - 64 * 1024 * 1024;
	assert_int_equal(quota_admit(&f->q, 100000000, &a), QUOTA_OK);
	assert_int_equal(quota_admit(&f->q, 100000000, &b), QUOTA_DISK_FULL);
	quota_release(&f->q, &a);
	assert_int_equal(quota_admit(&f->q, 100000000, &b), QUOTA_OK);
	quota_release(&f->q, &b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(disk_need_by_hand),
	    cmocka_unit_test_setup_teardown(quota_boundary, setup, teardown),
	    cmocka_unit_test_setup_teardown(upload_slots, setup, teardown),
	    cmocka_unit_test_setup_teardown(disk_reserve, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
