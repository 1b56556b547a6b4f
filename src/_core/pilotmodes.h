/* pilotscan.h, part 2: the two plateaus' modes (pilotscan.modes) and the sums pass's scalar
 * reference (pilotscan.sums_u16).
 * Included by pilotscan.h only (it needs its paths, level check and includes). */
#ifndef EVSEFAST_PILOTMODES_H
#define EVSEFAST_PILOTMODES_H

/* ---- the two plateaus' modes (pilotscan.modes) -------------------------------------------------- */
static long evf_best_pair(const unsigned int *h, long lo, long hi, long *count)
{
    long b, best = -1;
    long long top = 0, prev;
    if (lo > hi) {
        *count = 0;
        return -1;
    }
    prev = h[lo];
    for (b = lo; b <= hi; b++) {
        long long nxt = h[b + 1], p = prev + nxt;
        if (p > top) {
            top = p;
            best = b;
        }
        prev = nxt;
    }
    *count = (long)top;
    return best;
}

#if defined(EVF_X86)
/* the first lane of 64 32-bit pair counts (8 vectors) equal to their maximum; -1 if all are 0 */
__attribute__((target("avx2"))) static long evf_argmax_avx2(const __m256i *p, long *count)
{
    __m256i m = _mm256_max_epu32(_mm256_max_epu32(_mm256_max_epu32(p[0], p[1]), _mm256_max_epu32(p[2], p[3])),
                                 _mm256_max_epu32(_mm256_max_epu32(p[4], p[5]), _mm256_max_epu32(p[6], p[7])));
    __m128i x = _mm_max_epu32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
    unsigned top;
    int k;
    x = _mm_max_epu32(x, _mm_shuffle_epi32(x, 0x4e));
    x = _mm_max_epu32(x, _mm_shuffle_epi32(x, 0xb1));
    top = (unsigned)_mm_cvtsi128_si32(x);
    *count = (long)top;
    if (top == 0)
        return -1;
    m = _mm256_set1_epi32((int)top);
    for (k = 0; k < 8; k++) {
        int bits = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(p[k], m)));
        if (bits)
            return 8 * k + __builtin_ctz((unsigned)bits);
    }
    return -1;
}

/* evf_modes with vectors: the pair counts of bins b <= nbins - 2, their first maximum, then the
 * first maximum outside (m1 - dist, m1 + dist) */
__attribute__((target("avx2"))) static void evf_modes_avx2(const unsigned int *hist, long nbins,
                                                           long dist, long *out)
{
    __m256i p[8], q[8], idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i last = _mm256_set1_epi32((int)(nbins - 1)), eight = _mm256_set1_epi32(8);
    __m256i lo, hi;
    long m1, c1, m2, c2;
    int k;
    for (k = 0; k < 8; k++) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(hist + 8 * k));
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(hist + 8 * k + 1));
        p[k] = _mm256_and_si256(_mm256_add_epi32(a, b), _mm256_cmpgt_epi32(last, idx));
        idx = _mm256_add_epi32(idx, eight);
    }
    m1 = evf_argmax_avx2(p, &c1);
    if (m1 < 0)
        m1 = 0;
    lo = _mm256_set1_epi32((int)(m1 - dist));
    hi = _mm256_set1_epi32((int)(m1 + dist));
    idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (k = 0; k < 8; k++) {  /* keep b <= m1 - dist or b >= m1 + dist */
        __m256i inside = _mm256_and_si256(_mm256_cmpgt_epi32(idx, lo), _mm256_cmpgt_epi32(hi, idx));
        q[k] = _mm256_andnot_si256(inside, p[k]);
        idx = _mm256_add_epi32(idx, eight);
    }
    m2 = evf_argmax_avx2(q, &c2);
    out[0] = m1;
    out[1] = m2;
    out[2] = c2;
}
#endif

/* out[0] = densest pair of adjacent bins, out[1] = densest pair at least ``dist`` bins away from it
 * (-1: none), out[2] = its count (pilotscan.modes; first of equal pairs) */
static void evf_modes(const unsigned int *hist, long nbins, long dist, long *out)
{
    long p1, p2, p3, m1, m2, m3;
#if defined(EVF_X86)
    if (evf_level(-1) >= EVF_AVX2 && nbins <= EVF_BINS) {
        evf_modes_avx2(hist, nbins, dist, out);
        return;
    }
#endif
    m1 = evf_best_pair(hist, 0, nbins - 2, &p1);
    if (m1 < 0)
        m1 = 0;
    m2 = evf_best_pair(hist, 0, m1 - dist, &p2);
    m3 = evf_best_pair(hist, m1 + dist, nbins - 2, &p3);
    out[0] = m1;
    out[1] = p3 > p2 ? m3 : m2;
    out[2] = p3 > p2 ? p3 : p2;
}

/* ---- the sums pass: scalar reference ---------------------------------------------------------- */
typedef struct {
    long long above, nt, st, sst, nb, sb, ssb, whigh, wvalid;
} evf_sums;

/* pilotscan.sums_u16 exactly (run counters; rejected samples allowed) */
static void evf_sums_ref(const uint16_t *s, Py_ssize_t n, long midc, long settle, long maxc,
                         long tlo, long tw, long blo, long bw, evf_sums *r)
{
    long run_hi = 0, run_lo = 0;
    Py_ssize_t i;
    memset(r, 0, sizeof *r);
    for (i = 0; i < n; i++) {
        long v = s[i];
        long long w = i + 1 < n - i ? i + 1 : n - i;
        if (v > maxc) {
            run_hi = 0;
            run_lo = 0;
            continue;
        }
        r->wvalid += w;
        if (v > midc) {
            r->above++;
            r->whigh += w;
            if (run_hi >= settle || run_hi == i) {
                long d = v - tlo;
                if (d >= 0 && d <= tw) {
                    r->nt++;
                    r->st += d;
                    r->sst += (long long)d * d;
                }
            }
            run_hi++;
            run_lo = 0;
        } else {
            if (run_lo >= settle || run_lo == i) {
                long d = v - blo;
                if (d >= 0 && d <= bw) {
                    r->nb++;
                    r->sb += d;
                    r->ssb += (long long)d * d;
                }
            }
            run_lo++;
            run_hi = 0;
        }
    }
}

/* The vector paths work with: no rejected sample, settle K <= 2, high = v >= thr (0..65535), and
 * windows [tl, tl + tww], [bl, bl + bww] of u16 values with tww, bww < 16384 (no bottom window:
 * bww < 0, only when nothing can be low). */
typedef struct {
    const uint16_t *s;
    Py_ssize_t n, m;  /* m: first sample of the falling half of the duty weights */
    Py_ssize_t iters; /* vector iterations per chunk: every lane sum stays exact */
    int K;
    uint16_t thr, tl, bl;
    int tww, bww;
    /* the first iteration's predecessors: lane q sees sample q - k, or sample q itself when
     * q < k (no predecessor inside the block: same side) */
    uint16_t pre1[32], pre2[32];
    Py_ssize_t m2; /* m rounded down to whole vectors */
} evf_args;

/* A segment's duty weights, folded into the 64-bit totals.  The weights of the segment's high
 * samples come from ``racc``, the sum over the segment's T iterations of the running per-lane
 * count of low samples: a low sample of iteration u is counted T - u times, so the lows'
 * iterations sum to T * lows - racc; it sits at j = u * W + q (lane q), and ``qlow`` = sum of q
 * over the lows.  The last iteration may have sat ``skip`` samples early (its first ``skip``
 * lanes masked off): its ``lastlows`` low lanes are then ``skip`` positions before T * W + q.
 * ``rising``: the segment's duty weights are i + 1 (else n - i). */
static inline void evf_fold_weights(const evf_args *a, Py_ssize_t start, int rising, long long T, long long W,
                             long long skip, long long lastlows, long long lows, long long racc,
                             long long qlow, evf_sums *r)
{
    long long len = T * W - skip, highs = len - lows;
    long long jlow = W * (T * lows - racc) + qlow - skip * lastlows;
    long long jhigh = len * (len - 1) / 2 - jlow;  /* sum of j = i - start over the high samples */
    r->above += highs;
    if (rising)
        r->whigh += (start + 1) * highs + jhigh;
    else
        r->whigh += (a->n - start) * highs - jhigh;
}

#endif
