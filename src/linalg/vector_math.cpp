#include "linalg/vector_math.h"

#include <cmath>

#ifdef __AVX2__
#include <immintrin.h>
extern "C" __m256 _ZGVdN8v_expf(__m256);          // libmvec
extern "C" __m256 _ZGVdN8vv_powf(__m256, __m256);  // libmvec
#endif
#if defined(__AVX512F__) && defined(__AVX512DQ__)
#define LMP_AVX512_POW 1
extern "C" __m512 _ZGVeN16vv_powf(__m512, __m512);  // libmvec
#endif

namespace lmp {

void exp_shifted(float* x, int64_t n, float shift) {
  int64_t i = 0;
#ifdef __AVX2__
  const __m256 s = _mm256_set1_ps(shift);
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _ZGVdN8v_expf(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
#endif
  for (; i < n; ++i) x[i] = std::exp(x[i] - shift);
}

double sum_abs_pow(const float* x, int64_t n, float p) {
  double sum = 0.0;
  int64_t i = 0;
#ifdef __AVX2__
  const __m256 e = _mm256_set1_ps(p), sign = _mm256_set1_ps(-0.0f);
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  const auto add8 = [&](__m256 v) {  // 8 f32 terms into the two f64 accumulators
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  };
#ifdef LMP_AVX512_POW
  const __m512 e16 = _mm512_set1_ps(p);
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
  alignas(64) float t[16];
  for (; i + 16 <= n; i += 16) {
    const __m512 a = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(_mm512_loadu_ps(x + i)), magnitude));
    _mm512_store_ps(t, _ZGVeN16vv_powf(a, e16));
    add8(_mm256_load_ps(t));
    add8(_mm256_load_ps(t + 8));
  }
#endif
  for (; i + 8 <= n; i += 8) add8(_ZGVdN8vv_powf(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), e));
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(lo, hi));
  sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
#endif
  for (; i < n; ++i) sum += double(std::pow(std::fabs(x[i]), p));
  return sum;
}

}  // namespace lmp
