#include "train/swiglu_backward.h"

#include <cmath>

namespace lmp {

void swiglu_backward(const float* gate, const float* up, const float* dh, float* d_gate, float* d_up, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i], u = up[i], d = dh[i];
    const float sig = 1.0f / (1.0f + std::exp(-g));
    const float dg = d * u * sig * (1.0f + g * (1.0f - sig));
    d_up[i] = d * g * sig;
    d_gate[i] = dg;
  }
}

}  // namespace lmp
