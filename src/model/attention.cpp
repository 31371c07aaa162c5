#include "model/attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "linalg/gemm.h"
#include "model/ops.h"

namespace lmp {

void linear_forward(const float* x, int64_t rows, const Tensor& w, const Tensor& bias, float* y) {
  const int64_t out = w.dim(0), in = w.dim(1);
  gemm_nt(rows, out, in, x, in, w.f32(), in, y, out);
  if (!bias.empty()) add_bias(y, bias.f32(), rows, out);
}

void linear_forward(const float* x, int64_t rows, const LowRankFactors& f, const Tensor& bias, float* xb,
                    float* y) {
  const int64_t out = f.a.dim(0), rank = f.a.dim(1), in = f.b.dim(1);
  gemm_nt(rows, rank, in, x, in, f.b.f32(), in, xb, rank);
  gemm_nt(rows, out, rank, xb, rank, f.a.f32(), rank, y, out);
  if (!bias.empty()) add_bias(y, bias.f32(), rows, out);
}

void apply_rope(const Rope& rope, float* x, int64_t width, int64_t heads, const BatchShape& s) {
  int64_t max_pos = 0;
  for (int64_t b = 0; b < s.batch; ++b) max_pos = std::max(max_pos, s.start_of(b) + s.seq);
  rope.reserve(max_pos);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < s.rows(); ++r) rope.apply(x + r * width, heads, s.start_of(r / s.seq) + r % s.seq);
}

void store_kv(KVCache& cache, int64_t layer, const float* k, const float* v, const BatchShape& s) {
  const int64_t kvd = cache.kv_dim();
  for (int64_t b = 0; b < s.batch; ++b) {
    const int64_t p0 = s.start_of(b);
    LMP_CHECK(p0 + s.seq <= cache.capacity(), "kv cache: position ", p0 + s.seq, " exceeds capacity ",
              cache.capacity());
    std::copy_n(k + b * s.seq * kvd, s.seq * kvd, cache.keys(layer, b) + p0 * kvd);
    std::copy_n(v + b * s.seq * kvd, s.seq * kvd, cache.values(layer, b) + p0 * kvd);
  }
}

// Causal grouped-query attention: head h reads KV head h / (H / KVH). Row t of sequence b attends over
// keys [0, start+t]. Rows go in blocks of kRowBlock so each block multiplies only the keys it can see
// (causal work instead of the full square). One (sequence, head) pair per OpenMP task; BLAS runs
// single-threaded inside a parallel region.
constexpr int64_t kRowBlock = 128;

void attention(const ModelConfig& cfg, const float* q, const float* k_new, const float* v_new,
               KVCache* cache, int64_t layer, const BatchShape& s, float* out, std::vector<float>& scores) {
  const int64_t H = cfg.num_heads, KVH = cfg.num_kv_heads, D = cfg.head_dim;
  const int64_t qd = cfg.q_dim(), kvd = cfg.kv_dim(), T = s.seq, group = H / KVH;
  int64_t max_keys = 0;
  for (int64_t b = 0; b < s.batch; ++b) max_keys = std::max(max_keys, s.start_of(b) + T);
  const int64_t rows = std::min(T, kRowBlock);
  const int nthreads = omp_get_max_threads();
  scores.resize(size_t(nthreads * rows * max_keys));
  const float scale = 1.0f / std::sqrt(float(D));
#pragma omp parallel for schedule(dynamic) collapse(2)
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t h = 0; h < H; ++h) {
      const int64_t p0 = s.start_of(b), kvh = h / group;
      const float* K = (cache ? cache->keys(layer, b) : k_new + b * T * kvd) + kvh * D;
      const float* V = (cache ? cache->values(layer, b) : v_new + b * T * kvd) + kvh * D;
      float* S = scores.data() + size_t(omp_get_thread_num()) * size_t(rows * max_keys);
      for (int64_t t0 = 0; t0 < T; t0 += rows) {
        const int64_t n = std::min(rows, T - t0), L = p0 + t0 + n;  // keys visible to this row block
        const float* Q = q + (b * T + t0) * qd + h * D;
        gemm_nt(n, L, D, Q, qd, K, kvd, S, L, scale);
        for (int64_t t = 0; t < n; ++t) softmax_prefix(S + t * L, p0 + t0 + t + 1, L);
        gemm_nn(n, D, L, S, L, V, kvd, out + (b * T + t0) * qd + h * D, qd);
      }
    }
  }
}

}  // namespace lmp
