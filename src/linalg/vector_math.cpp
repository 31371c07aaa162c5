#include "linalg/vector_math.h"

#include <cmath>

#ifdef __AVX2__
#include <immintrin.h>
extern "C" __m256 _ZGVdN8v_expf(__m256);  // libmvec
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

}  // namespace lmp
