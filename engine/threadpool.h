/*
 * threadpool.h - a fixed set of worker threads for the forward passes of
 * the engine: eng_pool_run() runs one function on every thread (the
 * caller's included) and returns when all are done; the function splits
 * its work by its thread index (rows of a matrix product, attention
 * heads).
 *
 * Idle workers sleep on a condition variable: a pool costs no CPU between
 * forward passes. Right after a job a worker spins for up to 50
 * microseconds before sleeping, and so does the caller waiting for the
 * workers, so that the back-to-back jobs of one forward pass (some 150 per
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
/* Runs fn(ctx, ith, nth) for ith = 0 .. nth - 1 at once, ith 0 on the
 * calling thread, and returns when every call has returned. One caller at
 * a time; fn must not call eng_pool_run() on the same pool. */
void eng_pool_run(struct eng_pool *p, void (*fn)(void *ctx, int ith, int nth), void *ctx);

#endif
