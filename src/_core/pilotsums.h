/* pilotscan.h, part 3: the sums pass's vector bodies (SSE2 / AVX2 / AVX-512 / NEON) and its
 * dispatch.
 * Included by pilotscan.h only (it needs its paths, level check and includes). */
#ifndef EVSEFAST_PILOTSUMS_H
#define EVSEFAST_PILOTSUMS_H

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
