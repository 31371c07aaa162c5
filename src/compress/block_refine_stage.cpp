#include "compress/block_refine_stage.h"

#include "compress/lowrank/lowrank_math.h"
#include "io/checkpoint.h"

namespace lmp {

namespace {

// The block as refinement trains it: factored linears as factors (no dense copy), the rest dense.
BlockWeights trainable_block(const BlockWeights& w, const CompressedBlock& out, RefineOptions& o) {
  BlockWeights t = w;
  for (const std::string& leaf : names::block_linears()) {
    const auto it = out.linears.find(leaf);
    if (it != out.linears.end() && it->second.kind == CompressedLinear::Kind::LowRank) {
      t.factors[leaf] = *it->second.lowrank;
      t.linear(leaf) = Tensor();
    } else if (it == out.linears.end() || it->second.kind != CompressedLinear::Kind::Dense) {
      o.frozen.push_back(leaf + ".weight");  // skipped, or a representation training would break
    }
  }
  return t;
}

void set_changed(CompressedBlock& out, int64_t b, const char* leaf, Tensor& dst, const Tensor& trained) {
  if (trained.empty()) return;
  dst = trained;
  out.tensors[names::layer(b, leaf)] = trained;
}

}  // namespace

RefineReport refine_compressed_block(const Model& model, int64_t b, BlockWeights& w, CompressedBlock& out,
                                     const float* x_hat, const float* y, int64_t n, int64_t seq,
                                     const RefineOptions& opts) {
  RefineOptions o = opts;
  BlockWeights t = trainable_block(w, out, o);
  const RefineReport r = refine_block(model.config(), model.rope(), b, t, x_hat, y, n, seq, o);
  for (const auto& [leaf, f] : t.factors) {
    CompressedLinear& c = out.linears.at(leaf);
    c.lowrank = f;
    c.weight = factors_product(f);
    w.linear(leaf) = c.weight;
  }
  for (auto& [leaf, c] : out.linears)
    if (c.kind == CompressedLinear::Kind::Dense && !t.linear(leaf).empty()) {
      c.weight = t.linear(leaf);
      w.linear(leaf) = c.weight;
    }
  set_changed(out, b, "input_layernorm.weight", w.attn_norm, t.attn_norm);
  set_changed(out, b, "post_attention_layernorm.weight", w.ffn_norm, t.ffn_norm);
  set_changed(out, b, "self_attn.q_proj.bias", w.q_bias, t.q_bias);
  set_changed(out, b, "self_attn.k_proj.bias", w.k_bias, t.k_bias);
  set_changed(out, b, "self_attn.v_proj.bias", w.v_bias, t.v_bias);
  set_changed(out, b, "self_attn.o_proj.bias", w.o_bias, t.o_bias);
  return r;
}

}  // namespace lmp
