// The trainable tensors of one block, as AA-SVD's block refinement trains them (Sinha & Fleuret,
// arXiv 2604.02119; the reference passes `layer.parameters()` to AdamW): both RMSNorm weights, every
// linear as it runs (factors a and b when factored, else its dense weight) and every bias the
// architecture has. BlockGrads holds their gradients in the same fields and shapes.
#pragma once
#include <string>
#include <vector>

#include "model/block_weights.h"

namespace lmp {

// Gradients laid out as the weights: a field holds dL/d(that weight) where the weight trains, and is
// empty elsewhere (a factored linear's dense field, absent biases).
struct BlockGrads : BlockWeights {};

struct NamedTensor {
  std::string name;  // "input_layernorm.weight", "self_attn.q_proj.a", "mlp.down_proj.weight", ...
  Tensor* tensor;
};

// The trainable tensors in a fixed order: input_layernorm.weight, post_attention_layernorm.weight, then
// each linear in names::block_linears() order ("<leaf>.a" and "<leaf>.b", or "<leaf>.weight"), then the
// biases ("<leaf>.bias"). A BlockGrads from zero_grads_like(w) lists the same names in the same order.
std::vector<NamedTensor> trainable_tensors(BlockWeights& w);
// Zero gradients with the shapes of w's trainable tensors.
BlockGrads zero_grads_like(const BlockWeights& w);
// True when g has exactly the trainable fields of w, shape for shape.
bool grads_match(const BlockGrads& g, const BlockWeights& w);
// Replaces every trainable tensor of w by an owned f32 copy of itself, so training writes into buffers
// of its own (never into a view of a file, nor into a buffer the caller's other copies share).
void own_trainable(BlockWeights& w);

}  // namespace lmp
