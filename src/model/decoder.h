// Decoder: incremental decoding of a batch of sequences that advance together, with a KV cache.
// prefill() consumes B prompts of equal length; step() one token per sequence. Both return the
// next-token logits [B, vocab] of each sequence's last position.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "model/kv_cache.h"
#include "model/model.h"
#include "model/sampler.h"

namespace lmp {

class Decoder {
 public:
  Decoder(const Model& model, int64_t batch, int64_t capacity);
  const std::vector<float>& prefill(std::span<const int32_t> ids, int64_t seq_len);
  const std::vector<float>& step(std::span<const int32_t> tokens);
  int64_t position() const { return pos_; }  // tokens consumed per sequence so far
  int64_t batch() const { return batch_; }
  int64_t capacity() const { return cache_.capacity(); }

 private:
  const std::vector<float>& run(std::span<const int32_t> ids, int64_t seq_len);
  const Model& model_;
  int64_t batch_, pos_ = 0;
  KVCache cache_;
  std::vector<float> x_, last_, logits_;
};

struct GenerateOptions {
  int64_t max_new_tokens = 32;
  SamplingParams sampling;
  uint64_t seed = 0;
  bool stop_at_eos = true;
};

// Continues each prompt (token ids, BOS included as the caller wants) by up to max_new_tokens sampled
// tokens; sequences advance as one batch. Returns prompt + generated ids per sequence (a finished
// sequence stops at and includes its EOS).
std::vector<std::vector<int32_t>> generate(const Model& model,
                                           const std::vector<std::vector<int32_t>>& prompts,
                                           const GenerateOptions& opt);

}  // namespace lmp
