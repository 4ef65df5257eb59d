/*
 * qmat_avx2.c - the "avx2" qmat kernel family (AVX2, FMA, F16C): the
 * kernels of qmat_x86.inc with vpmaddubsw/vpmaddwd integer dots and 256-bit
 * float kernels. qmat.c uses it only where the CPU has those instructions.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#ifndef __clang__
#pragma GCC target("avx2,fma,f16c") /* clang: the Makefile's ISA_FLAGS */
#endif
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "qmat_int.h"
#include "quant.h"

#define QX_VNNI	  0
#define QX_ZMM	  0
#define QX_FAMILY qmat_kernels_avx2
#define QX_NAME	  "avx2"
#include "qmat_x86.inc"
#endif
