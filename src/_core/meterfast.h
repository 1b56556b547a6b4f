/* The meter's vector pass in C: a stretch of plain intervals, four lanes at a time.
 *
 * meter.py's block loop is the reference (the pure build runs only that loop); this pass gives
 * the same lane sums to the bit (tests/test_meter_fast.py), or declines and leaves the stretch to
 * the loop.  A stretch is plain when every sample of it is valid, every interval's dt lies in
 * [0, max_gap] and every power has the sign of the chain's last one (all >= 0: import, else all
 * <= 0: export), so every interval takes the loop's first (or second) branch: lane i % 4 adds
 * ``(lp + p) * 0.5 * dt`` (export: ``-(lp + p) * 0.5 * dt``), the same operations in the same order
 * (the extension is built with -ffp-contract=off).  Intervals adding +-0 to the other direction's
 * lanes leave them unchanged (lane sums are never -0), so they are skipped.
 *
 * GCC / clang vector extensions, one body at two widths: 2 doubles per vector for the baseline
 * (SSE2 on x86-64, NEON on aarch64, plain scalar code where the target has no double-precision
 * SIMD: armv7l), 4 with AVX2 (x86-64, chosen by a CPU check).
 */
#ifndef EVSEFAST_METERFAST_H
#define EVSEFAST_METERFAST_H

#include <string.h>

typedef double evf_m2d __attribute__((vector_size(16)));
typedef long long evf_m2l __attribute__((vector_size(16)));
typedef double evf_m4d __attribute__((vector_size(32)));
typedef long long evf_m4l __attribute__((vector_size(32)));

#if defined(__clang__)
#  define EVF_SHIFT1_2(prev, cur) __builtin_shufflevector((prev), (cur), 1, 2)
#  define EVF_SHIFT1_4(prev, cur) __builtin_shufflevector((prev), (cur), 3, 4, 5, 6)
#else
#  define EVF_SHIFT1_2(prev, cur) __builtin_shuffle((prev), (cur), (evf_m2l){1, 2})
#  define EVF_SHIFT1_4(prev, cur) __builtin_shuffle((prev), (cur), (evf_m4l){3, 4, 5, 6})
#endif

/* a vector of type VT from p (any alignment); a macro: a function returning a vector warns about
 * its ABI */
#define EVF_LOAD(VT, p) (__extension__({ VT v_; memcpy(&v_, (p), sizeof v_); v_; }))

/* The stretch [i, e) of the block (i % 4 == 0, e - i a positive multiple of 4), the chain's last
 * sample (lt, lp) before it.  Returns 1 and the new lane sums in ``lanes`` (the import lanes if
 * lp >= 0, else the export lanes) if the stretch is plain; 0 (nothing written) if not.  VT: a
 * vector of W doubles (W = 4: one vector per step of 4 samples, W = 2: two), IT the same width of
 * 64-bit integers.
 *
 * The checks are on sign bits, conservative: dt, gap - dt (and for import p) must have a clear
 * sign bit, for export p a set one (so -0.0 intervals and +0.0 export powers decline); a NaN
 * anywhere reaches the lane sums (and declines there).  V x I with a NaN product counts 0 W
 * (meter._phase_power): the product and-ed with its (x == x) mask. */
/* one vector of the step of 4 samples at j: W samples from o = j + H0 * W (sub-vector H0) */
#define EVF_METER_VEC(VT, IT, W, SHIFT1, H0, ACC, TPREV, PSHIFT, LOADPREV)                          \
    {                                                                                               \
        const long o = j + (H0) * W;                                                                \
        VT pc, dt, s;                                                                               \
        if (LOADPREV) { /* (the first step's predecessors are set before the loop) */               \
            TPREV = EVF_LOAD(VT, t + o - 1);                                                        \
            if (!vi)                                                                                \
                PSHIFT = EVF_LOAD(VT, p + o - 1);                                                   \
        }                                                                                           \
        if (vi) {                                                                                   \
            VT a = EVF_LOAD(VT, V1 + o) * EVF_LOAD(VT, I1 + o);                                     \
            VT b = EVF_LOAD(VT, V2 + o) * EVF_LOAD(VT, I2 + o);                                     \
            VT c = EVF_LOAD(VT, V3 + o) * EVF_LOAD(VT, I3 + o);                                     \
            a = (VT)((IT)a & (a == a));                                                             \
            b = (VT)((IT)b & (b == b));                                                             \
            c = (VT)((IT)c & (c == c));                                                             \
            pc = (a + b) + c;                                                                       \
            PSHIFT = SHIFT1(plast, pc);                                                             \
            plast = pc;                                                                             \
        } else {                                                                                    \
            pc = EVF_LOAD(VT, p + o);                                                               \
        }                                                                                           \
        dt = EVF_LOAD(VT, t + o) - TPREV;                                                           \
        if (exp) {                                                                                  \
            any |= (IT)dt | (IT)(gapv - dt);                                                        \
            all &= (IT)pc;                                                                          \
            s = -(PSHIFT + pc);                                                                     \
        } else {                                                                                    \
            any |= ((IT)dt | (IT)pc) | (IT)(gapv - dt);                                             \
            s = PSHIFT + pc;                                                                        \
        }                                                                                           \
        ACC += (s * half) * dt;                                                                     \
    }

#define EVF_METER_DEFINE(NAME, VT, IT, W, SHIFT1, ATTR)                                             \
    ATTR static inline __attribute__((always_inline)) int NAME##_body(                              \
        const double *t, const double *p, const double *V1, const double *I1, const double *V2,    \
        const double *I2, const double *V3, const double *I3, long i, long e, double lt, double lp, \
        double gap, double *lanes, const int vi, const int exp)                                    \
    {                                                                                               \
        const double first_t[4] = {lt, t[i], t[i + 1], t[i + 2]};                                  \
        const double first_p[4] = {lp, vi ? lp : p[i], vi ? lp : p[i + 1], vi ? lp : p[i + 2]};      \
        const double lastlanes[4] = {lanes[0], lanes[1], lanes[2], lanes[3]};                      \
        double out[4];                                                                              \
        VT half, gapv, plast, acc0, acc1, tprev0, tprev1, pshift0, pshift1;                         \
        IT any, all;                                                                                \
        long j;                                                                                     \
        int k;                                                                                      \
        for (k = 0; k < W; k++) {                                                                   \
            half[k] = 0.5;                                                                          \
            gapv[k] = gap;                                                                          \
            plast[k] = lp;                                                                          \
            any[k] = 0;                                                                             \
            all[k] = -1;                                                                            \
        }                                                                                           \
        acc0 = EVF_LOAD(VT, lastlanes);                                                             \
        tprev0 = EVF_LOAD(VT, first_t);                                                             \
        pshift0 = EVF_LOAD(VT, first_p);                                                            \
        acc1 = tprev1 = pshift1 = acc0;                                                             \
        if (W == 2) {                                                                               \
            acc1 = EVF_LOAD(VT, lastlanes + (W == 2 ? 2 : 0));                                      \
            tprev1 = EVF_LOAD(VT, first_t + (W == 2 ? 2 : 0));                                      \
            pshift1 = EVF_LOAD(VT, first_p + (W == 2 ? 2 : 0));                                     \
        }                                                                                           \
        j = i;                                                                                      \
        EVF_METER_VEC(VT, IT, W, SHIFT1, 0, acc0, tprev0, pshift0, 0)                               \
        if (W == 2)                                                                                 \
            EVF_METER_VEC(VT, IT, W, SHIFT1, 1, acc1, tprev1, pshift1, 0)                           \
        for (j = i + 4; j < e; j += 4) {                                                            \
            EVF_METER_VEC(VT, IT, W, SHIFT1, 0, acc0, tprev0, pshift0, 1)                           \
            if (W == 2)                                                                             \
                EVF_METER_VEC(VT, IT, W, SHIFT1, 1, acc1, tprev1, pshift1, 1)                       \
        }                                                                                           \
        for (k = 0; k < W; k++)                                                                     \
            if (any[k] < 0 || (exp && all[k] >= 0))                                                 \
                return 0;                                                                           \
        for (k = 0; k < W; k++) {                                                                   \
            out[k] = acc0[k];                                                                       \
            out[(k + W) & 3] = W == 2 ? acc1[k] : acc0[(k + W) & 3];                                \
        }                                                                                           \
        for (k = 0; k < 4; k++)                                                                     \
            if (out[k] != out[k])                                                                   \
                return 0;                                                                           \
        memcpy(lanes, out, sizeof out);                                                             \
        return 1;                                                                                   \
    }                                                                                               \
    ATTR static int NAME(const double *t, const double *p, const double *V1, const double *I1,      \
                         const double *V2, const double *I2, const double *V3, const double *I3,    \
                         long i, long e, double lt, double lp, double gap, double *li, double *le,  \
                         int vi)                                                                    \
    {                                                                                               \
        if (vi)                                                                                     \
            return lp >= 0.0 ? NAME##_body(t, p, V1, I1, V2, I2, V3, I3, i, e, lt, lp, gap, li, 1, 0) \
                             : NAME##_body(t, p, V1, I1, V2, I2, V3, I3, i, e, lt, lp, gap, le, 1, 1); \
        return lp >= 0.0 ? NAME##_body(t, p, V1, I1, V2, I2, V3, I3, i, e, lt, lp, gap, li, 0, 0)     \
                         : NAME##_body(t, p, V1, I1, V2, I2, V3, I3, i, e, lt, lp, gap, le, 0, 1);    \
    }

EVF_METER_DEFINE(evf_meter_pass_base, evf_m2d, evf_m2l, 2, EVF_SHIFT1_2, )
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#  define EVF_METER_X86 1
EVF_METER_DEFINE(evf_meter_pass_avx2, evf_m4d, evf_m4l, 4, EVF_SHIFT1_4, __attribute__((target("avx2"))))
#endif

/* the pass in use: 1 AVX2, 0 the baseline build; -1 none (the loop does every interval) */
static int evf_meter_now = -2;

/* ``force`` 0 / 1 selects the baseline / AVX2 pass (if the CPU has it), -3 no pass, -2 the best
 * again (tests); returns the pass in use */
static int evf_meter_level(int force)
{
    int best = 0;
#if defined(EVF_METER_X86)
    __builtin_cpu_init();
    best = __builtin_cpu_supports("avx2") ? 1 : 0;
#endif
    if (evf_meter_now == -2 || force == -2)
        evf_meter_now = best;
    if (force == 0 || force == -3 || (force == 1 && best))
        evf_meter_now = force == -3 ? -1 : force;
    return evf_meter_now;
}

/* meter._fast's compiled twin: the pass in use on the stretch [i, e) */
static inline int evf_meter_pass(const double *t, const double *p, const double *V1, const double *I1,
                                 const double *V2, const double *I2, const double *V3, const double *I3,
                                 long i, long e, double lt, double lp, double gap, double *li, double *le,
                                 int vi)
{
    if (evf_meter_now == -2)
        evf_meter_level(-1);
#if defined(EVF_METER_X86)
    if (evf_meter_now == 1)
        return evf_meter_pass_avx2(t, p, V1, I1, V2, I2, V3, I3, i, e, lt, lp, gap, li, le, vi);
#endif
    if (evf_meter_now == 0)
        return evf_meter_pass_base(t, p, V1, I1, V2, I2, V3, I3, i, e, lt, lp, gap, li, le, vi);
    return 0;
}

#endif
