#include "model/kv_cache.h"

#include "core/error.h"

namespace lmp {

KVCache::KVCache(const ModelConfig& cfg, int64_t batch, int64_t capacity)
    : layers_(cfg.num_layers), batch_(batch), capacity_(capacity), kv_dim_(cfg.kv_dim()) {
  LMP_CHECK(batch > 0 && capacity > 0, "kv cache: batch and capacity must be positive, found ", batch,
            " and ", capacity);
  const size_t n = size_t(layers_ * batch_ * capacity_ * kv_dim_);
  k_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
}

}  // namespace lmp
