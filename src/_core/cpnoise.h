/* The per-sample noise of the CP synthesiser in C: the compiled twin of cpnoise.py.
 *
 * cpnoise.py is the reference (plain Python); these functions give the same numbers to the bit
 * (tests/test_cpsignal_noise.py): integer hashing, then the same double operations in the same
 * order (the extension is built with -ffp-contract=off: no fused multiply-add).
 *
 * Each sample's noise is a hash of its index, so a noisy plateau is a loop without a carried
 * dependency.  A draw takes at most 1024 values, so a plateau maps draws to counts through a table
 * (built once per plateau level with the plain formula); on x86-64 with AVX2 (a CPU check, once)
 * 16 samples per iteration: the hash in 32-bit lanes, the byte sum with maddubs / madd, the table
 * with a gather; elsewhere the scalar loop.
 */
#ifndef EVSEFAST_CPNOISE_H
#define EVSEFAST_CPNOISE_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#  define EVF_NOISE_X86 1
#  include <immintrin.h>
#endif

static inline uint32_t evf_fmix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    return x ^ (x >> 16);
}

/* cpnoise.draw */
static inline int32_t evf_draw(uint32_t k, uint32_t key, int kind)
{
    uint32_t h = evf_fmix32(k ^ key);
    if (kind == 2)
        return (int32_t)((h & 255) + ((h >> 8) & 255) + ((h >> 16) & 255) + (h >> 24)) - 510;
    return (int32_t)(h >> 22);
}

/* cpnoise.noise_one */
static inline double evf_noise_one(uint32_t k, uint32_t key, double g, int kind)
{
    int32_t t = evf_draw(k, key, kind);
    if (kind == 2)
        return (double)t * g;
    return ((double)t * (2.0 / 1024.0) + (1.0 / 1024.0 - 1.0)) * g;
}

static int evf_noise_path = -1;

/* The noisy plateau path: 2 AVX-512 (arithmetic, no tables), 1 AVX2 (tables, gathers), 0 scalar
 * C; ``force`` >= 0 selects one this CPU has (tests), -2 the best again; returns the path in use */
static int evf_noise_level(int force)
{
#if defined(EVF_NOISE_X86)
    int best;
    __builtin_cpu_init();
    best = __builtin_cpu_supports("avx2") ? 1 : 0;
    if (best && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        best = 2;
    if (evf_noise_path < 0 || force == -2)
        evf_noise_path = best;
    if (force >= 0 && force <= best)
        evf_noise_path = force;
    return evf_noise_path;
#else
    (void)force;
    return 0;
#endif
}

/* A plateau's map from the draw to the ADC count, as a table: entry t - tmin (t the draw: -510..510
 * for kind 2, 0..1023 for kind 1) = floor(a + t * b) clipped to [0, maxc], + 65536 if clipped.
 * Built with the scalar loop's formula, so a table lookup gives the loop's count.  Returns 1 if
 * an entry is clipped (the batch counts clipped samples only then). */
#define EVF_TAB 1024

/* a batch using both tables spans at most this many samples (cpsignal.pxd flushes before) */
#define EVF_NOISE_SPAN 4096

static int evf_noise_table(uint32_t *tab, double a, double b, int kind, double top, long maxc)
{
    int32_t t, tmin = kind == 2 ? -510 : 0, tmax = kind == 2 ? 510 : 1023;
    uint32_t any = 0;
    for (t = tmin; t <= tmax; t++) {
        double xc = a + (double)t * b;
        tab[t - tmin] = xc < 0.0 ? 65536u : xc >= top ? 65536u + (uint32_t)maxc : (uint32_t)(int32_t)xc;
        any |= tab[t - tmin];
    }
    return (any >> 16) != 0;
}

#if defined(EVF_NOISE_X86)
/* the draws of 8 lanes' indices, minus tmin (table positions) */
__attribute__((target("avx2"))) static inline __m256i evf_pos8(__m256i idx, __m256i key, int kind)
{
    __m256i x = _mm256_xor_si256(idx, key);
    x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
    x = _mm256_mullo_epi32(x, _mm256_set1_epi32((int)0x85ebca6bu));
    x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 13));
    x = _mm256_mullo_epi32(x, _mm256_set1_epi32((int)0xc2b2ae35u));
    x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
    if (kind == 2) /* bytes summed per 32-bit lane: pairs (maddubs), then the two pairs (madd) */
        return _mm256_madd_epi16(_mm256_maddubs_epi16(x, _mm256_set1_epi8(1)), _mm256_set1_epi16(1));
    return _mm256_srli_epi32(x, 22);
}

/* A batch of noisy plateau runs of one fill: consecutive runs, run r of lens[r] samples from
 * starts[r] (starts[r + 1] = starts[r] + lens[r]) with table slot slots[r] (tables ``tab0`` and
 * ``tab0 + 1024``), the first sample at index ks[0] (the indices run on with the samples).  The
 * vectors run over the batch without regard to the runs (no branch per run): each lane's table is
 * picked by a bitmap of the samples whose run has slot 1 (built first, a few word writes per
 * run), or is the one slot all runs share.  The caller keeps batches with both slots within
 * EVF_NOISE_SPAN samples.  The last vector may spill past the batch into the samples the fill
 * writes next while below ``cap``; at the buffer's end it overlaps the previous one instead (same
 * samples, same counts).  COUNT: the tables have clipped entries; the clipped samples are counted
 * (lanes outside the batch's new samples are not).  Without, entries are counts below 65536. */

/* 1 if the batch's runs use both tables; then ``bm`` (EVF_NOISE_SPAN / 64 + 2 words) has bit
 * j - starts[0] set for the samples j of slot-1 runs (zero past the batch) */
static inline int evf_noise_bitmap(uint64_t *bm, const long *starts, const long *lens, const int *slots,
                                   int count)
{
    const long first = starts[0], end = starts[count - 1] + lens[count - 1];
    long j, words;
    int r, mixed = 0;
    for (r = 1; r < count; r++)
        mixed |= slots[r] != slots[0];
    if (!mixed)
        return 0;
    words = (end - first + 63) / 64 + 1;
    for (j = 0; j <= words && j < EVF_NOISE_SPAN / 64 + 2; j++)
        bm[j] = 0;
    for (r = 0; r < count; r++) {
        long s0 = starts[r] - first, s1 = s0 + lens[r], w;
        if (!slots[r] || s1 <= s0)
            continue;
        for (w = s0 >> 6; w <= (s1 - 1) >> 6; w++) {
            uint64_t m = ~(uint64_t)0;
            if (w == s0 >> 6)
                m &= ~(uint64_t)0 << (s0 & 63);
            if (w == (s1 - 1) >> 6)
                m &= ~(uint64_t)0 >> (63 - ((s1 - 1) & 63));
            bm[w] |= m;
        }
    }
    return 1;
}

/* the 16 slot bits of the samples from ``rel`` (relative to the batch's first sample) */
static inline uint32_t evf_noise_bits16(const uint64_t *bm, long rel)
{
    uint32_t w32;
    memcpy(&w32, (const unsigned char *)bm + (rel >> 3), sizeof w32);
    return (w32 >> (rel & 7)) & 0xffffu;
}

#define EVF_NOISE_BATCH(NAME, KIND, COUNT)                                                             \
__attribute__((target("avx2"))) static long NAME(uint16_t *out, long cap, const long *starts,          \
                                                 const long *lens, const uint32_t *ks, const int *slots, \
                                                 const uint32_t *tab0, int count, uint32_t key)         \
{                                                                                                      \
    enum { KINDc = KIND, COUNTc = COUNT };                                                             \
    const __m256i keyv = _mm256_set1_epi32((int)key);                                                  \
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), eight = _mm256_set1_epi32(8);      \
    const __m256i iota8 = _mm256_add_epi32(iota, eight), sixteen = _mm256_set1_epi32(16);              \
    const __m256i low16 = _mm256_set1_epi32(0xffff), zero = _mm256_setzero_si256();                    \
    const __m256i one = _mm256_set1_epi32(1);                                                          \
    const long first = starts[0], end = starts[count - 1] + lens[count - 1];                           \
    const uint32_t k0 = ks[0];                                                                         \
    uint64_t bm[EVF_NOISE_SPAN / 64 + 2];                                                              \
    __m256i nclip = zero, iv, off;                                                                     \
    long p, clipped = 0, j;                                                                            \
    int r, mixed = 0;                                                                                  \
    (void)low16;                                                                                       \
    if (end - first < 16 || (first + 16 > cap)) { /* too short for a vector: the plain loop */         \
        r = 0;                                                                                         \
        for (j = first; j < end; j++) {                                                                \
            uint32_t e;                                                                                \
            while (r + 1 < count && starts[r + 1] <= j)                                                \
                r++;                                                                                   \
            e = tab0[1024 * slots[r] + evf_draw(k0 + (uint32_t)(j - first), key, KIND) - (KIND == 2 ? -510 : 0)]; \
            out[j] = (uint16_t)(e & 0xffff);                                                           \
            clipped += e >> 16;                                                                        \
        }                                                                                              \
        return clipped;                                                                                \
    }                                                                                                  \
    mixed = evf_noise_bitmap(bm, starts, lens, slots, count);                                          \
    off = _mm256_set1_epi32(1024 * slots[0]);                                                          \
    iv = _mm256_add_epi32(_mm256_set1_epi32((int)k0), iota);                                           \
    for (p = first;; p += 16, iv = _mm256_add_epi32(iv, sixteen)) {                                    \
        long base = p, skip = 0;                                                                       \
        int last = p + 16 >= end;                                                                      \
        __m256i x0, x1, e0, e1, c;                                                                     \
        if (p >= end)                                                                                  \
            break;                                                                                     \
        if (last && p + 16 > cap) { /* the buffer's end: the last 16 samples again */                  \
            base = end - 16;                                                                           \
            skip = p - base;                                                                           \
            iv = _mm256_add_epi32(_mm256_set1_epi32((int)(k0 + (uint32_t)(base - first))), iota);      \
        }                                                                                              \
        x0 = evf_pos8(iv, keyv, KINDc);                                                                \
        x1 = evf_pos8(_mm256_add_epi32(iv, eight), keyv, KINDc);                                       \
        if (mixed) {                                                                                   \
            const __m256i v = _mm256_set1_epi32((int)evf_noise_bits16(bm, base - first));              \
            x0 = _mm256_add_epi32(x0, _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(v, iota), one), 10)); \
            x1 = _mm256_add_epi32(x1, _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(v, iota8), one), 10)); \
        } else {                                                                                       \
            x0 = _mm256_add_epi32(x0, off);                                                            \
            x1 = _mm256_add_epi32(x1, off);                                                            \
        }                                                                                              \
        e0 = _mm256_i32gather_epi32((const int *)tab0, x0, 4);                                         \
        e1 = _mm256_i32gather_epi32((const int *)tab0, x1, 4);                                         \
        if (COUNTc) {                                                                                  \
            __m256i f0 = _mm256_srli_epi32(e0, 16), f1 = _mm256_srli_epi32(e1, 16);                    \
            if (last) { /* count the lanes in [skip, end - base): new samples of the batch */          \
                const __m256i lo = _mm256_set1_epi32((int)skip - 1), hi = _mm256_set1_epi32((int)(end - base)); \
                f0 = _mm256_and_si256(f0, _mm256_and_si256(_mm256_cmpgt_epi32(iota, lo), _mm256_cmpgt_epi32(hi, iota))); \
                f1 = _mm256_and_si256(f1, _mm256_and_si256(_mm256_cmpgt_epi32(iota8, lo), _mm256_cmpgt_epi32(hi, iota8))); \
            }                                                                                          \
            nclip = _mm256_add_epi32(nclip, _mm256_add_epi32(f0, f1));                                 \
            e0 = _mm256_and_si256(e0, low16);                                                          \
            e1 = _mm256_and_si256(e1, low16);                                                          \
        }                                                                                              \
        c = _mm256_packus_epi32(e0, e1);                                                               \
        _mm256_storeu_si256((__m256i *)(void *)(out + base), _mm256_permute4x64_epi64(c, 0xd8));       \
    }                                                                                                  \
    if (COUNTc) {                                                                                      \
        __m128i z = _mm_add_epi32(_mm256_castsi256_si128(nclip), _mm256_extracti128_si256(nclip, 1));  \
        z = _mm_add_epi32(z, _mm_srli_si128(z, 8));                                                    \
        z = _mm_add_epi32(z, _mm_srli_si128(z, 4));                                                    \
        clipped += _mm_cvtsi128_si32(z);                                                               \
    }                                                                                                  \
    return clipped;                                                                                    \
}

EVF_NOISE_BATCH(evf_noise_batch_g_avx2, 2, 1)
EVF_NOISE_BATCH(evf_noise_batch_u_avx2, 1, 1)
EVF_NOISE_BATCH(evf_noise_batch_g_avx2_nc, 2, 0)
EVF_NOISE_BATCH(evf_noise_batch_u_avx2_nc, 1, 0)

/* a vector fits: 16 samples from the batch's start inside the buffer and the batch (else the
 * AVX2 function's plain loop takes the batch) */
static inline int end_ok(const long *starts, const long *lens, int count, long cap)
{
    const long first = starts[0], end = starts[count - 1] + lens[count - 1];
    return end - first >= 16 && first + 16 <= cap;
}

/* The same batch with AVX-512, 16 samples per step and no tables: the count of draw t is computed
 * as the table's entry is built, xc = a + t * b in double (a, b of the lane's slot: the slot bits
 * are the blend masks), then clipped: trunc(min(max(xc, 0), maxc)) equals the entry's
 * ``xc < 0 ? 0 : xc >= top ? maxc : (int)xc`` for top = maxc + 1; clipped when xc < 0 or xc >=
 * top.  (Gathers are slow on some CPUs; this path has none.) */
#define EVF_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#define EVF_NOISE_BATCH512(NAME, KIND, COUNT)                                                          \
EVF_AVX512 static long NAME(uint16_t *out, long cap, const long *starts, const long *lens,             \
                            const uint32_t *ks, const int *slots, int count, uint32_t key,             \
                            const double *a2, const double *b2, double top, long maxc)                 \
{                                                                                                      \
    const __m512i keyv = _mm512_set1_epi32((int)key), sixteen = _mm512_set1_epi32(16);               \
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);     \
    const __m512i m1 = _mm512_set1_epi32((int)0x85ebca6bu), m2 = _mm512_set1_epi32((int)0xc2b2ae35u); \
    const __m512d a0 = _mm512_set1_pd(a2[0]), a1 = _mm512_set1_pd(a2[1]);                             \
    const __m512d b0 = _mm512_set1_pd(b2[0]), b1 = _mm512_set1_pd(b2[1]);                             \
    const __m512d zero = _mm512_setzero_pd(), topv = _mm512_set1_pd(top);                             \
    const __m512d maxv = _mm512_set1_pd((double)maxc);                                                \
    const long first = starts[0], end = starts[count - 1] + lens[count - 1];                           \
    uint64_t bm[EVF_NOISE_SPAN / 64 + 2];                                                              \
    const int mixed = evf_noise_bitmap(bm, starts, lens, slots, count);                                \
    const __mmask16 fixed = slots[0] ? 0xffff : 0;                                                     \
    const int sameb = b2[0] == b2[1] || !mixed;                                                        \
    const __m512d bs = _mm512_set1_pd(b2[mixed ? 0 : slots[0]]);                                       \
    __m512i iv = _mm512_add_epi32(_mm512_set1_epi32((int)ks[0]), iota);                                \
    long p, clipped = 0;                                                                               \
    for (p = first; p < end; p += 16, iv = _mm512_add_epi32(iv, sixteen)) {                            \
        long base = p, skip = 0;                                                                       \
        const int last = p + 16 >= end;                                                                \
        __mmask16 k;                                                                                   \
        __m512i x, t;                                                                                  \
        __m512d xl, xh;                                                                                \
        if (last && p + 16 > cap) { /* the buffer's end: the last 16 samples again */                  \
            base = end - 16;                                                                           \
            skip = p - base;                                                                           \
            iv = _mm512_add_epi32(_mm512_set1_epi32((int)(ks[0] + (uint32_t)(base - first))), iota);   \
        }                                                                                              \
        x = _mm512_xor_si512(iv, keyv);                                                                \
        x = _mm512_xor_si512(x, _mm512_srli_epi32(x, 16));                                             \
        x = _mm512_mullo_epi32(x, m1);                                                                 \
        x = _mm512_xor_si512(x, _mm512_srli_epi32(x, 13));                                             \
        x = _mm512_mullo_epi32(x, m2);                                                                 \
        x = _mm512_xor_si512(x, _mm512_srli_epi32(x, 16));                                             \
        if (KIND == 2)                                                                                 \
            t = _mm512_sub_epi32(_mm512_madd_epi16(_mm512_maddubs_epi16(x, _mm512_set1_epi8(1)),       \
                                                   _mm512_set1_epi16(1)), _mm512_set1_epi32(510));     \
        else                                                                                           \
            t = _mm512_srli_epi32(x, 22);                                                              \
        k = mixed ? (__mmask16)evf_noise_bits16(bm, base - first) : fixed;                             \
        xl = _mm512_cvtepi32_pd(_mm512_castsi512_si256(t));                                            \
        xh = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(t, 1));                                      \
        if (sameb) { /* (the two levels of a fill share b) */                                         \
            xl = _mm512_add_pd(_mm512_mask_blend_pd((__mmask8)k, a0, a1), _mm512_mul_pd(xl, bs));      \
            xh = _mm512_add_pd(_mm512_mask_blend_pd((__mmask8)(k >> 8), a0, a1), _mm512_mul_pd(xh, bs)); \
        } else {                                                                                       \
            xl = _mm512_add_pd(_mm512_mask_blend_pd((__mmask8)k, a0, a1),                              \
                               _mm512_mul_pd(xl, _mm512_mask_blend_pd((__mmask8)k, b0, b1)));          \
            xh = _mm512_add_pd(_mm512_mask_blend_pd((__mmask8)(k >> 8), a0, a1),                      \
                               _mm512_mul_pd(xh, _mm512_mask_blend_pd((__mmask8)(k >> 8), b0, b1)));   \
        }                                                                                              \
        if (COUNT) {                                                                                   \
            uint32_t cm = (uint32_t)(_mm512_cmp_pd_mask(xl, zero, _CMP_LT_OQ)                          \
                                     | _mm512_cmp_pd_mask(xl, topv, _CMP_GE_OQ))                       \
                          | (uint32_t)(_mm512_cmp_pd_mask(xh, zero, _CMP_LT_OQ)                        \
                                       | _mm512_cmp_pd_mask(xh, topv, _CMP_GE_OQ)) << 8;               \
            if (last) /* the lanes in [skip, end - base): new samples of the batch */                  \
                cm &= (0xffffu << skip) & (0xffffu >> (16 - (end - base)));                            \
            clipped += __builtin_popcount(cm);                                                         \
        }                                                                                              \
        if (COUNT) { /* without clipped entries every xc is in [0, top): its count is trunc(xc) */     \
            xl = _mm512_min_pd(_mm512_max_pd(xl, zero), maxv);                                         \
            xh = _mm512_min_pd(_mm512_max_pd(xh, zero), maxv);                                         \
        }                                                                                              \
        _mm256_storeu_si256((__m256i *)(void *)(out + base),                                           \
                            _mm512_cvtusepi32_epi16(_mm512_inserti64x4(                                 \
                                _mm512_castsi256_si512(_mm512_cvttpd_epi32(xl)), _mm512_cvttpd_epi32(xh), 1))); \
    }                                                                                                  \
    return clipped;                                                                                    \
}

EVF_NOISE_BATCH512(evf_noise_batch_g_512, 2, 1)
EVF_NOISE_BATCH512(evf_noise_batch_u_512, 1, 1)
EVF_NOISE_BATCH512(evf_noise_batch_g_512_nc, 2, 0)
EVF_NOISE_BATCH512(evf_noise_batch_u_512_nc, 1, 0)
#endif

/* the batch on the path in use; ``clips``: a table has clipped entries (0: none of the samples
 * can be clipped); ``a2``, ``b2``, ``top``, ``maxc``: the two slots' plateau maps (the tables'
 * formula; the AVX-512 path computes with them instead of the tables) */
static long evf_noise_batch(uint16_t *out, long cap, const long *starts, const long *lens, const uint32_t *ks,
                            const int *slots, const uint32_t *tab0, int count, uint32_t key, int kind,
                            int clips, const double *a2, const double *b2, double top, long maxc)
{
    long clipped = 0, j;
    int r;
    int32_t tmin = kind == 2 ? -510 : 0;
#if defined(EVF_NOISE_X86)
    if (evf_noise_path < 0)
        evf_noise_level(-1);
    if (evf_noise_path == 2 && end_ok(starts, lens, count, cap)) {
        if (clips)
            return (kind == 2 ? evf_noise_batch_g_512 : evf_noise_batch_u_512)(out, cap, starts, lens, ks, slots,
                                                                               count, key, a2, b2, top, maxc);
        return (kind == 2 ? evf_noise_batch_g_512_nc : evf_noise_batch_u_512_nc)(out, cap, starts, lens, ks, slots,
                                                                                 count, key, a2, b2, top, maxc);
    }
    if (evf_noise_path >= 1) {
        if (clips)
            return (kind == 2 ? evf_noise_batch_g_avx2 : evf_noise_batch_u_avx2)(out, cap, starts, lens, ks,
                                                                                 slots, tab0, count, key);
        return (kind == 2 ? evf_noise_batch_g_avx2_nc : evf_noise_batch_u_avx2_nc)(out, cap, starts, lens, ks,
                                                                                   slots, tab0, count, key);
    }
#else
    (void)a2;
    (void)b2;
    (void)top;
    (void)maxc;
#endif
    (void)cap;
    (void)clips;
    for (r = 0; r < count; r++) {
        uint16_t *o = out + starts[r];
        const uint32_t *tab = tab0 + 1024 * slots[r];
        for (j = 0; j < lens[r]; j++) {
            uint32_t e = tab[evf_draw(ks[r] + (uint32_t)j, key, kind) - tmin];
            o[j] = (uint16_t)(e & 0xffff);
            clipped += e >> 16;
        }
    }
    return clipped;
}

/* cpnoise.noise_f32 */
static void evf_noise_f32(float *out, long n, uint32_t k, uint32_t key, double v0, double g, int kind)
{
    long j;
    for (j = 0; j < n; j++)
        out[j] = (float)(v0 + evf_noise_one(k + (uint32_t)j, key, g, kind));
}

#endif
