#include "linalg/vector_math.h"

#include <cmath>

#ifdef __AVX2__
#include <immintrin.h>
extern "C" __m256 _ZGVdN8v_expf(__m256);          // libmvec
extern "C" __m256 _ZGVdN8vv_powf(__m256, __m256);  // libmvec
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
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _ZGVdN8vv_powf(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), e);
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(lo, hi));
  sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
#endif
  for (; i < n; ++i) sum += double(std::pow(std::fabs(x[i]), p));
  return sum;
}

}  // namespace lmp
