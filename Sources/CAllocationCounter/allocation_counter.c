// Counts heap allocations by defining the allocator's entry points in the executable that
// links this target (brownout-bench): the dynamic linker resolves every library's malloc to
// these first, and they forward to glibc's own. The idea of swift-nio's allocation tests; the
// code is this project's. Linux (glibc) only.
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include "CAllocationCounter.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define BROWNOUT_UNDER_SANITIZER 1
#endif
#endif

// Under a sanitizer its own allocator intercepts these functions: counting is left to it.
#if defined(__linux__) && defined(__GLIBC__) && !defined(BROWNOUT_UNDER_SANITIZER)
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void __libc_free(void *pointer);
extern void *__libc_memalign(size_t alignment, size_t size);

static _Atomic unsigned long long allocations;

static inline void count(void) { atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed); }

void *malloc(size_t size) { count(); return __libc_malloc(size); }
void *calloc(size_t number, size_t size) { count(); return __libc_calloc(number, size); }
void *realloc(void *pointer, size_t size) { count(); return __libc_realloc(pointer, size); }
void free(void *pointer) { __libc_free(pointer); }
void *memalign(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
int posix_memalign(void **result, size_t alignment, size_t size) {
    count();
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *result = pointer;
    return 0;
}

unsigned long long brownout_allocation_count(void) { return atomic_load_explicit(&allocations, memory_order_relaxed); }
#else
unsigned long long brownout_allocation_count(void) { return 0; }
#endif
