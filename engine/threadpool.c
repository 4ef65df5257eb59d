/*
 * threadpool.c - see threadpool.h. A job is published by bumping the
 * generation counter; each worker runs the job of a generation once and
 * counts itself out of `pending`. Waiting (a worker for the next
 * generation, the caller for pending to reach 0) polls the atomic for up
 * to SPIN_NS, then sleeps on a condition variable. A sleeper announces
 * itself in `sleepers` under the mutex and checks the atomics again before
 * waiting; the other side takes the mutex and signals only when someone
 * may sleep, so the back-to-back jobs of a decoding step (some 150 per
 * token, microseconds apart) pay no system call, and no wake-up is lost:
 *
 *   waiter: lock; sleepers++; while (!ready) wait; sleepers--; unlock
 *   setter: ready = 1 (seq_cst); if (sleepers) { lock; broadcast; unlock }
 *
 * Either the setter sees the sleeper (and its broadcast, taken under the
 * mutex, comes after the waiter's check or wakes its wait), or the
 * waiter's increment came after the setter's load, so the waiter's check
 * sees ready (both are sequentially consistent).
 */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "../common/status.h"

/* How long a waiter spins before it sleeps: longer than the gaps between
 * the jobs of one decoding step (the caller's serial work between
 * products, a few microseconds), far shorter than a time slice, so an idle
 * pool stops using CPU within this much of its last job. Longer spins
 * (0.1 to 0.3 ms) measured worse on a loaded machine: a waiter that spins
 * through its partner's preemption only burns the CPU its partner needs. */
enum { SPIN_NS = 50 * 1000 };

struct worker {
	struct eng_pool *pool;
	pthread_t tid;
	int ith;
};

struct eng_pool {
	int n;
	pthread_mutex_t mu;
	pthread_cond_t work; /* a new generation, or stop */
	pthread_cond_t done; /* pending reached 0 */
	atomic_uint gen;
	atomic_int pending;
	atomic_int sleepers; /* threads in (or about to enter) a wait on a condition */
	atomic_bool stop;
	void (*fn)(void *ctx, int ith, int nth);
	void *ctx;
	struct worker *w;
	int started;
};

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The worker's condition to leave its wait. */
static bool worker_ready(struct eng_pool *p, unsigned seen)
{
	return atomic_load(&p->gen) != seen || atomic_load_explicit(&p->stop, memory_order_relaxed);
}

/* Polls until ready(p, arg) or SPIN_NS have passed; whether it became
 * ready. No `pause` in the loop: under KVM a pause loop makes the
 * hypervisor take the vCPU away (pause-loop exiting), which measured
 * worse than plain loads of the shared line. */
static bool spin_until(struct eng_pool *p, bool (*ready)(struct eng_pool *, unsigned), unsigned arg)
{
	long long t0 = 0;
	for (unsigned i = 1;; i++) {
		if (ready(p, arg))
			return true;
		if (i % 256 == 0) { /* the clock (vDSO, some 20 ns) now and then */
			long long t = now_ns();
			if (!t0)
				t0 = t;
			else if (t - t0 > SPIN_NS)
				return false;
		}
	}
}

/* Sleeps on cond until ready(p, arg). */
static void sleep_until(struct eng_pool *p, pthread_cond_t *cond,
			bool (*ready)(struct eng_pool *, unsigned), unsigned arg)
{
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add(&p->sleepers, 1);
	while (!ready(p, arg))
		pthread_cond_wait(cond, &p->mu);
	atomic_fetch_sub(&p->sleepers, 1);
	pthread_mutex_unlock(&p->mu);
}

/* After making a waiter's condition true: wake whoever sleeps. */
static void wake(struct eng_pool *p, pthread_cond_t *cond)
{
	if (atomic_load(&p->sleepers) == 0)
		return;
	pthread_mutex_lock(&p->mu);
	pthread_cond_broadcast(cond);
	pthread_mutex_unlock(&p->mu);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct eng_pool *p = w->pool;
	unsigned seen = 0;
	for (;;) {
		if (!spin_until(p, worker_ready, seen))
			sleep_until(p, &p->work, worker_ready, seen);
		if (atomic_load(&p->stop))
			return NULL;
		seen = atomic_load_explicit(&p->gen, memory_order_acquire);
		p->fn(p->ctx, w->ith, p->n);
		if (atomic_fetch_sub(&p->pending, 1) == 1)
			wake(p, &p->done);
	}
}

int eng_pool_new(int n, struct eng_pool **out)
{
	*out = NULL;
	if (n < 1 || n > 256)
		return MX_EINVAL;
	struct eng_pool *p = calloc(1, sizeof *p);
	if (!p)
		return MX_ENOMEM;
	p->n = n;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	atomic_init(&p->gen, 0);
	atomic_init(&p->pending, 0);
	atomic_init(&p->sleepers, 0);
	atomic_init(&p->stop, false);
	if (n > 1) {
		p->w = calloc((size_t)n - 1, sizeof *p->w);
		if (!p->w) {
			eng_pool_free(p);
			return MX_ENOMEM;
		}
	}
	for (int i = 1; i < n; i++) {
		struct worker *w = &p->w[i - 1];
		w->pool = p;
		w->ith = i;
		if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
			eng_pool_free(p);
			return MX_ENOMEM;
		}
		p->started++;
	}
	*out = p;
	return 0;
}

void eng_pool_free(struct eng_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, true);
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->started; i++)
		pthread_join(p->w[i].tid, NULL);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p->w);
	free(p);
}

int eng_pool_threads(const struct eng_pool *p)
{
	return p->n;
}

/* The caller's condition: every worker is done. */
static bool all_done(struct eng_pool *p, unsigned unused)
{
	(void)unused;
	return atomic_load(&p->pending) == 0;
}

void eng_pool_run(struct eng_pool *p, void (*fn)(void *ctx, int ith, int nth), void *ctx)
{
	if (p->n == 1) {
		fn(ctx, 0, 1);
		return;
	}
	p->fn = fn;
	p->ctx = ctx;
	atomic_store(&p->pending, p->n - 1);
	atomic_fetch_add(&p->gen, 1);
	wake(p, &p->work);
	fn(ctx, 0, p->n);
	if (!spin_until(p, all_done, 0))
		sleep_until(p, &p->done, all_done, 0);
}
