/* pilotscan.h, part 1: the histogram (pilotscan.hist_u16).
 * Included by pilotscan.h only (it needs its paths, level check and includes). */
#ifndef EVSEFAST_PILOTHIST_H
#define EVSEFAST_PILOTHIST_H

/* ---- histogram -------------------------------------------------------------------------------- */
/* Per chunk of EVF_HCHUNK samples: a vector pass computes the OR of the samples (no sample is above
 * maxc = 2**bits - 1 iff the OR is not) and each sample's bin index as a byte, in sample order
 * (the pack instructions interleave 128-bit lanes: a permute puts them back, so that the last,
 * overlapping vector of a chunk rewrites the same bytes); then a scalar scatter counts the bytes
 * into eight sub-histograms.  A chunk with a rejected sample is counted by the checked loop. */
#define EVF_HCHUNK 1024

#if defined(EVF_X86)
/* the vector paths' end: fold the 128-bit OR to 16 bits, then the samples after the last vector */
static inline unsigned evf_idx_finish(__m128i x, const uint16_t *s, size_t i, size_t n, unsigned sh,
                                      uint8_t *idx)
{
    unsigned r;
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

__attribute__((target("avx512bw"))) static unsigned evf_idx_avx512(const uint16_t *s, size_t n,
                                                                   unsigned sh, uint8_t *idx)
{
    const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
    __m512i a = _mm512_setzero_si512();
    const __m128i c = _mm_cvtsi32_si128((int)sh);
    __m256i b;
    __m128i x;
    size_t i = 0;
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
    return evf_idx_finish(x, s, i, n, sh, idx);
}

__attribute__((target("avx2"))) static unsigned evf_idx_avx2(const uint16_t *s, size_t n,
                                                             unsigned sh, uint8_t *idx)
{
    __m256i a = _mm256_setzero_si256();
    const __m128i c = _mm_cvtsi32_si128((int)sh);
    __m128i x;
    size_t i = 0;
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
    return evf_idx_finish(x, s, i, n, sh, idx);
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

#endif
