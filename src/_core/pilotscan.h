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

/* ---- histogram -------------------------------------------------------------------------------- */
/* Per chunk of EVF_HCHUNK samples: a vector pass computes the OR of the samples (no sample is above
 * maxc = 2**bits - 1 iff the OR is not) and each sample's bin index as a byte, in sample order
 * (the pack instructions interleave 128-bit lanes: a permute puts them back, so that the last,
 * overlapping vector of a chunk rewrites the same bytes); then a scalar scatter counts the bytes
 * into eight sub-histograms.  A chunk with a rejected sample is counted by the checked loop. */
#define EVF_HCHUNK 1024

#if defined(EVF_X86)
__attribute__((target("avx512bw"))) static unsigned evf_idx_avx512(const uint16_t *s, size_t n,
                                                                   unsigned sh, uint8_t *idx)
{
    const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
    __m512i a = _mm512_setzero_si512();
    const __m128i c = _mm_cvtsi32_si128((int)sh);
    __m256i b;
    __m128i x;
    size_t i = 0;
    unsigned r;
    for (; i + 64 <= n; i += 64) {
        __m512i u = _mm512_loadu_si512((const void *)(s + i)), v = _mm512_loadu_si512((const void *)(s + i + 32));
        a = _mm512_or_si512(a, _mm512_or_si512(u, v));
        _mm512_storeu_si512((void *)(idx + i), _mm512_permutexvar_epi64(order, _mm512_packus_epi16(_mm512_srl_epi16(u, c), _mm512_srl_epi16(v, c))));
    }
    if (i < n && n >= 64) { /* the last 64 samples once more: same bytes, same OR */
        __m512i u = _mm512_loadu_si512((const void *)(s + n - 64)), v = _mm512_loadu_si512((const void *)(s + n - 32));
        a = _mm512_or_si512(a, _mm512_or_si512(u, v));
        _mm512_storeu_si512((void *)(idx + n - 64), _mm512_permutexvar_epi64(order, _mm512_packus_epi16(_mm512_srl_epi16(u, c), _mm512_srl_epi16(v, c))));
        i = n;
    }
    b = _mm256_or_si256(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1));
    x = _mm_or_si128(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
    x = _mm_or_si128(x, _mm_srli_si128(x, 8));
    x = _mm_or_si128(x, _mm_srli_si128(x, 4));
    x = _mm_or_si128(x, _mm_srli_si128(x, 2));
    r = (unsigned)_mm_cvtsi128_si32(x) & 0xffffu;
    for (; i < n; i++) {
        r |= s[i];
        idx[i] = (uint8_t)(s[i] >> sh > 255 ? 255 : s[i] >> sh);
    }
    return r;
}

__attribute__((target("avx2"))) static unsigned evf_idx_avx2(const uint16_t *s, size_t n,
                                                             unsigned sh, uint8_t *idx)
{
    __m256i a = _mm256_setzero_si256();
    const __m128i c = _mm_cvtsi32_si128((int)sh);
    __m128i x;
    size_t i = 0;
    unsigned r;
    for (; i + 32 <= n; i += 32) {
        __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + i + 16));
        a = _mm256_or_si256(a, _mm256_or_si256(u, v));
        _mm256_storeu_si256((__m256i *)(void *)(idx + i),
                            _mm256_permute4x64_epi64(_mm256_packus_epi16(_mm256_srl_epi16(u, c), _mm256_srl_epi16(v, c)), 0xd8));
    }
    if (i < n && n >= 32) { /* the last 32 samples once more: same bytes, same OR */
        __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(s + n - 32));
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + n - 16));
        a = _mm256_or_si256(a, _mm256_or_si256(u, v));
        _mm256_storeu_si256((__m256i *)(void *)(idx + n - 32),
                            _mm256_permute4x64_epi64(_mm256_packus_epi16(_mm256_srl_epi16(u, c), _mm256_srl_epi16(v, c)), 0xd8));
        i = n;
    }
    x = _mm_or_si128(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    x = _mm_or_si128(x, _mm_srli_si128(x, 8));
    x = _mm_or_si128(x, _mm_srli_si128(x, 4));
    x = _mm_or_si128(x, _mm_srli_si128(x, 2));
    r = (unsigned)_mm_cvtsi128_si32(x) & 0xffffu;
    for (; i < n; i++) {
        r |= s[i];
        idx[i] = (uint8_t)(s[i] >> sh > 255 ? 255 : s[i] >> sh);
    }
    return r;
}
#endif

/* OR of the samples and their byte bin indices (saturated at 255) */
static unsigned evf_idx_u16(const uint16_t *s, size_t n, unsigned sh, uint8_t *idx, int level)
{
    size_t i = 0;
    unsigned r = 0;
#if defined(EVF_X86)
    if (level == EVF_AVX512)
        return evf_idx_avx512(s, n, sh, idx);
    if (level == EVF_AVX2)
        return evf_idx_avx2(s, n, sh, idx);
    if (level == EVF_SSE2) {
        __m128i a = _mm_setzero_si128();
        const __m128i c = _mm_cvtsi32_si128((int)sh);
        for (; i + 16 <= n; i += 16) {
            __m128i u = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 8));
            a = _mm_or_si128(a, _mm_or_si128(u, v));
            _mm_storeu_si128((__m128i *)(void *)(idx + i), _mm_packus_epi16(_mm_srl_epi16(u, c), _mm_srl_epi16(v, c)));
        }
        a = _mm_or_si128(a, _mm_srli_si128(a, 8));
        a = _mm_or_si128(a, _mm_srli_si128(a, 4));
        a = _mm_or_si128(a, _mm_srli_si128(a, 2));
        r = (unsigned)_mm_cvtsi128_si32(a) & 0xffffu;
    }
#elif defined(EVF_NEON)
    if (level == EVF_NEON_LEVEL) {
        uint16x8_t a = vdupq_n_u16(0);
        const int16x8_t c = vdupq_n_s16((int16_t)-(int)sh);
        for (; i + 8 <= n; i += 8) {
            uint16x8_t u = vld1q_u16(s + i);
            a = vorrq_u16(a, u);
            vst1_u8(idx + i, vqmovn_u16(vshlq_u16(u, c)));
        }
        r = vmaxvq_u16(a);
        {
            uint16_t t[8];
            int q;
            vst1q_u16(t, a);
            for (q = 0; q < 8; q++)
                r |= t[q];
        }
    }
#endif
    (void)level;
    for (; i < n; i++) {
        r |= s[i];
        idx[i] = (uint8_t)(s[i] >> sh > 255 ? 255 : s[i] >> sh);
    }
    return r;
}

/* histogram of the valid samples and the rejected count (pilotscan.hist_u16); hist[EVF_BINS + 1]
 * (scratch, not in the Python twin) receives the OR of all samples, which the sums pass uses to
 * choose its path.  Eight rows of 16-bit counters, one per sample position mod 8, folded into
 * ``hist`` at the end and every EVF_FOLD_EVERY samples (a bin's eight counters then sum to at
 * most 65,535: the fold adds them in 16 bits). */
#define EVF_ROW (EVF_BINS + 8) /* 72 counters: rows of 144 bytes, a multiple of 16 */
#define EVF_FOLD_EVERY (65535L - EVF_HCHUNK)

static void evf_fold_rows(uint16_t (*h)[EVF_ROW], unsigned int *hist, int clear, int rejected)
{
    size_t i;
#if defined(EVF_X86)
    const __m128i z = _mm_setzero_si128();
    for (i = 0; i < (rejected ? EVF_ROW : EVF_BINS); i += 8) {
#define EVF_ROWV(r) _mm_loadu_si128((const __m128i *)(const void *)(&h[r][i]))
        __m128i v = _mm_add_epi16(_mm_add_epi16(_mm_add_epi16(EVF_ROWV(0), EVF_ROWV(1)),
                                                _mm_add_epi16(EVF_ROWV(2), EVF_ROWV(3))),
                                  _mm_add_epi16(_mm_add_epi16(EVF_ROWV(4), EVF_ROWV(5)),
                                                _mm_add_epi16(EVF_ROWV(6), EVF_ROWV(7))));
#undef EVF_ROWV
        if (i < EVF_BINS) {
            __m128i *o = (__m128i *)(void *)(hist + i);
            _mm_storeu_si128(o, _mm_add_epi32(_mm_loadu_si128(o), _mm_unpacklo_epi16(v, z)));
            _mm_storeu_si128(o + 1, _mm_add_epi32(_mm_loadu_si128(o + 1), _mm_unpackhi_epi16(v, z)));
        } else {
            hist[EVF_BINS] += (unsigned)(_mm_cvtsi128_si32(v) & 0xffff);
        }
    }
#else
    (void)rejected;
    for (i = 0; i <= EVF_BINS; i++) {
        unsigned t = 0;
        int r;
        for (r = 0; r < 8; r++)
            t += h[r][i];
        hist[i] += t;
    }
#endif
    if (clear)
        memset(h, 0, 8 * sizeof *h);
}

#if defined(EVF_X86)
#define EVF_L256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define EVF_L512(p) _mm512_loadu_si512((const void *)(p))
#define EVF_CMPEQ512(x, y) _mm512_movm_epi16(_mm512_cmpeq_epi16_mask(x, y))
/* The reference-bin count of one chunk (see evf_hist_u16): the samples in the four
 * ``ref`` bins are counted with vector compares; the others are found by a mask and counted one
 * by one into the rows (a sample above ``maxc`` into the reject bin).  Returns how many were
 * counted one by one; ``any`` gets the OR of the samples. */
#define EVF_REF_BODY(NAME, ATTR, VT, W, LOADU, SET1, CMPEQ, SUB16, OR, SRL, NOMATCH, LANE, HSUM16)     \
ATTR static size_t NAME(const uint16_t *s, size_t n, unsigned sh, long maxc, const uint16_t *ref,     \
                        uint16_t (*h)[EVF_ROW], unsigned int *hist, unsigned *any)                    \
{                                                                                                      \
    const VT r0 = SET1((short)ref[0]), r1 = SET1((short)ref[1]), r2 = SET1((short)ref[2]);             \
    const VT r3 = SET1((short)ref[3]);                                                                 \
    const __m128i c = _mm_cvtsi32_si128((int)sh);                                                      \
    VT c0 = SET1(0), c1 = c0, c2 = c0, c3 = c0, o = c0;                                                \
    size_t i = 0, lone = 0;                                                                            \
    for (; i + W <= n; i += W) {                                                                       \
        VT v = LOADU(s + i), b = SRL(v, c);                                                            \
        VT e0 = CMPEQ(b, r0), e1 = CMPEQ(b, r1), e2 = CMPEQ(b, r2), e3 = CMPEQ(b, r3);                 \
        uint64_t miss;                                                                                 \
        o = OR(o, v);                                                                                  \
        c0 = SUB16(c0, e0);                                                                            \
        c1 = SUB16(c1, e1);                                                                            \
        c2 = SUB16(c2, e2);                                                                            \
        c3 = SUB16(c3, e3);                                                                            \
        miss = NOMATCH(OR(OR(e0, e1), OR(e2, e3)));                                                    \
        while (miss) {                                                                                 \
            size_t q = LANE(miss);                                                                     \
            uint32_t x = s[i + q];                                                                     \
            h[q & 7][(long)x > maxc ? EVF_BINS : x >> sh]++;                                           \
            miss &= miss - 1;                                                                          \
            lone++;                                                                                    \
        }                                                                                              \
    }                                                                                                  \
    for (; i < n; i++) {                                                                               \
        uint32_t x = s[i];                                                                             \
        o = OR(o, SET1((short)x));                                                                     \
        h[i & 7][(long)x > maxc ? EVF_BINS : x >> sh]++;                                               \
        lone++;                                                                                        \
    }                                                                                                  \
    hist[ref[0]] += HSUM16(c0);                                                                        \
    if (ref[1] != 0xffff) hist[ref[1]] += HSUM16(c1);                                                  \
    if (ref[2] != 0xffff) hist[ref[2]] += HSUM16(c2);                                                  \
    if (ref[3] != 0xffff) hist[ref[3]] += HSUM16(c3);                                                  \
    *any |= (unsigned)HSUMOR(o);                                                                       \
    return lone;                                                                                       \
}

__attribute__((target("avx2"))) static inline long long evf_hsum16_256(__m256i x)
{
    __m256i y = _mm256_madd_epi16(x, _mm256_set1_epi16(1));
    __m128i z = _mm_add_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
    z = _mm_add_epi32(z, _mm_srli_si128(z, 8));
    z = _mm_add_epi32(z, _mm_srli_si128(z, 4));
    return _mm_cvtsi128_si32(z);
}

__attribute__((target("avx2"))) static inline unsigned evf_hor_256(__m256i x)
{
    __m128i z = _mm_or_si128(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
    z = _mm_or_si128(z, _mm_srli_si128(z, 8));
    z = _mm_or_si128(z, _mm_srli_si128(z, 4));
    z = _mm_or_si128(z, _mm_srli_si128(z, 2));
    return (unsigned)_mm_cvtsi128_si32(z) & 0xffffu;
}

__attribute__((target("avx512bw"))) static inline long long evf_hsum16_512(__m512i x)
{
    return _mm512_reduce_add_epi32(_mm512_madd_epi16(x, _mm512_set1_epi16(1)));
}

__attribute__((target("avx512bw"))) static inline unsigned evf_hor_512(__m512i x)
{
    return evf_hor_256(_mm256_or_si256(_mm512_castsi512_si256(x), _mm512_extracti64x4_epi64(x, 1)));
}

/* AVX2: a 16-bit lane's compare mask gives two movemask bits: keep the even ones */
#define EVF_NOMATCH_256(m) ((uint64_t)(~(unsigned)_mm256_movemask_epi8(m) & 0x55555555u))
#define EVF_LANE_256(bits) ((size_t)__builtin_ctzll(bits) >> 1)
#define HSUMOR evf_hor_256
EVF_REF_BODY(evf_ref_avx2, __attribute__((target("avx2"))), __m256i, 16, EVF_L256, _mm256_set1_epi16,
             _mm256_cmpeq_epi16, _mm256_sub_epi16, _mm256_or_si256, _mm256_srl_epi16, EVF_NOMATCH_256,
             EVF_LANE_256, evf_hsum16_256)
#undef HSUMOR
#define EVF_NOMATCH_512(m) ((uint64_t)(~(uint32_t)_mm512_movepi16_mask(m)))
#define EVF_LANE_512(bits) ((size_t)__builtin_ctzll(bits))
#define HSUMOR evf_hor_512
EVF_REF_BODY(evf_ref_avx512, __attribute__((target("avx512bw"))), __m512i, 32, EVF_L512, _mm512_set1_epi16,
             EVF_CMPEQ512, _mm512_sub_epi16, _mm512_or_si512, _mm512_srl_epi16, EVF_NOMATCH_512,
             EVF_LANE_512, evf_hsum16_512)
#undef HSUMOR
#endif

/* hist[66], hist[67]: the previous block's two mode pairs (the caller's hint, 0xffff: none).  With
 * AVX2 / AVX-512 and a hint, the four bins of those pairs are counted with vector compares and only
 * the other samples one by one; a chunk that leaves more than half to count one by one switches to
 * the plain scatter.  The histogram is the same whatever the hint: it only changes the speed. */
#define EVF_HSMALL 32 /* blocks up to this many samples: the direct scatter (no rows to clear and fold) */

static void evf_hist_u16(const uint16_t *s, Py_ssize_t n, int shift, long maxc, unsigned int *hist)
{
    size_t i, c0, nn = (size_t)n, since_fold = 0;
    unsigned sh = (unsigned)shift, any = 0, nbins = (unsigned)(maxc >> shift) + 1;
    int rejected = 0, use_ref = 0;
    int level = evf_level(-1);
    uint16_t ref[4] = {0xffff, 0xffff, 0xffff, 0xffff};
    (void)ref;
    (void)use_ref;
    (void)nbins;
    uint8_t idx[EVF_HCHUNK];
    uint16_t h[8][EVF_ROW];
    if (nn <= EVF_HSMALL) { /* a small block: straight into the histogram (no rows to clear, fold) */
        memset(hist, 0, (EVF_BINS + 1) * sizeof *hist);
        for (i = 0; i < nn; i++) {
            uint32_t v = s[i];
            any |= v;
            hist[(long)v > maxc ? EVF_BINS : v >> sh]++;
        }
        hist[EVF_BINS + 1] = any;
        return;
    }
#if defined(EVF_X86)
    if (level >= EVF_AVX2 && sh > 0 && hist[66] < nbins) {
        unsigned m1 = hist[66], m2 = hist[67], k = 0;
        ref[k++] = (uint16_t)m1;
        if (m1 + 1 < nbins)
            ref[k++] = (uint16_t)(m1 + 1);
        if (m2 < nbins && m2 != m1 && m2 != m1 + 1)
            ref[k++] = (uint16_t)m2;
        if (m2 + 1 < nbins && m2 + 1 != m1 && m2 + 1 != m1 + 1)
            ref[k++] = (uint16_t)(m2 + 1);
        use_ref = 1;
    }
#endif
#if defined(EVF_X86)
    {
        const __m128i z = _mm_setzero_si128();
        for (i = 0; i < 8 * EVF_ROW; i += 8)
            _mm_storeu_si128((__m128i *)(void *)(&h[0][0] + i), z);
        for (i = 0; i < EVF_BINS; i += 4)
            _mm_storeu_si128((__m128i *)(void *)(hist + i), z);
        hist[EVF_BINS] = 0;
    }
#else
    memset(h, 0, sizeof h);
    memset(hist, 0, (EVF_BINS + 1) * sizeof *hist);
#endif
    for (c0 = 0; c0 < nn; c0 += EVF_HCHUNK) {
        const uint16_t *p = s + c0;
        size_t m = nn - c0 < EVF_HCHUNK ? nn - c0 : EVF_HCHUNK;
        unsigned o;
        if (since_fold >= (size_t)EVF_FOLD_EVERY) {
            evf_fold_rows(h, hist, 1, 1);
            since_fold = 0;
        }
        since_fold += m;
#if defined(EVF_X86)
        if (use_ref) {
            size_t k = level == EVF_AVX512 ? evf_ref_avx512(p, m, sh, maxc, ref, h, hist, &any)
                                           : evf_ref_avx2(p, m, sh, maxc, ref, h, hist, &any);
            rejected = 1; /* the reject bin may have been counted one by one */
            if (2 * k > m)
                use_ref = 0; /* most samples outside the reference bins: the plain scatter */
            continue;
        }
#endif
        o = evf_idx_u16(p, m, sh, idx, level);
        any |= o;
        if ((long)o <= maxc) {  /* no rejected sample: every index is a level bin */
            for (i = 0; i + 16 <= m; i += 16) {
                h[0][idx[i]]++;
                h[1][idx[i + 1]]++;
                h[2][idx[i + 2]]++;
                h[3][idx[i + 3]]++;
                h[4][idx[i + 4]]++;
                h[5][idx[i + 5]]++;
                h[6][idx[i + 6]]++;
                h[7][idx[i + 7]]++;
                h[0][idx[i + 8]]++;
                h[1][idx[i + 9]]++;
                h[2][idx[i + 10]]++;
                h[3][idx[i + 11]]++;
                h[4][idx[i + 12]]++;
                h[5][idx[i + 13]]++;
                h[6][idx[i + 14]]++;
                h[7][idx[i + 15]]++;
            }
            for (; i < m; i++)
                h[i & 7][idx[i]]++;
        } else {
            rejected = 1;
            for (i = 0; i < m; i++) {
                uint32_t v = p[i];
                h[i & 7][(long)v > maxc ? EVF_BINS : v >> sh]++;
            }
        }
    }
    evf_fold_rows(h, hist, 0, rejected);
    hist[EVF_BINS + 1] = any;
}

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

/* ---- the sums pass: SSE2 / AVX2 / AVX-512 (one body, three widths; K and the bias constant) ----- */
#if defined(EVF_X86)
/* u16 compares as signed compares: values and thresholds biased by 0x8000 (BIAS = 1), or as they
 * are when every value is below 32768 (BIAS = 0).  A window test is one compare: d = v - tl as
 * unsigned is <= tww exactly when (d ^ 0x8000) <= (tww ^ 0x8000) as signed.  ``notop`` / ``bot`` are
 * lane masks (-1 / 0); counts subtract masks in 16-bit lanes, squares go through madd (pairs of
 * 16-bit products summed into 32-bit lanes). */
#define EVF_ITER(P, P1, P2, MASKED)                                                                \
    {                                                                                              \
        VT v = LOADU(P), vb = BIASc ? XOR(v, bias) : v, lo0, lo1, lo2, notop, bot;                  \
        VT dt = SUB16(v, tl), db = SUB16(v, bl);                                                   \
        lo0 = CMPGT(thr, vb);                                                                      \
        lo1 = lo0;                                                                                 \
        lo2 = lo0;                                                                                 \
        if (KKc >= 1) {                                                                             \
            VT u = LOADU(P1);                                                                      \
            lo1 = CMPGT(thr, BIASc ? XOR(u, bias) : u);                                             \
        }                                                                                          \
        if (KKc >= 2) {                                                                             \
            VT u = LOADU(P2);                                                                      \
            lo2 = CMPGT(thr, BIASc ? XOR(u, bias) : u);                                             \
        }                                                                                          \
        notop = OR(OR(lo0, lo1), OR(lo2, CMPGT(XOR(dt, flip), tww)));                             \
        bot = ANDNOT(CMPGT(XOR(db, flip), bww), AND(AND(lo0, lo1), lo2));                          \
        if (MASKED) { /* lanes already counted: neither low, top nor bottom */                     \
            lo0 = AND(lo0, act);                                                                   \
            notop = OR(notop, ANDNOT(act, SET1(-1)));                                              \
            bot = AND(bot, act);                                                                   \
            lastlows = MOVEMASK(lo0);                                                              \
        }                                                                                          \
        dt = ANDNOT(notop, dt);                                                                    \
        db = AND(bot, db);                                                                         \
        lows = SUB16(lows, lo0);                                                                   \
        racc = ADD16(racc, lows); /* <= 128 * 129 / 2 per lane: 16 bits suffice */                 \
        ntc = SUB16(ntc, notop);                                                                   \
        nb = SUB16(nb, bot);                                                                       \
        st = ADD16(st, dt);                                                                        \
        sb = ADD16(sb, db);                                                                        \
        sst = ADD32(sst, MADD(dt, dt));                                                            \
        ssb = ADD32(ssb, MADD(db, db));                                                            \
    }

/* The sums pass over [0, n): rising duty weights (i + 1) before a->m2 (a multiple of W), falling
 * (n - i) from there.  The first iteration takes its predecessors from pre1 / pre2; the last one,
 * if n is not a whole number of vectors, covers the last W samples with the lanes already counted
 * masked off.  The weight sums are folded at m2, everything every iters - 1 iterations and at
 * the end (the lane sums stay exact). */
#define EVF_BODY(NAME, ATTR, KK, BIAS)                                                             \
ATTR static void NAME(const evf_args *a, evf_sums *r)                                              \
{                                                                                                  \
    enum { KKc = KK, BIASc = BIAS };                                                               \
    const short bx = BIAS ? (short)0x8000 : 0;                                                     \
    const VT bias = SET1(bx), flip = SET1((short)0x8000), ones = SET1(1);                          \
    const VT thr = SET1((short)(a->thr ^ bx));                                                     \
    const VT tl = SET1((short)a->tl), tww = SET1((short)(a->tww ^ 0x8000));                        \
    const VT bl = SET1((short)a->bl), bww = SET1((short)((a->bww < 0 ? 0 : a->bww) ^ 0x8000));     \
    const Py_ssize_t n = a->n, split = a->m2, budget = a->iters - 1;                               \
    VT act = SET1(-1); /* the tail iteration's lanes not yet counted */                            \
    VT lows = ZERO(), racc = ZERO(), ntc = ZERO(), nb = ZERO(), st = ZERO(), sb = ZERO();          \
    VT sst = ZERO(), ssb = ZERO();                                                                 \
    Py_ssize_t i = 0, w0 = 0, since = 0;                                                           \
    long long skip = 0, lastlows = 0;                                                              \
    (void)bias;                                                                                    \
    while (i < n) {                                                                                \
        Py_ssize_t stop = i < split ? split : n, room = budget - since;                            \
        Py_ssize_t end = i + ((stop - i) / W < room ? (stop - i) / W : room) * W;                  \
        if (i == 0) {                                                                              \
            EVF_ITER(a->s, a->pre1, a->pre2, 0)                                                    \
            i += W;                                                                                \
        }                                                                                          \
        for (; i < end; i += W)                                                                    \
            EVF_ITER(a->s + i, a->s + i - 1, a->s + i - 2, 0)                                      \
        if (i < stop && stop - i < W) { /* n is not a whole number of vectors: the last W */       \
            const uint16_t *p = a->s + n - W;                                                      \
            skip = W - (n - i);                                                                    \
            act = LOADU(evf_tail_mask + 32 - skip);                                                \
            EVF_ITER(p, p - 1, p - 2, 1)                                                           \
            i = n;                                                                                 \
        }                                                                                          \
        {                                                                                          \
            const VT q16 = LOADU(evf_lane_index);                                                  \
            long long T = (i - w0 + skip) / W;                                                     \
            evf_fold_weights(a, w0, w0 < split, T, W, skip, lastlows, HSUM32(MADD(lows, ones)),    \
                             HSUM32(MADD(racc, ones)), HSUM32(MADD(lows, q16)), r);                \
            since += T;                                                                            \
            lows = racc = ZERO();                                                                  \
            w0 = i;                                                                                \
        }                                                                                          \
        if (since >= budget || i >= n) {                                                           \
            r->nt += since * W - HSUM32(MADD(ntc, ones)); /* masked lanes are in both */         \
            r->st += HSUM32(MADD(st, ones));                                                       \
            r->sst += HSUM64(sst);                                                                 \
            r->nb += HSUM32(MADD(nb, ones));                                                       \
            r->sb += HSUM32(MADD(sb, ones));                                                       \
            r->ssb += HSUM64(ssb);                                                                 \
            ntc = nb = st = sb = sst = ssb = ZERO();                                               \
            since = 0;                                                                             \
        }                                                                                          \
    }                                                                                              \
}

/* horizontal sums: 32-bit lanes whose total fits 31 bits, and 32-bit lanes read as unsigned */
static inline long long evf_hsum32_128(__m128i x)
{
    x = _mm_add_epi32(x, _mm_srli_si128(x, 8));
    x = _mm_add_epi32(x, _mm_srli_si128(x, 4));
    return _mm_cvtsi128_si32(x);
}

static inline long long evf_hsum64_128(__m128i x)
{
    __m128i z = _mm_setzero_si128();
    __m128i y = _mm_add_epi64(_mm_unpacklo_epi32(x, z), _mm_unpackhi_epi32(x, z));
    y = _mm_add_epi64(y, _mm_srli_si128(y, 8));
    return _mm_cvtsi128_si64(y);
}

__attribute__((target("avx2"))) static inline long long evf_hsum32_256(__m256i x)
{
    return evf_hsum32_128(_mm_add_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1)));
}

__attribute__((target("avx2"))) static inline long long evf_hsum64_256(__m256i x)
{
    return evf_hsum64_128(_mm256_castsi256_si128(x)) + evf_hsum64_128(_mm256_extracti128_si256(x, 1));
}

__attribute__((target("avx512bw"))) static inline long long evf_hsum32_512(__m512i x)
{
    return _mm512_reduce_add_epi32(x);
}

__attribute__((target("avx512bw"))) static inline long long evf_hsum64_512(__m512i x)
{
    return _mm512_reduce_add_epi64(_mm512_cvtepu32_epi64(_mm512_castsi512_si256(x)))
           + _mm512_reduce_add_epi64(_mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(x, 1)));
}

static const short evf_tail_mask[64] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-tree-pre")
#endif

static const short evf_lane_index[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                         11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                         22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

#define VT __m128i
#define W 8
#define LOADU(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define STOREU(p, x) _mm_storeu_si128((__m128i *)(void *)(p), x)
#define SET1 _mm_set1_epi16
#define XOR _mm_xor_si128
#define CMPGT _mm_cmpgt_epi16
#define AND _mm_and_si128
#define OR _mm_or_si128
#define ANDNOT _mm_andnot_si128
#define ADD16 _mm_add_epi16
#define SUB16 _mm_sub_epi16
#define ADD32 _mm_add_epi32
#define MADD _mm_madd_epi16
#define ZERO _mm_setzero_si128
#define HSUM32 evf_hsum32_128
#define HSUM64 evf_hsum64_128
#define MOVEMASK(x) (__builtin_popcount((unsigned)_mm_movemask_epi8(x)) / 2)
EVF_BODY(evf_sse2_k0, , 0, 0) EVF_BODY(evf_sse2_k1, , 1, 0) EVF_BODY(evf_sse2_k2, , 2, 0)
EVF_BODY(evf_sse2_k0b, , 0, 1) EVF_BODY(evf_sse2_k1b, , 1, 1) EVF_BODY(evf_sse2_k2b, , 2, 1)
#undef VT
#undef W
#undef LOADU
#undef STOREU
#undef SET1
#undef XOR
#undef CMPGT
#undef AND
#undef OR
#undef ANDNOT
#undef ADD16
#undef SUB16
#undef ADD32
#undef MADD
#undef ZERO
#undef HSUM32
#undef HSUM64
#undef MOVEMASK

#define EVF_ATTR_AVX2 __attribute__((target("avx2")))
#define VT __m256i
#define W 16
#define LOADU(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define STOREU(p, x) _mm256_storeu_si256((__m256i *)(void *)(p), x)
#define SET1 _mm256_set1_epi16
#define XOR _mm256_xor_si256
#define CMPGT _mm256_cmpgt_epi16
#define AND _mm256_and_si256
#define OR _mm256_or_si256
#define ANDNOT _mm256_andnot_si256
#define ADD16 _mm256_add_epi16
#define SUB16 _mm256_sub_epi16
#define ADD32 _mm256_add_epi32
#define MADD _mm256_madd_epi16
#define ZERO _mm256_setzero_si256
#define HSUM32 evf_hsum32_256
#define HSUM64 evf_hsum64_256
#define MOVEMASK(x) (__builtin_popcount((unsigned)_mm256_movemask_epi8(x)) / 2)
EVF_BODY(evf_avx2_k0, EVF_ATTR_AVX2, 0, 0) EVF_BODY(evf_avx2_k1, EVF_ATTR_AVX2, 1, 0)
EVF_BODY(evf_avx2_k2, EVF_ATTR_AVX2, 2, 0) EVF_BODY(evf_avx2_k0b, EVF_ATTR_AVX2, 0, 1)
EVF_BODY(evf_avx2_k1b, EVF_ATTR_AVX2, 1, 1) EVF_BODY(evf_avx2_k2b, EVF_ATTR_AVX2, 2, 1)
#undef VT
#undef W
#undef LOADU
#undef STOREU
#undef SET1
#undef XOR
#undef CMPGT
#undef AND
#undef OR
#undef ANDNOT
#undef ADD16
#undef SUB16
#undef ADD32
#undef MADD
#undef ZERO
#undef HSUM32
#undef HSUM64
#undef MOVEMASK

/* AVX-512BW: compares give k-masks; movm turns them into the lane masks of the common body */
#define EVF_ATTR_AVX512 __attribute__((target("avx512bw")))
#define VT __m512i
#define W 32
#define LOADU(p) _mm512_loadu_si512((const void *)(p))
#define STOREU(p, x) _mm512_storeu_si512((void *)(p), x)
#define SET1 _mm512_set1_epi16
#define XOR _mm512_xor_si512
#define CMPGT(x, y) _mm512_movm_epi16(_mm512_cmpgt_epi16_mask(x, y))
#define AND _mm512_and_si512
#define OR _mm512_or_si512
#define ANDNOT _mm512_andnot_si512
#define ADD16 _mm512_add_epi16
#define SUB16 _mm512_sub_epi16
#define ADD32 _mm512_add_epi32
#define MADD _mm512_madd_epi16
#define ZERO _mm512_setzero_si512
#define HSUM32 evf_hsum32_512
#define HSUM64 evf_hsum64_512
#define MOVEMASK(x) __builtin_popcount((unsigned)_mm512_movepi16_mask(x))
EVF_BODY(evf_avx512_k0, EVF_ATTR_AVX512, 0, 0) EVF_BODY(evf_avx512_k1, EVF_ATTR_AVX512, 1, 0)
EVF_BODY(evf_avx512_k2, EVF_ATTR_AVX512, 2, 0) EVF_BODY(evf_avx512_k0b, EVF_ATTR_AVX512, 0, 1)
EVF_BODY(evf_avx512_k1b, EVF_ATTR_AVX512, 1, 1) EVF_BODY(evf_avx512_k2b, EVF_ATTR_AVX512, 2, 1)
#undef VT
#undef W
#undef LOADU
#undef STOREU
#undef SET1
#undef XOR
#undef CMPGT
#undef AND
#undef OR
#undef ANDNOT
#undef ADD16
#undef SUB16
#undef ADD32
#undef MADD
#undef ZERO
#undef HSUM32
#undef HSUM64
#undef MOVEMASK

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

typedef void (*evf_body_fn)(const evf_args *, evf_sums *);
static const evf_body_fn evf_x86_bodies[3][2][3] = {
    {{evf_sse2_k0, evf_sse2_k1, evf_sse2_k2}, {evf_sse2_k0b, evf_sse2_k1b, evf_sse2_k2b}},
    {{evf_avx2_k0, evf_avx2_k1, evf_avx2_k2}, {evf_avx2_k0b, evf_avx2_k1b, evf_avx2_k2b}},
    {{evf_avx512_k0, evf_avx512_k1, evf_avx512_k2}, {evf_avx512_k0b, evf_avx512_k1b, evf_avx512_k2b}},
};
#endif

/* ---- the sums pass: NEON (aarch64: unsigned compares, no bias; the x86 body's structure) ------- */
#if defined(EVF_NEON)
static const uint16_t evf_neon_tail[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                           0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff};
static const uint16_t evf_neon_lane[8] = {0, 1, 2, 3, 4, 5, 6, 7};

#define EVF_NEON_ITER(P, P1, P2, MASKED)                                                           \
    {                                                                                              \
        uint16x8_t v = vld1q_u16(P), dt = vsubq_u16(v, tl), db = vsubq_u16(v, bl);                 \
        uint16x8_t lo0 = vcltq_u16(v, thr), lo1 = lo0, lo2 = lo0, notop, bot;                      \
        int16x8_t dts, dbs;                                                                        \
        if (K >= 1)                                                                                \
            lo1 = vcltq_u16(vld1q_u16(P1), thr);                                                   \
        if (K >= 2)                                                                                \
            lo2 = vcltq_u16(vld1q_u16(P2), thr);                                                   \
        /* in a window: d = v - edge <= width, as unsigned */                                      \
        notop = vorrq_u16(vorrq_u16(vorrq_u16(lo0, lo1), lo2), vcgtq_u16(dt, tww));                \
        bot = vbicq_u16(vandq_u16(vandq_u16(lo0, lo1), lo2), vcgtq_u16(db, bww));                  \
        if (MASKED) {                                                                              \
            lo0 = vandq_u16(lo0, act);                                                             \
            notop = vorrq_u16(notop, vmvnq_u16(act));                                              \
            bot = vandq_u16(bot, act);                                                             \
            lastlows = vaddvq_u16(vshrq_n_u16(lo0, 15));                                           \
        }                                                                                          \
        dts = vreinterpretq_s16_u16(vbicq_u16(dt, notop));                                         \
        dbs = vreinterpretq_s16_u16(vandq_u16(bot, db));                                           \
        lows = vsubq_u16(lows, lo0);                                                               \
        racc = vaddq_u16(racc, lows);                                                              \
        ntc = vsubq_u16(ntc, notop);                                                               \
        nb = vsubq_u16(nb, bot);                                                                   \
        st = vaddq_u16(st, vreinterpretq_u16_s16(dts));                                            \
        sb = vaddq_u16(sb, vreinterpretq_u16_s16(dbs));                                            \
        sst = vmlal_s16(sst, vget_low_s16(dts), vget_low_s16(dts));                                \
        sst = vmlal_high_s16(sst, dts, dts);                                                       \
        ssb = vmlal_s16(ssb, vget_low_s16(dbs), vget_low_s16(dbs));                                \
        ssb = vmlal_high_s16(ssb, dbs, dbs);                                                       \
    }

static void evf_sums_neon(const evf_args *a, evf_sums *r)
{
    const uint16x8_t thr = vdupq_n_u16(a->thr), tl = vdupq_n_u16(a->tl), bl = vdupq_n_u16(a->bl);
    const uint16x8_t tww = vdupq_n_u16((uint16_t)a->tww);
    const uint16x8_t bww = vdupq_n_u16((uint16_t)(a->bww < 0 ? 0 : a->bww));
    const int K = a->K;
    const Py_ssize_t n = a->n, split = a->m2, budget = a->iters - 1;
    uint16x8_t act = vdupq_n_u16(0xffff); /* the tail iteration's lanes not yet counted */
    uint16x8_t lows = vdupq_n_u16(0), racc = lows, ntc = lows, nb = lows, st = lows, sb = lows;
    int32x4_t sst = vdupq_n_s32(0), ssb = sst;
    Py_ssize_t i = 0, w0 = 0, since = 0;
    long long skip = 0, lastlows = 0;
    while (i < n) {
        Py_ssize_t stop = i < split ? split : n, room = budget - since;
        Py_ssize_t end = i + ((stop - i) / 8 < room ? (stop - i) / 8 : room) * 8;
        long long T;
        if (i == 0) {
            EVF_NEON_ITER(a->s, a->pre1, a->pre2, 0)
            i += 8;
        }
        for (; i < end; i += 8)
            EVF_NEON_ITER(a->s + i, a->s + i - 1, a->s + i - 2, 0)
        if (i < stop && stop - i < 8) {
            const uint16_t *p = a->s + n - 8;
            skip = 8 - (n - i);
            act = vld1q_u16(evf_neon_tail + 8 - skip);
            EVF_NEON_ITER(p, p - 1, p - 2, 1)
            i = n;
        }
        T = (i - w0 + skip) / 8;
        evf_fold_weights(a, w0, w0 < split, T, 8, skip, lastlows, vaddlvq_u16(lows), vaddlvq_u16(racc),
                         vaddlvq_u32(vmull_u16(vget_low_u16(lows), vld1_u16(evf_neon_lane)))
                             + vaddlvq_u32(vmull_high_u16(lows, vld1q_u16(evf_neon_lane))), r);
        since += T;
        lows = racc = vdupq_n_u16(0);
        w0 = i;
        if (since >= budget || i >= n) {
            r->nt += since * 8 - (long long)vaddlvq_u16(ntc); /* masked lanes are in both */
            r->st += vaddlvq_u16(st);
            r->sst += (long long)vaddlvq_u32(vreinterpretq_u32_s32(sst));
            r->nb += vaddlvq_u16(nb);
            r->sb += vaddlvq_u16(sb);
            r->ssb += (long long)vaddlvq_u32(vreinterpretq_u32_s32(ssb));
            ntc = nb = st = sb = vdupq_n_u16(0);
            sst = ssb = vdupq_n_s32(0);
            since = 0;
        }
    }
}
#endif

/* sides, duty weights, plateau counts and sums (pilotscan.sums_u16); acc[0..8].  ``any``: the OR of
 * the block's samples (the histogram pass leaves it in its scratch); the C paths choose by it, the
 * results do not depend on it. */
static void evf_sums_u16(const uint16_t *s, Py_ssize_t n, long midc, long settle, long maxc,
                         long tlo, long tw, long blo, long bw, long any, long long *acc)
{
    evf_sums r;
    int level = evf_level(-1);
    long tl = tlo < 0 ? 0 : tlo, th = tlo + tw > 65535 ? 65535 : tlo + tw;
    long bl = blo < 0 ? 0 : blo, bh = blo + bw > 65535 ? 65535 : blo + bw;
    /* vector paths: no rejected sample, a top window inside the u16 range, and a bottom window
     * inside it too unless nothing can be low (midc -1: one plateau) */
    if (level == EVF_SCALAR || n < 64 || any > maxc || settle > 2 || midc < -1 || midc > 65534
        || tl > th || th - tl > 16383 || (midc >= 0 && (bl > bh || bh - bl > 16383))) {
        evf_sums_ref(s, n, midc, settle, maxc, tlo, tw, blo, bw, &r);
    } else {
        evf_args a;
        Py_ssize_t K = settle, m, m2, W = 8, i;
        (void)K;
        long long ww, it;
        memset(&r, 0, sizeof r);
        a.s = s;
        a.n = n;
        a.m = m = (n + 1) / 2;
        a.K = (int)settle;
        a.thr = (uint16_t)(midc + 1); /* 0 (midc -1): every sample is high */
        a.tl = (uint16_t)(tl > 65535 ? 65535 : tl);
        a.bl = (uint16_t)(bl > 65535 ? 65535 : bl);
        a.tww = (int)(th - tl);
        a.bww = bl > bh ? -1 : (int)(bh - bl); /* -1 (one plateau): no bottom window */
        /* iterations per chunk: a lane sums one window deviation (<= ww) per iteration in 16 bits,
         * two squares per iteration in 32 bits, and its low count in 16 bits */
        ww = a.tww > a.bww ? a.tww : a.bww; /* a.bww -1: its masks are 0 anyway (nothing is low) */
        ww = ww < 1 ? 1 : ww;
        it = 32767 / ww; /* >= 2 (ww <= 16383): room for a chunk and its tail iteration */
        if (it > (1LL << 31) / (ww * ww))
            it = (1LL << 31) / (ww * ww);
        a.iters = (Py_ssize_t)(it > EVF_ITERS ? EVF_ITERS : it);
        a.pre1[0] = s[0];
        memcpy(a.pre1 + 1, s, 31 * sizeof *s);
        a.pre2[0] = s[0];
        a.pre2[1] = s[1];
        memcpy(a.pre2 + 2, s, 30 * sizeof *s);
#if defined(EVF_X86)
        W = level == EVF_AVX512 ? 32 : level == EVF_AVX2 ? 16 : 8;
#endif
        /* the duty weights turn from rising (i + 1) to falling (n - i) at m: the first range ends
         * on the vector grid at m2 <= m, the second takes [m2, m) with falling weights and is
         * corrected for them below */
        a.m2 = m2 = (m / W) * W;
#if defined(EVF_X86)
        {
            evf_x86_bodies[level - EVF_SSE2][any > 32767 || a.thr > 32767][K](&a, &r);
        }
#elif defined(EVF_NEON)
        evf_sums_neon(&a, &r);
#endif
        for (i = m2; i < m; i++) /* weight i + 1, counted as n - i */
            if (s[i] >= a.thr)
                r.whigh += 2 * i + 1 - n;
        /* window sums are relative to the clamped lower edge: shift them back to tlo / blo */
        if (tl != tlo && a.tww >= 0) {
            long long c = tl - tlo;
            r.sst += 2 * c * r.st + r.nt * c * c;
            r.st += r.nt * c;
        }
        if (bl != blo && a.bww >= 0) {
            long long c = bl - blo;
            r.ssb += 2 * c * r.sb + r.nb * c * c;
            r.sb += r.nb * c;
        }
        r.wvalid = n % 2 ? (long long)a.m * a.m : (long long)(n / 2) * (n / 2 + 1);
    }
    acc[0] = r.above;
    acc[1] = r.nt;
    acc[2] = r.st;
    acc[3] = r.sst;
    acc[4] = r.nb;
    acc[5] = r.sb;
    acc[6] = r.ssb;
    acc[7] = r.whigh;
    acc[8] = r.wvalid;
}

#endif
