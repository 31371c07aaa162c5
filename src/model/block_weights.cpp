#include "model/block_weights.h"

#include "core/error.h"

namespace lmp {

Tensor& BlockWeights::linear(const std::string& leaf) {
  return const_cast<Tensor&>(static_cast<const BlockWeights&>(*this).linear(leaf));
}

const Tensor& BlockWeights::linear(const std::string& leaf) const {
  if (leaf == "self_attn.q_proj") return q;
  if (leaf == "self_attn.k_proj") return k;
  if (leaf == "self_attn.v_proj") return v;
  if (leaf == "self_attn.o_proj") return o;
  if (leaf == "mlp.gate_proj") return gate;
  if (leaf == "mlp.up_proj") return up;
  if (leaf == "mlp.down_proj") return down;
  fail("block weights: unknown linear '", leaf, "' (expected self_attn.{q,k,v,o}_proj or mlp.{gate,up,down}_proj)");
}

size_t BlockWeights::nbytes() const {
  size_t n = 0;
  for (const Tensor* t : {&attn_norm, &ffn_norm, &q, &k, &v, &o, &gate, &up, &down, &q_bias, &k_bias,
                          &v_bias, &o_bias})
    n += t->empty() ? 0 : t->nbytes();
  for (const auto& [leaf, f] : factors) n += f.a.nbytes() + f.b.nbytes();
  return n;
}

BlockWeights load_block_weights(const Checkpoint& ckpt, int64_t b, bool factored, BlockWeights reuse) {
  const ModelConfig& c = ckpt.config();
  auto load = [&](const std::string& leaf, Tensor& old) { return ckpt.load_f32(names::layer(b, leaf), std::move(old)); };
  BlockWeights w;
  w.attn_norm = load("input_layernorm.weight", reuse.attn_norm);
  w.ffn_norm = load("post_attention_layernorm.weight", reuse.ffn_norm);
  for (const std::string& leaf : names::block_linears()) {
    LowRankFactors f;
    if (factored && ckpt.load_factors(names::layer(b, leaf + ".weight"), f.a, f.b))
      w.factors[leaf] = std::move(f);
    else
      w.linear(leaf) = load(leaf + ".weight", reuse.linear(leaf));
  }
  if (c.attention_bias) {
    w.q_bias = load("self_attn.q_proj.bias", reuse.q_bias);
    w.k_bias = load("self_attn.k_proj.bias", reuse.k_bias);
    w.v_bias = load("self_attn.v_proj.bias", reuse.v_bias);
  }
  if (c.o_proj_bias) w.o_bias = load("self_attn.o_proj.bias", reuse.o_bias);
  LMP_CHECK(!c.mlp_bias, "model: mlp_bias=true is not supported yet (", ckpt.path(), ")");
  return w;
}

}  // namespace lmp
