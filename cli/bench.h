/*
 * bench.h - what the 'memex bench' files share (cmd_bench.c, bench_llm.c).
 */
#ifndef MX_CLI_BENCH_H
#define MX_CLI_BENCH_H

#include "cli.h"

/* The machine's single-precision matrix product rate in GFLOP/s, best of
 * 3 runs of a 1024^3 product (OpenBLAS, on threads threads; 0: its own
 * thread count). */
double bench_sgemm_gflops(int threads);

/* memex bench qmat / memex bench llm (bench_llm.c) */
int bench_qmat(struct cli *c, int argc, char **argv);
int bench_llm(struct cli *c, int argc, char **argv);

#endif
