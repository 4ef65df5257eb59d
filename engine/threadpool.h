/*
 * threadpool.h - a fixed set of worker threads for the forward passes of
 * the engine: eng_pool_run() splits one job into chunks (rows of a matrix
 * product, attention heads, tokens), runs each chunk once on some thread
 * of the pool (the caller's included), and returns when all are done.
 * Chunks go to whichever thread asks first, so a thread that another
 * program keeps off the CPU delays nobody: the others do its share.
 *
 * Idle workers sleep on a condition variable: a pool costs no CPU between
 * forward passes. Right after a job a worker spins for up to 50
 * microseconds before sleeping, and so does the caller waiting for the
 * workers, so that the back-to-back jobs of one forward pass (over a hundred per
 * decoded token) pay no wake-up and no system call.
 */
#ifndef MX_THREADPOOL_H
#define MX_THREADPOOL_H

#include <stdbool.h>

struct eng_pool;

/* A pool of n threads in all (n - 1 workers besides the caller; 1 <= n <=
 * 256). 0, MX_EINVAL (n out of range), MX_ENOMEM (threads could not be
 * started). */
int eng_pool_new(int n, struct eng_pool **out);
void eng_pool_free(struct eng_pool *p); /* joins the workers; NULL is fine */
int eng_pool_threads(const struct eng_pool *p);
/* The most chunks of one job. */
#define ENG_POOL_MAX_CHUNKS 4096

/* Runs fn(ctx, i, n) for i = 0 .. n - 1 (n capped at ENG_POOL_MAX_CHUNKS),
 * each once, concurrently on the pool's threads in no set order (a thread
 * may run several chunks, or none), and returns when every call has
 * returned. Per-chunk scratch indexed by i is safe: one chunk runs on one
 * thread. One caller at a time; fn must not call the pool. */
void eng_pool_run_n(struct eng_pool *p, void (*fn)(void *ctx, int i, int n), void *ctx, int n);
/* eng_pool_run_n() with one chunk per thread (n = eng_pool_threads(p)). */
void eng_pool_run(struct eng_pool *p, void (*fn)(void *ctx, int i, int n), void *ctx);

/* Solo mode (off at first): the caller runs every chunk of a job itself,
 * in order, and the workers sleep. The chunks are the same as with the
 * pool, so a job whose chunks do not depend on the thread computes the
 * same bits either way. */
void eng_pool_set_solo(struct eng_pool *p, bool solo);
bool eng_pool_solo(const struct eng_pool *p);

/* ---- adaptive width ------------------------------------------------------------------ */

/* A chooser between two widths of a repeated step (decoding a token):
 * 1 thread (solo) and the whole pool. On a quiet machine the pool is
 * faster; when other programs keep the CPUs busy, every hand-over between
 * threads waits for a descheduled one and one thread alone can be faster.
 * The chooser is fed the time of each step at the width it asked for and
 * answers the width of the next step: it stays at its "home" width and,
 * every `every` steps, probes the other width for ENG_WIDTH_PROBE steps;
 * it moves home when the probe's mean time beats the mean of the last
 * ENG_WIDTH_RECENT home steps by a margin: ENG_WIDTH_MARGIN to move to the
 * pool, the wider ENG_WIDTH_MARGIN_SOLO to move to one thread (with a
 * 3 % margin both ways, a busy machine's noise moved it to one thread
 * when the pool was faster; README, "Decode width"). A pool probe's first
 * step, which wakes the sleeping workers, is not counted. A lost probe
 * doubles the interval (up to ENG_WIDTH_EVERY_MAX), a move resets it to
 * ENG_WIDTH_EVERY_MIN, so that a steady machine pays a probe rarely and a
 * change of load is found within some dozens of steps. Pure: no clock, no
 * thread; the caller times the steps. */
enum {
	ENG_WIDTH_PROBE = 3,
	ENG_WIDTH_RECENT = 8,
	ENG_WIDTH_EVERY_MIN = 16,
	ENG_WIDTH_EVERY_MAX = 128,
};
#define ENG_WIDTH_MARGIN      0.97 /* pool probe mean < MARGIN x home mean: to the pool */
#define ENG_WIDTH_MARGIN_SOLO 0.85 /* solo probe mean < MARGIN_SOLO x home mean: to 1 */

struct eng_width {
	int max;   /* the pool's width (the other choice is 1) */
	int pin;   /* 0 = adaptive, else the width of every step */
	int home;  /* the width the chooser settled on */
	int cur;   /* the width of the step being timed */
	int every; /* home steps between probes */
	int since; /* home steps since the last probe */
	int probe; /* probe steps timed so far (cur != home) */
	bool warm; /* the probe's next step wakes the workers (not counted) */
	double probe_sum;
	double recent[ENG_WIDTH_RECENT]; /* the last home steps' times, a ring */
	int n_recent, i_recent;
	long long steps, moves, probes; /* counters, for benches and tests */
};

/* Starts at the pool's width max (>= 1); pin 0 = adaptive, 1 = every
 * step solo, >= 2 = every step on the whole pool. */
void eng_width_init(struct eng_width *w, int max, int pin);
/* The width of the next step (1 or max). */
int eng_width_get(const struct eng_width *w);
/* Records that the step asked for by eng_width_get() took t (seconds or
 * any unit, > 0) and returns the width of the next step. */
int eng_width_step(struct eng_width *w, double t);

#endif
