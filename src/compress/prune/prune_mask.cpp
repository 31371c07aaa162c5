#include "compress/prune/prune_mask.h"

#include <algorithm>
#include <vector>

namespace lmp {

void mask_lowest(const float* score, int64_t n, int64_t k, uint8_t* mask) {
  std::fill(mask, mask + n, uint8_t(1));
  if (k <= 0) return;
  if (k >= n) {
    std::fill(mask, mask + n, uint8_t(0));
    return;
  }
  // The k-th smallest value t: everything below t goes, then the first (k - below) entries equal to t.
  std::vector<float> tmp(score, score + n);
  std::nth_element(tmp.begin(), tmp.begin() + (k - 1), tmp.end());
  const float t = tmp[size_t(k - 1)];
  int64_t below = 0;
  for (int64_t i = 0; i < n; ++i)
    if (score[i] < t) {
      mask[i] = 0;
      ++below;
    }
  for (int64_t i = 0, ties = k - below; i < n && ties > 0; ++i)
    if (score[i] == t) {
      mask[i] = 0;
      --ties;
    }
}

void mask_at_or_below(const float* score, int64_t n, int64_t k, uint8_t* mask) {
  std::vector<float> tmp(score, score + n);
  std::nth_element(tmp.begin(), tmp.begin() + k, tmp.end());
  const float t = tmp[size_t(k)];
  for (int64_t i = 0; i < n; ++i) mask[i] = score[i] > t;
}

void mask_nm(const float* score, int64_t len, int n, int m, uint8_t* mask) {
  std::vector<int> order(size_t(m), 0);
  for (int64_t g = 0; g < len; g += m) {
    const float* s = score + g;
    for (int j = 0; j < m; ++j) order[size_t(j)] = j;
    std::stable_sort(order.begin(), order.end(), [s](int a, int b) { return s[a] < s[b]; });
    for (int j = 0; j < m; ++j) mask[g + j] = 1;
    for (int j = 0; j < n; ++j) mask[g + order[size_t(j)]] = 0;
  }
}

CompressedLinear sparse_linear(Tensor weight, Tensor mask) {
  float* w = weight.f32();
  const auto* keep = static_cast<const uint8_t*>(mask.data());
  for (int64_t i = 0; i < weight.numel(); ++i)
    if (!keep[i]) w[i] = 0.0f;
  CompressedLinear c;
  c.kind = CompressedLinear::Kind::Sparse;
  c.weight = std::move(weight);
  c.mask = std::move(mask);
  return c;
}

}  // namespace lmp
