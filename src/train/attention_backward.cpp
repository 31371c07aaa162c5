#include "train/attention_backward.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "linalg/gemm.h"
#include "model/ops.h"

namespace lmp {

namespace {

// Row blocks of the forward's size (model/attention.cpp), so the recomputed P is the forward's P bit
// for bit.
constexpr int64_t kRowBlock = 128;

}  // namespace

// One task per (sequence, KV head): the heads of a group add into the same dK/dV rows, so they run in
// order inside the task; no two tasks write the same memory and the result is thread-count invariant.
void attention_backward(const ModelConfig& cfg, const float* q, const float* k, const float* v, const float* out,
                        const float* d_out, const BatchShape& s, float* dq, float* dk, float* dv) {
  const int64_t H = cfg.num_heads, KVH = cfg.num_kv_heads, D = cfg.head_dim;
  const int64_t qd = cfg.q_dim(), kvd = cfg.kv_dim(), T = s.seq, group = H / KVH;
  LMP_CHECK(KVH > 0 && H % KVH == 0, "attention_backward: num_heads ", H, " is not a multiple of num_kv_heads ", KVH);
  for (int64_t b = 0; b < s.batch; ++b)
    LMP_CHECK(s.start_of(b) == 0, "attention_backward: sequence ", b, " starts at position ", s.start_of(b),
              ", expected 0 (no KV cache in training)");
  const int64_t rows = std::min(T, kRowBlock);
  const float scale = 1.0f / std::sqrt(float(D));
#pragma omp parallel for schedule(dynamic) collapse(2)
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t kvh = 0; kvh < KVH; ++kvh) {
      std::vector<float> P(size_t(rows * T)), dS(size_t(rows * T));
      const int64_t base = b * T;
      const float* K = k + base * kvd + kvh * D;
      const float* V = v + base * kvd + kvh * D;
      float* dK = dk + base * kvd + kvh * D;
      float* dV = dv + base * kvd + kvh * D;
      for (int64_t t = 0; t < T; ++t) {
        std::fill_n(dK + t * kvd, D, 0.0f);
        std::fill_n(dV + t * kvd, D, 0.0f);
      }
      for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
        for (int64_t t0 = 0; t0 < T; t0 += rows) {
          const int64_t n = std::min(rows, T - t0), L = t0 + n;  // keys visible to this row block
          const int64_t off = (base + t0) * qd + h * D;
          const float *Q = q + off, *O = out + off, *dO = d_out + off;
          gemm_nt(n, L, D, Q, qd, K, kvd, P.data(), L, scale);
          for (int64_t t = 0; t < n; ++t) softmax_prefix(P.data() + t * L, t0 + t + 1, L);
          gemm_tn(L, D, n, P.data(), L, dO, qd, dV, kvd, 1.0f, 1.0f);  // dV += Pᵀ·dO
          gemm_nt(n, L, D, dO, qd, V, kvd, dS.data(), L);              // dP = dO·Vᵀ
          for (int64_t t = 0; t < n; ++t) {
            double rs = 0.0;  // Σ_j P_tj·dP_tj = dO_t·O_t
            for (int64_t d = 0; d < D; ++d) rs += double(dO[t * qd + d]) * double(O[t * qd + d]);
            const float r = float(rs);
            float* ds = dS.data() + t * L;
            const float* p = P.data() + t * L;
            for (int64_t j = 0; j < L; ++j) ds[j] = p[j] * (ds[j] - r);  // P is 0 past the diagonal
          }
          gemm_nn(n, D, L, dS.data(), L, K, kvd, dq + off, qd, scale);           // dQ = scale·dS·K
          gemm_tn(L, D, n, dS.data(), L, Q, qd, dK, kvd, scale, 1.0f);           // dK += scale·dSᵀ·Q
        }
      }
    }
  }
}

}  // namespace lmp
