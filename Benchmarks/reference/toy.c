/* The toy reference model as a tight C loop: the practical speed limit for Brownout's kernel.
 *
 * Poisson arrivals at 1000 req/s until time S; each attempt takes lognormal(-0.5, 0.5) s
 * and then fails with probability 0.05; a failed attempt goes to the next provider
 * (0 -> 1 -> 2); after the third failure the request fails; in-flight work drains after S.
 * Time is integer nanoseconds; the event queue is a binary heap of plain structs ordered by
 * (time, insertion sequence); one GSL MT19937 generator per stream, as in the Swift model.
 *
 * Usage: toy DURATION_SECONDS [SEED]   Prints one JSON object.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

enum { ARRIVAL = 0, ATTEMPT_DONE = 1, PROVIDERS = 3 };

typedef struct {
    int64_t time;
    uint64_t seq;
    int32_t kind;
    int32_t provider;
    int64_t request;
} event_t;

static event_t *heap;
static size_t heap_len, heap_cap;
static uint64_t next_seq;

static inline int precedes(const event_t *a, const event_t *b) {
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void push(int64_t time, int32_t kind, int32_t provider, int64_t request) {
    if (heap_len == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : 1024;
        heap = realloc(heap, heap_cap * sizeof(event_t));
        if (!heap) { perror("realloc"); exit(1); }
    }
    event_t e = {time, next_seq++, kind, provider, request};
    size_t i = heap_len++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!precedes(&e, &heap[p])) break;
        heap[i] = heap[p];
        i = p;
    }
    heap[i] = e;
}

static event_t pop(void) {
    event_t top = heap[0];
    event_t last = heap[--heap_len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= heap_len) break;
        if (c + 1 < heap_len && precedes(&heap[c + 1], &heap[c])) c++;
        if (!precedes(&heap[c], &last)) break;
        heap[i] = heap[c];
        i = c;
    }
    if (heap_len > 0) heap[i] = last;
    return top;
}

static inline int64_t ns(double seconds) { return (int64_t)llround(seconds * 1e9); }

static gsl_rng *stream(unsigned long seed) {
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: toy DURATION_SECONDS [SEED]\n"); return 2; }
    double duration = atof(argv[1]);
    unsigned long seed = argc > 2 ? strtoul(argv[2], NULL, 10) : 1;
    if (!(duration > 0)) { fprintf(stderr, "toy: DURATION_SECONDS must be > 0\n"); return 2; }
    gsl_set_error_handler_off();
    gsl_rng *arrivals = stream(seed * 7 + 1);
    gsl_rng *latency[PROVIDERS], *failure[PROVIDERS];
    for (int p = 0; p < PROVIDERS; p++) {
        latency[p] = stream(seed * 7 + 2 + 2 * p);
        failure[p] = stream(seed * 7 + 3 + 2 * p);
    }
    const int64_t horizon = ns(duration);
    long requests = 0, ok = 0, failed = 0, attempts = 0, events = 0;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t first = ns(gsl_ran_exponential(arrivals, 1e-3));
    if (first < horizon) push(first, ARRIVAL, 0, 0);
    while (heap_len > 0) {
        event_t e = pop();
        events++;
        if (e.kind == ARRIVAL) {
            requests++;
            attempts++;
            push(e.time + ns(gsl_ran_lognormal(latency[0], -0.5, 0.5)), ATTEMPT_DONE, 0, requests);
            int64_t next = e.time + ns(gsl_ran_exponential(arrivals, 1e-3));
            if (next < horizon) push(next, ARRIVAL, 0, 0);
        } else if (gsl_rng_uniform(failure[e.provider]) >= 0.05) {
            ok++;
        } else if (e.provider + 1 < PROVIDERS) {
            int p = e.provider + 1;
            attempts++;
            push(e.time + ns(gsl_ran_lognormal(latency[p], -0.5, 0.5)), ATTEMPT_DONE, p, e.request);
        } else {
            failed++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("{\"requests\": %ld, \"ok\": %ld, \"failed\": %ld, \"attempts\": %ld, \"events\": %ld, "
           "\"wall_seconds\": %.4f, \"requests_per_second\": %.0f, \"peak_rss_mib\": %.1f}\n",
           requests, ok, failed, attempts, events, wall, requests / wall, usage.ru_maxrss / 1024.0);
    return 0;
}
