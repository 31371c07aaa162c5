// The attention sub-layer's pieces, shared by the block forward and the compression pipeline's staged
// block: linear layers, RoPE over a batch, KV-cache stores and causal grouped-query attention.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "model/block_forward.h"

namespace lmp {

// y[rows, out] = x[rows, in] · Wᵀ (+ bias); W is f32 [out, in], bias empty or [out].
void linear_forward(const float* x, int64_t rows, const Tensor& w, const Tensor& bias, float* y);
// The same linear stored as factors W ≈ A·B: y = (x·Bᵀ)·Aᵀ (+ bias), two GEMMs; xb [rows, rank]
// receives the intermediate x·Bᵀ (a tape keeps it for the backward).
void linear_forward(const float* x, int64_t rows, const LowRankFactors& f, const Tensor& bias, float* xb,
                    float* y);
// Rotates every row of x [rows, width] (heads of head_dim) at its position in the batch.
void apply_rope(const Rope& rope, float* x, int64_t width, int64_t heads, const BatchShape& s);
// Stores the new keys/values of each sequence into the cache at their positions.
void store_kv(KVCache& cache, int64_t layer, const float* k, const float* v, const BatchShape& s);
// Causal GQA attention of q [rows, q_dim] over k/v (the cache when given, else k_new/v_new
// [rows, kv_dim]); out [rows, q_dim]. `scores` is scratch.
void attention(const ModelConfig& cfg, const float* q, const float* k_new, const float* v_new,
               KVCache* cache, int64_t layer, const BatchShape& s, float* out, std::vector<float>& scores);

}  // namespace lmp
