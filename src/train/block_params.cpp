#include "train/block_params.h"

#include "io/checkpoint.h"

namespace lmp {

namespace {

struct BiasField {
  const char* leaf;
  Tensor BlockWeights::*field;
};
constexpr BiasField kBiases[] = {{"self_attn.q_proj", &BlockWeights::q_bias},
                                 {"self_attn.k_proj", &BlockWeights::k_bias},
                                 {"self_attn.v_proj", &BlockWeights::v_bias},
                                 {"self_attn.o_proj", &BlockWeights::o_bias}};

// fn(name, tensor) for every trainable tensor of w (BlockWeights or const BlockWeights), in the order
// trainable_tensors() documents.
template <class W, class Fn>
void for_each_trainable(W& w, Fn&& fn) {
  const auto visit = [&](std::string name, auto& t) {
    if (!t.empty()) fn(std::move(name), t);
  };
  visit("input_layernorm.weight", w.attn_norm);
  visit("post_attention_layernorm.weight", w.ffn_norm);
  for (const std::string& leaf : names::block_linears()) {
    const auto it = w.factors.find(leaf);
    if (it != w.factors.end()) {
      visit(leaf + ".a", it->second.a);
      visit(leaf + ".b", it->second.b);
    } else {
      visit(leaf + ".weight", w.linear(leaf));
    }
  }
  for (const BiasField& b : kBiases) visit(std::string(b.leaf) + ".bias", w.*b.field);
}

Tensor zeros_like(const Tensor& t) { return Tensor::zeros(DType::F32, t.shape()); }

}  // namespace

std::vector<NamedTensor> trainable_tensors(BlockWeights& w) {
  std::vector<NamedTensor> out;
  for_each_trainable(w, [&](std::string name, Tensor& t) { out.push_back({std::move(name), &t}); });
  return out;
}

BlockGrads zero_grads_like(const BlockWeights& w) {
  BlockGrads g;
  g.attn_norm = zeros_like(w.attn_norm);
  g.ffn_norm = zeros_like(w.ffn_norm);
  for (const std::string& leaf : names::block_linears()) {
    const auto it = w.factors.find(leaf);
    if (it != w.factors.end()) g.factors[leaf] = {zeros_like(it->second.a), zeros_like(it->second.b)};
    else if (!w.linear(leaf).empty()) g.linear(leaf) = zeros_like(w.linear(leaf));
  }
  for (const BiasField& b : kBiases)
    if (!(w.*b.field).empty()) g.*b.field = zeros_like(w.*b.field);
  return g;
}

bool grads_match(const BlockGrads& g, const BlockWeights& w) {
  std::vector<std::pair<std::string, const Tensor*>> a, b;
  for_each_trainable(g, [&](std::string name, const Tensor& t) { a.emplace_back(std::move(name), &t); });
  for_each_trainable(w, [&](std::string name, const Tensor& t) { b.emplace_back(std::move(name), &t); });
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].first != b[i].first || a[i].second->shape() != b[i].second->shape() ||
        a[i].second->dtype() != DType::F32 || a[i].second->is_view())
      return false;
  return true;
}

void own_trainable(BlockWeights& w) {
  for (NamedTensor& t : trainable_tensors(w)) *t.tensor = t.tensor->to_f32();
}

}  // namespace lmp
