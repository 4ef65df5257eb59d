/*
 * threadpool.c - see threadpool.h.
 *
 * A job is n chunks, handed out through one 64-bit word, `claim`:
 * generation (32 bits) | chunks (16) | next chunk (16). The caller
 * publishes a job by storing a new word; every thread, the caller
 * included, claims chunks by compare-and-swap of next to next + 1 until
 * none are left, and counts each finished chunk in `done`; the caller
 * returns when done reaches n. A thread that arrives late (still asleep,
 * or preempted by another program on a busy machine) finds nothing left
 * and the others have done its share: nobody waits on a thread that holds
 * no chunk. The generation in the word makes a stale claim fail, and the
 * job's function and context are read only after a claim succeeded, when
 * they cannot be replaced (the caller replaces them only after every chunk
 * of the job is done).
 *
 * Waiting (a worker for a claimable chunk, the caller for done to reach
 * n) polls the atomic for up to SPIN_NS, then sleeps on a condition
 * variable. A sleeper announces itself in `sleepers` under the mutex and
 * checks the atomics again before waiting; the other side takes the mutex
 * and signals only when someone may sleep, so the back-to-back jobs of a
 * decoding step (over a hundred per token, microseconds apart) pay no system
 * call, and no wake-up is lost:
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
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "../common/status.h"

/* How long a waiter spins before it sleeps: longer than the gaps between
 * the jobs of one decoding step (the caller's serial work between
 * products, a few microseconds), far shorter than a time slice, so an idle
 * pool stops using CPU within this much of its last job. Longer spins
 * (0.1 to 0.3 ms) measured worse on a loaded machine. */
enum { SPIN_NS = 50 * 1000 };

struct worker {
	struct eng_pool *pool;
	pthread_t tid;
};

struct eng_pool {
	int n;
	pthread_mutex_t mu;
	pthread_cond_t work; /* a claimable chunk, or stop */
	pthread_cond_t done; /* n_done reached the job's chunks */
	_Atomic uint64_t claim;
	atomic_int n_done;
	atomic_int sleepers; /* threads in (or about to enter) a wait on a condition */
	atomic_bool stop;
	/* the job: written by the caller before it publishes claim */
	void (*fn)(void *ctx, int i, int n);
	void *ctx;
	uint32_t gen;
	bool solo; /* the caller runs every chunk */
	struct worker *w;
	int started;
};

#define CLAIM_GEN(c)  ((uint32_t)((c) >> 32))
#define CLAIM_N(c)    ((uint32_t)((c) >> 16) & 0xffffu)
#define CLAIM_NEXT(c) ((uint32_t)(c) & 0xffffu)

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* A worker's condition to leave its wait: a chunk to claim, or stop. */
static bool worker_ready(struct eng_pool *p)
{
	uint64_t c = atomic_load(&p->claim);
	return CLAIM_NEXT(c) < CLAIM_N(c) || atomic_load_explicit(&p->stop, memory_order_relaxed);
}

/* The caller's: every chunk of its job is done. */
static bool job_done(struct eng_pool *p)
{
	return (uint32_t)atomic_load(&p->n_done) == CLAIM_N(atomic_load(&p->claim));
}

/* Polls until ready(p) or SPIN_NS have passed; whether it became ready.
 * No `pause` in the loop: under KVM a pause loop makes the hypervisor take
 * the vCPU away (pause-loop exiting), which measured worse than plain
 * loads of the shared line. */
static bool spin_until(struct eng_pool *p, bool (*ready)(struct eng_pool *))
{
	long long t0 = 0;
	for (unsigned i = 1;; i++) {
		if (ready(p))
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

/* Sleeps on cond until ready(p). */
static void sleep_until(struct eng_pool *p, pthread_cond_t *cond, bool (*ready)(struct eng_pool *))
{
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add(&p->sleepers, 1);
	while (!ready(p))
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

/* Claims and runs chunks of the published job until none are left. */
static void work(struct eng_pool *p)
{
	uint64_t c = atomic_load(&p->claim);
	while (CLAIM_NEXT(c) < CLAIM_N(c)) {
		if (!atomic_compare_exchange_weak(&p->claim, &c, c + 1))
			continue; /* c reloaded */
		/* chunk CLAIM_NEXT(c) of generation CLAIM_GEN(c) is ours, and the
		 * job cannot change before it is done */
		int n = (int)CLAIM_N(c);
		p->fn(p->ctx, (int)CLAIM_NEXT(c), n);
		if (atomic_fetch_add(&p->n_done, 1) + 1 == n)
			wake(p, &p->done);
		c = atomic_load(&p->claim);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct eng_pool *p = w->pool;
	for (;;) {
		if (!spin_until(p, worker_ready))
			sleep_until(p, &p->work, worker_ready);
		if (atomic_load(&p->stop))
			return NULL;
		work(p);
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
	atomic_init(&p->claim, 0);
	atomic_init(&p->n_done, 0);
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

void eng_pool_run_n(struct eng_pool *p, void (*fn)(void *ctx, int i, int n), void *ctx, int n)
{
	if (n <= 0)
		return;
	if (n > ENG_POOL_MAX_CHUNKS)
		n = ENG_POOL_MAX_CHUNKS;
	if (p->n == 1 || n == 1 || p->solo) {
		for (int i = 0; i < n; i++)
			fn(ctx, i, n);
		return;
	}
	p->fn = fn;
	p->ctx = ctx;
	p->gen++;
	atomic_store_explicit(&p->n_done, 0, memory_order_relaxed);
	atomic_store(&p->claim, (uint64_t)p->gen << 32 | (uint64_t)n << 16);
	wake(p, &p->work);
	work(p);
	if (!spin_until(p, job_done))
		sleep_until(p, &p->done, job_done);
}

void eng_pool_run(struct eng_pool *p, void (*fn)(void *ctx, int i, int n), void *ctx)
{
	eng_pool_run_n(p, fn, ctx, p->n);
}

void eng_pool_set_solo(struct eng_pool *p, bool solo)
{
	p->solo = solo;
}

bool eng_pool_solo(const struct eng_pool *p)
{
	return p->solo;
}

/* ---- adaptive width ------------------------------------------------------------------ */

void eng_width_init(struct eng_width *w, int max, int pin)
{
	*w = (struct eng_width){ 0 };
	w->max = max < 1 ? 1 : max;
	w->pin = pin <= 0 ? 0 : pin >= w->max ? w->max : 1;
	w->home = w->pin ? w->pin : w->max;
	w->cur = w->home;
	w->every = ENG_WIDTH_EVERY_MIN;
}

int eng_width_get(const struct eng_width *w)
{
	return w->cur;
}

static double recent_mean(const struct eng_width *w)
{
	double s = 0;
	for (int i = 0; i < w->n_recent; i++)
		s += w->recent[i];
	return s / w->n_recent;
}

int eng_width_step(struct eng_width *w, double t)
{
	w->steps++;
	if (w->pin || w->max == 1)
		return w->cur;
	if (w->cur == w->home) {
		w->recent[w->i_recent] = t;
		w->i_recent = (w->i_recent + 1) % ENG_WIDTH_RECENT;
		if (w->n_recent < ENG_WIDTH_RECENT)
			w->n_recent++;
		if (++w->since >= w->every && w->n_recent == ENG_WIDTH_RECENT) {
			w->cur = w->home == 1 ? w->max : 1; /* probe the other */
			w->probe = 0;
			w->probe_sum = 0;
			w->warm = w->cur > 1;
			w->probes++;
		}
		return w->cur;
	}
	if (w->warm) {
		w->warm = false;
		return w->cur;
	}
	w->probe_sum += t;
	if (++w->probe < ENG_WIDTH_PROBE)
		return w->cur;
	w->since = 0;
	double margin = w->cur == 1 ? ENG_WIDTH_MARGIN_SOLO : ENG_WIDTH_MARGIN;
	if (w->probe_sum / w->probe < margin * recent_mean(w)) {
		w->home = w->cur; /* moved: the old home's times mean nothing now */
		w->moves++;
		w->every = ENG_WIDTH_EVERY_MIN;
		w->n_recent = 0;
		w->i_recent = 0;
	} else {
		w->cur = w->home;
		if (w->every < ENG_WIDTH_EVERY_MAX)
			w->every *= 2;
	}
	return w->cur;
}
