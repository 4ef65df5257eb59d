/*
 * threadpool.c - see threadpool.h. A job is published by bumping the
 * generation counter under the mutex and broadcasting; each worker runs the
 * job of a generation once and counts itself out of `pending`; the last
 * one wakes the caller. Both sides spin briefly on the atomics before
 * blocking, and check them again under the mutex before waiting, so no
 * wake-up is lost.
 */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../common/status.h"

/* Polls of an atomic before blocking: a few microseconds. */
enum { SPIN = 4000 };

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
	atomic_bool stop;
	void (*fn)(void *ctx, int ith, int nth);
	void *ctx;
	struct worker *w;
	int started;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct eng_pool *p = w->pool;
	unsigned seen = 0;
	for (;;) {
		for (int i = 0; i < SPIN; i++)
			if (atomic_load_explicit(&p->gen, memory_order_acquire) != seen ||
			    atomic_load_explicit(&p->stop, memory_order_relaxed))
				break;
		if (atomic_load_explicit(&p->gen, memory_order_acquire) == seen &&
		    !atomic_load(&p->stop)) {
			pthread_mutex_lock(&p->mu);
			while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
				pthread_cond_wait(&p->work, &p->mu);
			pthread_mutex_unlock(&p->mu);
		}
		if (atomic_load(&p->stop))
			return NULL;
		seen = atomic_load_explicit(&p->gen, memory_order_acquire);
		p->fn(p->ctx, w->ith, p->n);
		if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->done);
			pthread_mutex_unlock(&p->mu);
		}
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

void eng_pool_run(struct eng_pool *p, void (*fn)(void *ctx, int ith, int nth), void *ctx)
{
	if (p->n == 1) {
		fn(ctx, 0, 1);
		return;
	}
	p->fn = fn;
	p->ctx = ctx;
	atomic_store(&p->pending, p->n - 1);
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	fn(ctx, 0, p->n);
	for (int i = 0; i < SPIN; i++)
		if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0)
			return;
	pthread_mutex_lock(&p->mu);
	while (atomic_load(&p->pending) != 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
