// SparseGPT (Frantar & Alistarh, ICML 2023, "SparseGPT: Massive Language Models Can Be Accurately
// Pruned in One-Shot", Alg. 1): OBS column sweep with error feedback err = (w − ŵ)/[H⁻¹]_jj, lazy blocks
// of `block_size` columns. Unstructured: the mask of each block is chosen across all rows from
// w²/[H⁻¹]_jj² at the block's start; N:M: every M columns, within each row's group.
// Deviations from the reference (locuslab/wanda lib/sparsegpt.py): exactly k = floor(sparsity·numel)
// per block (ties: lowest row-major index of the [out, block] scores; the reference zeroes k + 1 plus
// ties); H⁻¹ factorized in f64; for N:M the block is rounded down to a multiple of M so groups never
// straddle blocks; columns within a block are swept in sub-blocks of 32 joined by GEMMs (same maths).
#include <algorithm>
#include <cmath>
#include <vector>

#include "compress/inverse_hessian.h"
#include "compress/prune/prune_mask.h"
#include "compress/prune/prune_methods.h"
#include "compress/prune/prune_pattern.h"
#include "core/error.h"
#include "linalg/gemm.h"

namespace lmp {
namespace {

constexpr int64_t kSubBlock = 32;

// Rounds `size` down to a multiple of m (at least m); m <= 1 leaves it as is.
int64_t align_down(int64_t size, int64_t m) { return m > 1 ? std::max(m, size - size % m) : size; }

// The column sweep over Wᵀ [in, out]: column j of W is the contiguous row j of `wt`.
struct Sweep {
  const PrunePattern& pattern;
  const float* u;               // upper Cholesky factor of H⁻¹, [in, in]
  int64_t in, out;
  std::vector<float> wt;        // [in, out], updated in place into the pruned weight
  std::vector<uint8_t> keep;    // [in, out], 1 = kept
  std::vector<float> err;       // [block, out], scaled errors of the current block

  float hinv(int64_t i, int64_t j) const { return u[i * in + j]; }

  // Scores w²/[H⁻¹]_jj² of columns [c0, c0 + width) as [out, width] row-major; keep from mask_*.
  std::vector<float> scores(int64_t c0, int64_t width) const {
    std::vector<float> s(size_t(out * width));
    for (int64_t c = 0; c < width; ++c) {
      const float d = hinv(c0 + c, c0 + c), dd = d * d;
      const float* w = &wt[size_t((c0 + c) * out)];
      for (int64_t r = 0; r < out; ++r) s[size_t(r * width + c)] = w[r] * w[r] / dd;
    }
    return s;
  }

  void store_mask(int64_t c0, int64_t width, const std::vector<uint8_t>& m) {
    for (int64_t c = 0; c < width; ++c)
      for (int64_t r = 0; r < out; ++r) keep[size_t((c0 + c) * out + r)] = m[size_t(r * width + c)];
  }

  // Unstructured: the k lowest scores of the whole block, across all rows.
  void choose_block_mask(int64_t i1, int64_t width) {
    const std::vector<float> s = scores(i1, width);
    std::vector<uint8_t> m(s.size());
    mask_lowest(s.data(), int64_t(s.size()), int64_t(double(s.size()) * pattern.sparsity), m.data());
    store_mask(i1, width, m);
  }

  // N:M: the n lowest scores of each row within columns [i, i + m).
  void choose_group_mask(int64_t i) {
    const std::vector<float> s = scores(i, pattern.m);
    std::vector<uint8_t> m(s.size());
    mask_nm(s.data(), int64_t(s.size()), pattern.n, pattern.m, m.data());
    store_mask(i, pattern.m, m);
  }

  // Zeroes the pruned weights of column i and records their scaled error in `e`.
  void prune_column(int64_t i, float* e) {
    const float d = hinv(i, i);
    float* w = &wt[size_t(i * out)];
    const uint8_t* k = &keep[size_t(i * out)];
    for (int64_t r = 0; r < out; ++r) {
      const float q = k[r] ? w[r] : 0.0f;
      e[r] = (w[r] - q) / d;
      w[r] = q;
    }
  }

  // Columns [s1, s2) one by one, each error fed to the later columns of the sub-block (rank 1).
  void sweep_sub_block(int64_t i1, int64_t s1, int64_t s2) {
    for (int64_t i = s1; i < s2; ++i) {
      if (pattern.is_nm() && i % pattern.m == 0) choose_group_mask(i);
      float* e = &err[size_t((i - i1) * out)];
      prune_column(i, e);
      for (int64_t j = i + 1; j < s2; ++j) {
        const float h = hinv(i, j);
        float* w = &wt[size_t(j * out)];
        for (int64_t r = 0; r < out; ++r) w[r] -= h * e[r];
      }
    }
  }

  // Wᵀ[to0, to1) -= H⁻¹[from0, from1) x [to0, to1))ᵀ · Err[from0, from1)   (one GEMM).
  void propagate(int64_t i1, int64_t from0, int64_t from1, int64_t to0, int64_t to1) {
    if (to1 <= to0 || from1 <= from0) return;
    gemm_tn(to1 - to0, out, from1 - from0, u + from0 * in + to0, in,
            &err[size_t((from0 - i1) * out)], out, &wt[size_t(to0 * out)], out, -1.0f, 1.0f);
  }

  void sweep_block(int64_t i1, int64_t i2, int64_t sub) {
    if (!pattern.is_nm()) choose_block_mask(i1, i2 - i1);
    for (int64_t s1 = i1; s1 < i2; s1 += sub) {
      const int64_t s2 = std::min(s1 + sub, i2);
      sweep_sub_block(i1, s1, s2);
      propagate(i1, s1, s2, s2, i2);
    }
    propagate(i1, i1, i2, i2, in);
  }
};

std::vector<float> transposed(const float* a, int64_t rows, int64_t cols) {
  std::vector<float> t(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t[size_t(c * rows + r)] = a[r * cols + c];
  return t;
}

class SparseGptMethod : public LinearMethod {
 public:
  SparseGptMethod(PrunePattern p, double damp, int64_t block) : pattern_(p), damp_(damp), block_(block) {}
  std::string name() const override { return "sparsegpt"; }
  uint32_t needs() const override { return kStatHessian; }
  Kind produces() const override { return Kind::Sparse; }
  // The inverse-Hessian factor (f64, narrowed in place to f32: compress/inverse_hessian.h); the
  // transposed working weights, the keep mask and the result with its mask.
  double scratch_bytes(int64_t out, int64_t in) const override {
    return double(in) * double(in) * 8 + double(out) * double(in) * (4 + 1 + 4 + 1);
  }

  CompressedLinear compress(const std::string& tensor, const Tensor& weight,
                            const LinearStats& stats) const override {
    return prune(tensor, weight, stats, nullptr);
  }
  CompressedLinear compress_consuming(const std::string& tensor, const CompressedLinear& prev,
                                      LinearStats&& stats) const override {
    if (prev.kind != Kind::Dense) return compress_after(tensor, prev, stats);
    return prune(tensor, prev.weight, stats, &stats);
  }
  double handover_bytes(int64_t in) const override { return double(in) * double(in) * 8; }

 private:
  // `handed_over`: null, or `stats` itself, whose Hessian becomes the factor's buffer.
  CompressedLinear prune(const std::string& tensor, const Tensor& weight, const LinearStats& stats,
                         LinearStats* handed_over) const {
    check_prunable(name(), tensor, weight, pattern_);
    const int64_t out = weight.dim(0), in = weight.dim(1);
    InverseHessianSpec spec;
    spec.damp = damp_;  // only relative sizes matter: Σ xᵀx unscaled (the reference's 2/n cancels)
    const std::string where = name() + ": " + tensor;
    const InverseHessian h = handed_over ? inverse_hessian(where, std::move(handed_over->hessian), in, spec)
                                         : inverse_hessian(where, stats, in, spec);
    const int64_t block = align_down(block_, pattern_.m), sub = align_down(kSubBlock, pattern_.m);
    Sweep s{pattern_, h.u(), in, out, transposed(weight.f32(), out, in),
            std::vector<uint8_t>(size_t(in * out), 1), std::vector<float>(size_t(block * out))};
    for (int64_t j = 0; j < in; ++j)
      if (h.dead()[size_t(j)]) std::fill_n(&s.wt[size_t(j * out)], out, 0.0f);
    for (int64_t i1 = 0; i1 < in; i1 += block) s.sweep_block(i1, std::min(i1 + block, in), sub);
    return result(s);
  }

  static CompressedLinear result(const Sweep& s) {
    Tensor w = Tensor::from_f32({s.out, s.in}, transposed(s.wt.data(), s.in, s.out));
    Tensor mask = Tensor::zeros(DType::U8, {s.out, s.in});
    auto* keep = static_cast<uint8_t*>(mask.mutable_data());
    for (int64_t c = 0; c < s.in; ++c)
      for (int64_t r = 0; r < s.out; ++r) keep[r * s.in + c] = s.keep[size_t(c * s.out + r)];
    return sparse_linear(std::move(w), std::move(mask));
  }

  PrunePattern pattern_;
  double damp_;
  int64_t block_;
};

}  // namespace

std::unique_ptr<LinearMethod> make_sparsegpt_method(const MethodSpec& spec) {
  const PrunePattern p = prune_pattern("sparsegpt", spec);
  LMP_CHECK(std::isfinite(spec.damp) && spec.damp >= 0.0, "sparsegpt: damp ", spec.damp,
            " out of range: expected a finite value >= 0");
  LMP_CHECK(spec.block_size >= 1, "sparsegpt: block size ", spec.block_size,
            " out of range: expected >= 1");
  return std::make_unique<SparseGptMethod>(p, spec.damp, spec.block_size);
}

}  // namespace lmp
