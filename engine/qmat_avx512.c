/*
 * qmat_avx512.c - the "avx512" qmat kernel family (AVX-512 F/BW/VL/DQ with
 * VNNI): the kernels of qmat_x86.inc with vpdpbusd/vpdpwssd integer dots on
 * 256-bit registers and 512-bit float kernels. qmat.c uses it only where
 * the CPU has those instructions.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#ifndef __clang__
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni") /* clang: the Makefile's ISA_FLAGS */
#endif
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "qmat_int.h"
#include "quant.h"

#define QX_VNNI	  1
#define QX_ZMM	  1
#define QX_FAMILY qmat_kernels_avx512
#define QX_NAME	  "avx512"
#include "qmat_x86.inc"
#endif
