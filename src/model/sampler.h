// Next-token sampling: greedy, temperature, top-k, top-p (nucleus; Holtzman et al., ICLR 2020), seeded.
#pragma once
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace lmp {

struct SamplingParams {
  float temperature = 0.0f;  // 0 = greedy (argmax)
  int64_t top_k = 0;         // 0 = no limit
  float top_p = 1.0f;        // 1 = no limit
};

// A seeded random source with a platform-independent uniform draw.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  double uniform();  // [0, 1)
  uint64_t next() { return gen_(); }

 private:
  std::mt19937_64 gen_;
};

// Index of the largest logit (lowest index on ties).
int32_t argmax(const float* logits, int64_t n);
// Samples a token from logits[vocab] under `p` (temperature > 0), or argmax when temperature == 0.
// `scratch` avoids reallocation across calls.
int32_t sample_token(const float* logits, int64_t vocab, const SamplingParams& p, Rng& rng,
                     std::vector<std::pair<float, int32_t>>& scratch);

}  // namespace lmp
