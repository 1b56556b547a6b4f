/* The per-sample passes of the uint16 pilot block in C: the compiled twin of pilotscan.py.
 *
 * pilotscan.py is the reference (plain Python); every path here must give the same integers
 * (tests/test_pilot_scan.py runs each path the machine has).  Included by the Cython-generated
 * pilot.c (see pilot.pxd); no Python API is used.
 *
 * Paths, chosen once per process by a CPU check (wheels stay baseline, no ifunc needed):
 *   4 AVX-512BW (32 lanes)   3 AVX2 (16 lanes)   2 SSE2 (x86-64 baseline, 8 lanes)
 *   1 NEON (aarch64 baseline, 8 lanes)   0 scalar (everything else, e.g. armv7l: no NEON guarantee)
 * The vector paths cover the common case -- no rejected sample, settle_samples <= 2, windows
 * narrower than 32768 counts -- and the scalar reference loop the rest.  The x86 paths are one
 * body (EVF_BODY) compiled at three widths.  The histogram is a scalar scatter everywhere: four
 * sub-histograms keep the samples of one plateau from waiting on each other's increment.
 */
#ifndef EVSEFAST_PILOTSCAN_H
#define EVSEFAST_PILOTSCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#  define EVF_X86 1
#  include <immintrin.h>
#elif defined(__aarch64__) && defined(__ARM_NEON)
#  define EVF_NEON 1
#  include <arm_neon.h>
#endif

#define EVF_BINS 64   /* level bins; bin EVF_BINS counts rejected samples */
#define EVF_ITERS 128 /* vector iterations per chunk at most: 16-bit lane counters stay exact */

enum { EVF_SCALAR = 0, EVF_NEON_LEVEL = 1, EVF_SSE2 = 2, EVF_AVX2 = 3, EVF_AVX512 = 4 };

static int evf_level_now = -1;

static int evf_best_level(void)
{
#if defined(EVF_X86)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bw"))
        return EVF_AVX512;
    return __builtin_cpu_supports("avx2") ? EVF_AVX2 : EVF_SSE2;
#elif defined(EVF_NEON)
    return EVF_NEON_LEVEL;
#else
    return EVF_SCALAR;
#endif
}

/* the path in use; ``force`` >= 0 selects another one this CPU has (tests), -2 the best again */
static int evf_level_best = -1;

static int evf_level_slow(int force);

/* the path in use (inline: the common call is a load) */
static inline int evf_level(int force)
{
    if (force == -1 && evf_level_now >= 0)
        return evf_level_now;
    return evf_level_slow(force);
}

static int evf_level_slow(int force)
{
    if (evf_level_best < 0)
        evf_level_best = evf_best_level();
    if (evf_level_now < 0 || force == -2)
        evf_level_now = evf_level_best;
    if (force == EVF_SCALAR || force == evf_level_best || (force >= EVF_SSE2 && force < evf_level_best))
        evf_level_now = force;
    return evf_level_now;
}

/* the passes, in three parts */
#include "pilothist.h"
#include "pilotmodes.h"
#include "pilotsums.h"

#endif
