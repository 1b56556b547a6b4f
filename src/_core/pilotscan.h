/* The per-sample passes of the uint16 pilot block in C: the compiled twin of pilotscan.py.
 *
 * pilotscan.py is the reference (plain Python); these functions must give the same integers
 * (tests/test_pilot_scan.py).  Included by the Cython-generated pilot.c (see pilot.pxd).
 *
 * Written for the auto-vectoriser: branch-free inner loops on 16-bit lanes (sides and plateau
 * membership as masks, counts and sums as additions), whole-block passes without early exits.
 * Wheels stay baseline: on x86-64 with GCC/clang and glibc (ifunc), the hot loops are compiled
 * twice by target_clones -- AVX2 and the baseline -- and the loader picks one per CPU; aarch64
 * vectorises with its baseline NEON; other targets (armv7l: no NEON guarantee) run the scalar
 * form of the same loops.
 */
#ifndef EVSEFAST_PILOTSCAN_H
#define EVSEFAST_PILOTSCAN_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(__INTEL_COMPILER)
#  if defined(__has_attribute)
#    if __has_attribute(target_clones)
#      define EVF_CLONES __attribute__((target_clones("avx2", "default")))
#    endif
#  endif
#endif
#ifndef EVF_CLONES
#  define EVF_CLONES
#endif

#define EVF_BINS 64  /* level bins; bin EVF_BINS counts rejected samples */

/* histogram of the valid samples and the rejected count (pilotscan.hist_u16) */
static void evf_hist_u16(const uint16_t *s, Py_ssize_t n, int shift, long maxc, unsigned int *hist)
{
    Py_ssize_t i;
    for (i = 0; i <= EVF_BINS; i++)
        hist[i] = 0;
    for (i = 0; i < n; i++) {
        unsigned v = s[i];
        if ((long)v > maxc)
            hist[EVF_BINS]++;
        else
            hist[v >> shift]++;
    }
}

/* sides, duty weights, plateau counts and sums (pilotscan.sums_u16); acc[0..8] */
static void evf_sums_u16(const uint16_t *s, Py_ssize_t n, long midc, long settle, long maxc,
                         long tlo, long tw, long blo, long bw, long long *acc)
{
    long long above = 0, nt = 0, st = 0, sst = 0, nb = 0, sb = 0, ssb = 0, whigh = 0, wvalid = 0;
    long run_hi = 0, run_lo = 0;
    Py_ssize_t i;
    for (i = 0; i < n; i++) {
        long v = s[i];
        long long w = i + 1 < n - i ? i + 1 : n - i;
        if (v > maxc) {
            run_hi = 0;
            run_lo = 0;
            continue;
        }
        wvalid += w;
        if (v > midc) {
            above++;
            whigh += w;
            if (run_hi >= settle || run_hi == i) {
                long d = v - tlo;
                if (d >= 0 && d <= tw) {
                    nt++;
                    st += d;
                    sst += (long long)d * d;
                }
            }
            run_hi++;
            run_lo = 0;
        } else {
            if (run_lo >= settle || run_lo == i) {
                long d = v - blo;
                if (d >= 0 && d <= bw) {
                    nb++;
                    sb += d;
                    ssb += (long long)d * d;
                }
            }
            run_lo++;
            run_hi = 0;
        }
    }
    acc[0] = above;
    acc[1] = nt;
    acc[2] = st;
    acc[3] = sst;
    acc[4] = nb;
    acc[5] = sb;
    acc[6] = ssb;
    acc[7] = whigh;
    acc[8] = wvalid;
}

#endif
