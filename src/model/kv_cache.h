// KVCache: keys and values of every layer for a batch of sequences, [layer][seq][position][kv_dim],
// so decoding one token per sequence attends over the cached prefix.
#pragma once
#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace lmp {

class KVCache {
 public:
  KVCache(const ModelConfig& cfg, int64_t batch, int64_t capacity);
  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  int64_t kv_dim() const { return kv_dim_; }
  float* keys(int64_t layer, int64_t seq) { return &k_[offset(layer, seq)]; }
  float* values(int64_t layer, int64_t seq) { return &v_[offset(layer, seq)]; }
  size_t nbytes() const { return (k_.size() + v_.size()) * sizeof(float); }

 private:
  size_t offset(int64_t layer, int64_t seq) const {
    return size_t(((layer * batch_) + seq) * capacity_ * kv_dim_);
  }
  int64_t layers_, batch_, capacity_, kv_dim_;
  std::vector<float> k_, v_;
};

}  // namespace lmp
