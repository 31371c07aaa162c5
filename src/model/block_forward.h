// One pre-norm decoder block (LLaMA / Mistral / Qwen2) on a batch of sequences:
//   x += o_proj(attention(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1)))   n1 = rms_norm(x)
//   x += down_proj(silu(gate_proj(n2)) * up_proj(n2))                      n2 = rms_norm(x)
// The compression pipeline drives blocks one at a time through this entry point; an optional hook
// sees the input of every linear, and an optional tape records what the backward pass needs (block
// refinement, train/). A linear held as factors (BlockWeights::factors) runs as y = (x·Bᵀ)·Aᵀ.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/block_weights.h"
#include "model/kv_cache.h"
#include "model/model_config.h"
#include "model/rope.h"

namespace lmp {

// B sequences of T new tokens each; sequence b's new tokens sit at positions start[b] .. start[b]+T-1.
struct BatchShape {
  int64_t batch = 1;
  int64_t seq = 0;
  std::vector<int64_t> start;  // empty = all zero
  int64_t rows() const { return batch * seq; }
  int64_t start_of(int64_t b) const { return start.empty() ? 0 : start[size_t(b)]; }
};

// Receives the input X [rows, cols] of linear `leaf` ("self_attn.q_proj", ...) before it is applied.
using LinearHook = std::function<void(const std::string& leaf, const float* x, int64_t rows, int64_t cols)>;

// Scratch buffers reused across blocks and calls.
struct BlockWorkspace {
  std::vector<float> norm, q, k, v, attn, gate, up, scores;
  std::vector<float> low_rank;  // x·Bᵀ of a factored linear (when no tape keeps it)
};

struct BlockTape;  // model/block_tape.h

// Applies block `layer` to x [rows, hidden] in place. With a cache, the new keys/values are stored at
// their positions and attention covers the cached prefix; without, attention covers the new tokens.
// With a tape (no cache, every sequence starting at position 0) the activations the backward needs are
// recorded into it; the result is the same bits as without.
void block_forward(const ModelConfig& cfg, const BlockWeights& w, const Rope& rope, int64_t layer,
                   float* x, const BatchShape& shape, KVCache* cache, BlockWorkspace& ws,
                   const LinearHook& hook = nullptr, BlockTape* tape = nullptr);

}  // namespace lmp
