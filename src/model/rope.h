// Rotary position embeddings in HF's rotate-half layout (Su et al., RoFormer, arXiv 2104.09864, eq. 34),
// with Llama-3.1 frequency scaling (HF `_compute_llama3_parameters`). Angles are formed in f32 as HF
// does (inv_freq and position·inv_freq rounded to f32) so logits match transformers closely.
#pragma once
#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace lmp {

class Rope {
 public:
  Rope() = default;
  explicit Rope(const ModelConfig& cfg);
  // Makes the cos/sin table cover positions [0, n). Not thread-safe: call before parallel apply().
  void reserve(int64_t n) const;
  // Rotates `heads` consecutive head vectors of size head_dim in one row, at position `pos`
  // (pos < the reserved count).
  void apply(float* row, int64_t heads, int64_t pos) const;
  // The inverse (= transposed) rotation at `pos`: takes the gradient of a rotated row back to the
  // gradient of the row before apply().
  void apply_inverse(float* row, int64_t heads, int64_t pos) const;
  const std::vector<float>& inv_freq() const { return inv_freq_; }

 private:
  int64_t head_dim_ = 0;
  std::vector<float> inv_freq_;
  // cos/sin cache per position: [pos][head_dim/2]
  mutable std::vector<float> cos_, sin_;
  mutable int64_t cached_positions_ = 0;
};

}  // namespace lmp
