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

static int evf_noise_avx2 = -1;

/* 1 if the AVX2 loop runs here; ``force`` 0 / 1 selects the scalar / AVX2 (if the CPU has it) for
 * tests, -2 the best again */
static int evf_noise_level(int force)
{
#if defined(EVF_NOISE_X86)
    int best;
    __builtin_cpu_init();
    best = __builtin_cpu_supports("avx2") ? 1 : 0;
    if (evf_noise_avx2 < 0 || force == -2)
        evf_noise_avx2 = best;
    if (force == 0 || (force == 1 && best))
        evf_noise_avx2 = force;
    return evf_noise_avx2;
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

/* 16 samples from out + P, lane indices IV and IV + 8: entries gathered from TAB at the positions
 * (+ OFF0 / OFF1 when ADDOFF: per-lane table offsets), stored as counts; with COUNT, the clip
 * flags of the lanes in MASK0 / MASK1 (all lanes when MASKED is 0) added to nclip. */
#define EVF_NOISE_VEC(P, IV, TAB, ADDOFF, OFF0, OFF1, MASKED, MASK0, MASK1)                                \
    {                                                                                                  \
        __m256i x0 = evf_pos8((IV), keyv, KINDc), x1 = evf_pos8(_mm256_add_epi32((IV), eight), keyv, KINDc); \
        __m256i e0, e1, c;                                                                             \
        if (ADDOFF) {                                                                                  \
            x0 = _mm256_add_epi32(x0, OFF0);                                                           \
            x1 = _mm256_add_epi32(x1, OFF1);                                                           \
        }                                                                                              \
        e0 = _mm256_i32gather_epi32((const int *)(TAB), x0, 4);                                        \
        e1 = _mm256_i32gather_epi32((const int *)(TAB), x1, 4);                                        \
        if (COUNTc) {                                                                                  \
            __m256i f0 = _mm256_srli_epi32(e0, 16), f1 = _mm256_srli_epi32(e1, 16);                    \
            if (MASKED) {                                                                              \
                f0 = _mm256_and_si256(f0, MASK0);                                                      \
                f1 = _mm256_and_si256(f1, MASK1);                                                      \
            }                                                                                          \
            nclip = _mm256_add_epi32(nclip, _mm256_add_epi32(f0, f1));                                 \
            e0 = _mm256_and_si256(e0, low16);                                                          \
            e1 = _mm256_and_si256(e1, low16);                                                          \
        }                                                                                              \
        c = _mm256_packus_epi32(e0, e1);                                                               \
        _mm256_storeu_si256((__m256i *)(void *)(out + (P)), _mm256_permute4x64_epi64(c, 0xd8));        \
    }

/* A batch of noisy plateau runs of one fill: consecutive runs, run r of lens[r] samples from
 * starts[r] (starts[r + 1] = starts[r] + lens[r]) with table slot slots[r] (tables ``tab0`` and
 * ``tab0 + 1024``), the first sample at index ks[0] (the indices run on with the samples).  Whole
 * vectors inside a run take its table; a vector across run starts takes each lane's run's table
 * (blends).  A vector past the batch's end may spill into the samples the fill writes next while
 * below ``cap``; at the buffer's end the last vector overlaps the previous one instead (same
 * samples, same counts).  COUNT: the tables have clipped entries; the clipped samples are counted
 * (lanes outside the new samples are not).  Without, entries are counts below 65536. */
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
    const long first = starts[0], end = starts[count - 1] + lens[count - 1];                           \
    const uint32_t k0 = ks[0];                                                                         \
    __m256i nclip = zero, iv;                                                                          \
    long p = first, clipped = 0, j;                                                                    \
    int r = 0;                                                                                         \
    (void)low16;                                                                                       \
    if (end - first < 16 || (first + 16 > cap)) { /* too short for a vector: the plain loop */         \
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
    iv = _mm256_add_epi32(_mm256_set1_epi32((int)k0), iota);                                           \
    while (p < end) {                                                                                  \
        const long rend = starts[r] + lens[r];                                                         \
        const uint32_t *tab = tab0 + 1024 * slots[r];                                                  \
        long base, skip = 0;                                                                           \
        __m256i o0, o1;                                                                                \
        int q = r;                                                                                     \
        for (; p + 16 <= rend; p += 16) { /* whole vectors inside the run */                           \
            EVF_NOISE_VEC(p, iv, tab, 0, zero, zero, 0, zero, zero)                                    \
            iv = _mm256_add_epi32(iv, sixteen);                                                        \
        }                                                                                              \
        if (p >= end)                                                                                  \
            break;                                                                                     \
        base = p;                                                                                      \
        if (p + 16 > cap) { /* the buffer's end: the last 16 samples again, the new ones counted */    \
            base = end - 16;                                                                           \
            skip = p - base;                                                                           \
            iv = _mm256_add_epi32(_mm256_set1_epi32((int)(k0 + (uint32_t)(base - first))), iota);      \
            while (q > 0 && starts[q] > base)                                                          \
                q--;                                                                                   \
        }                                                                                              \
        o0 = o1 = _mm256_set1_epi32(1024 * slots[q]);                                                  \
        while (q + 1 < count && starts[q + 1] < base + 16) { /* runs starting inside the vector */     \
            __m256i at = _mm256_set1_epi32((int)(starts[q + 1] - base));                               \
            __m256i nxt = _mm256_set1_epi32(1024 * slots[q + 1]);                                      \
            o0 = _mm256_blendv_epi8(nxt, o0, _mm256_cmpgt_epi32(at, iota));                            \
            o1 = _mm256_blendv_epi8(nxt, o1, _mm256_cmpgt_epi32(at, iota8));                           \
            q++;                                                                                       \
        }                                                                                              \
        if (COUNTc) { /* count the lanes in [skip, end - base): new samples of the batch */            \
            const __m256i lo = _mm256_set1_epi32((int)skip - 1), hi = _mm256_set1_epi32((int)(end - base)); \
            const __m256i m0 = _mm256_and_si256(_mm256_cmpgt_epi32(iota, lo), _mm256_cmpgt_epi32(hi, iota)); \
            const __m256i m1 = _mm256_and_si256(_mm256_cmpgt_epi32(iota8, lo), _mm256_cmpgt_epi32(hi, iota8)); \
            EVF_NOISE_VEC(base, iv, tab0, 1, o0, o1, 1, m0, m1)                                        \
        } else {                                                                                       \
            EVF_NOISE_VEC(base, iv, tab0, 1, o0, o1, 0, zero, zero)                                    \
        }                                                                                              \
        iv = _mm256_add_epi32(iv, sixteen);                                                            \
        p = base + 16;                                                                                 \
        r = q;                                                                                         \
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
#endif

/* the batch with the scalar loop (no AVX2), or with the AVX2 one; ``clips``: a table has clipped
 * entries (0: none of the samples can be clipped) */
static long evf_noise_batch(uint16_t *out, long cap, const long *starts, const long *lens, const uint32_t *ks,
                            const int *slots, const uint32_t *tab0, int count, uint32_t key, int kind,
                            int clips)
{
    long clipped = 0, j;
    int r;
    int32_t tmin = kind == 2 ? -510 : 0;
#if defined(EVF_NOISE_X86)
    if (evf_noise_avx2 < 0)
        evf_noise_level(-1);
    if (evf_noise_avx2) {
        if (clips)
            return (kind == 2 ? evf_noise_batch_g_avx2 : evf_noise_batch_u_avx2)(out, cap, starts, lens, ks,
                                                                                 slots, tab0, count, key);
        return (kind == 2 ? evf_noise_batch_g_avx2_nc : evf_noise_batch_u_avx2_nc)(out, cap, starts, lens, ks,
                                                                                   slots, tab0, count, key);
    }
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
