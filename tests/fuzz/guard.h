/* Shared by the fuzz targets: a copy of the input that ends exactly where an
 * unmapped page begins. Parsers take (buffer, length) and must not look past
 * the length; ASan catches that in instrumented code, but not inside libc
 * (sscanf, for one, first measures its string with an uninstrumented
 * rawmemchr), where an over-read only crashes when it happens to run off
 * the heap. With the guard page every read past the end crashes at once,
 * in the libFuzzer build and in the regression replay alike. */
#ifndef SEALTIP_FUZZ_GUARD_H
#define SEALTIP_FUZZ_GUARD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* gcc says __SANITIZE_ADDRESS__, clang 14 __has_feature(address_sanitizer). */
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#endif

static const uint8_t *
fuzz_guarded_copy(const uint8_t *data, size_t size)
{
	static uint8_t *region;
	static size_t region_len, usable;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), need;

	/* Mapped on the first call even for an empty input: libFuzzer never
	 * passes NULL, and neither does this. */
	if (region == NULL || size > usable) {
		if (region != NULL) {
#ifdef FUZZ_ASAN
			ASAN_UNPOISON_MEMORY_REGION(region, usable);
#endif
			munmap(region, region_len);
		}
		need = (size + page - 1) / page * page;
		if (need == 0)
			need = page;
		region_len = need + page;
		region = mmap(NULL, region_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
		if (region == MAP_FAILED || mprotect(region + need, page, PROT_NONE) != 0)
			abort();
		usable = need;
	}
#ifdef FUZZ_ASAN
	/* Reads before the start are caught by ASan instead. */
	ASAN_UNPOISON_MEMORY_REGION(region, usable);
	ASAN_POISON_MEMORY_REGION(region, usable - size);
#endif
	if (size > 0)
		memcpy(region + usable - size, data, size);
	return region + usable - size;
}

#endif
