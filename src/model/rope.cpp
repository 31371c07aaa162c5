#include "model/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace lmp {

namespace {
// Llama-3.1 scaling: low frequencies divided by `factor`, high kept, a smooth blend in between.
void scale_llama3(std::vector<float>& inv_freq, const RopeScaling& s) {
  LMP_CHECK(s.original_max_position_embeddings > 0 && s.high_freq_factor != s.low_freq_factor,
            "rope: llama3 scaling needs original_max_position_embeddings > 0 and high_freq_factor != "
            "low_freq_factor (found ", s.original_max_position_embeddings, ", ", s.high_freq_factor, ", ",
            s.low_freq_factor, ")");
  const double old_ctx = double(s.original_max_position_embeddings);
  const double low_wavelen = old_ctx / s.low_freq_factor;
  const double high_wavelen = old_ctx / s.high_freq_factor;
  for (float& f : inv_freq) {
    const double wavelen = 2.0 * std::numbers::pi / double(f);
    if (wavelen < high_wavelen) continue;
    if (wavelen > low_wavelen) {
      f = float(double(f) / s.factor);
      continue;
    }
    const double smooth = (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    f = float((1.0 - smooth) * double(f) / s.factor + smooth * double(f));
  }
}
}  // namespace

Rope::Rope(const ModelConfig& cfg) : head_dim_(cfg.head_dim) {
  LMP_CHECK(head_dim_ > 0 && head_dim_ % 2 == 0, "rope: head_dim must be even and positive, found ",
            head_dim_);
  const int64_t half = head_dim_ / 2;
  inv_freq_.resize(size_t(half));
  const float theta = float(cfg.rope_theta);
  for (int64_t i = 0; i < half; ++i) {
    const float expo = float(2 * i) / float(head_dim_);
    inv_freq_[size_t(i)] = 1.0f / std::pow(theta, expo);
  }
  if (cfg.rope.type == "llama3") scale_llama3(inv_freq_, cfg.rope);
  else LMP_CHECK(cfg.rope.type == "default", "rope: unsupported rope_type '", cfg.rope.type, "'");
}

void Rope::reserve(int64_t positions) const {
  if (positions <= cached_positions_) return;
  const int64_t n = std::max<int64_t>(positions, std::max<int64_t>(cached_positions_ * 2, 256));
  const int64_t half = head_dim_ / 2;
  cos_.resize(size_t(n * half));
  sin_.resize(size_t(n * half));
  for (int64_t p = cached_positions_; p < n; ++p)
    for (int64_t i = 0; i < half; ++i) {
      const float angle = float(p) * inv_freq_[size_t(i)];
      cos_[size_t(p * half + i)] = float(std::cos(double(angle)));
      sin_[size_t(p * half + i)] = float(std::sin(double(angle)));
    }
  cached_positions_ = n;
}

namespace {
// Rotates each (x[i], x[i + half]) pair of `heads` head vectors by the angle whose cos/sin are c/s, or
// by its negative when `inverse` (the transpose: sin's sign flips, which is exact in f32).
template <bool inverse>
void rotate_heads(float* row, int64_t heads, int64_t head_dim, const float* c, const float* s) {
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < heads; ++h) {
    float* x = row + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const float x1 = x[i], x2 = x[i + half];
      const float sn = inverse ? -s[i] : s[i];
      x[i] = x1 * c[i] - x2 * sn;
      x[i + half] = x2 * c[i] + x1 * sn;
    }
  }
}
}  // namespace

void Rope::apply(float* row, int64_t heads, int64_t pos) const {
  const size_t at = size_t(pos * (head_dim_ / 2));
  rotate_heads<false>(row, heads, head_dim_, &cos_[at], &sin_[at]);
}

void Rope::apply_inverse(float* row, int64_t heads, int64_t pos) const {
  const size_t at = size_t(pos * (head_dim_ / 2));
  rotate_heads<true>(row, heads, head_dim_, &cos_[at], &sin_[at]);
}

}  // namespace lmp
