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

#endif
