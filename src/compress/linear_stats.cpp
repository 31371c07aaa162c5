#include "compress/linear_stats.h"

#include "core/error.h"
#include "linalg/gemm.h"

namespace lmp {

LinearStats::LinearStats(int64_t in_features, uint32_t flags) : in(in_features) {
  if (flags & kStatHessian) hessian.assign(size_t(in * in), 0.0);
  if (flags & kStatColNorms) col_sq.assign(size_t(in), 0.0);
  if (flags & kStatCross) cross.assign(size_t(in * in), 0.0);
  if (flags & kStatOrigGram) orig_gram.assign(size_t(in * in), 0.0);
}

namespace {

// Each batch's product is formed in f32 with BLAS (linalg/gemm.h) and added to the f64 total, so long sums stay
// accurate while the heavy part runs at single-precision GEMM speed.
void add_gram(const float* x, int64_t n, int64_t in, std::vector<double>& total) {
  std::vector<float> batch(size_t(in * in), 0.0f);
  syrk_tn_upper(in, n, x, in, batch.data(), in);
  for (int64_t i = 0; i < in; ++i)
    for (int64_t j = i; j < in; ++j) {
      const double v = double(batch[size_t(i * in + j)]);
      total[size_t(i * in + j)] += v;
      if (j != i) total[size_t(j * in + i)] += v;
    }
}

// total += aᵀb for a, b [n, in].
void add_cross(const float* a, const float* b, int64_t n, int64_t in, std::vector<double>& total) {
  std::vector<float> batch(size_t(in * in), 0.0f);
  gemm_tn(in, in, n, a, in, b, in, batch.data(), in);
  for (size_t i = 0; i < batch.size(); ++i) total[i] += double(batch[i]);
}

}  // namespace

void LinearStats::accumulate(const float* x, int64_t n, const float* orig) {
  if (n <= 0) return;
  rows += n;
  if (!hessian.empty()) add_gram(x, n, in, hessian);
  LMP_CHECK(!needs_orig() || orig != nullptr, "linear stats: ", cross.empty() ? "the Gram matrix X^T X" :
            "the cross term X^T X~", " needs the original model's input (in = ", in, "), but none was given");
  if (!cross.empty()) add_cross(orig, x, n, in, cross);
  if (!orig_gram.empty()) add_gram(orig, n, in, orig_gram);
  if (!col_sq.empty()) {
    for (int64_t r = 0; r < n; ++r) {
      const float* row = x + r * in;
      for (int64_t j = 0; j < in; ++j) col_sq[size_t(j)] += double(row[j]) * double(row[j]);
    }
  }
}

}  // namespace lmp
