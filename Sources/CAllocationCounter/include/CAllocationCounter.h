#ifndef BROWNOUT_CALLOCATIONCOUNTER_H
#define BROWNOUT_CALLOCATIONCOUNTER_H

/// Heap allocations made by this process so far (malloc, calloc, realloc, aligned and
/// posix_memalign allocations), counted by the interposer in allocation_counter.c. Only the
/// executable that links this target counts; deterministic for a fixed workload.
unsigned long long brownout_allocation_count(void);

#endif
