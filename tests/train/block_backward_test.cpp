// The whole block's backward, from the tape block_forward records, against central finite differences
// of block_forward itself: dL/dx and every trainable group (norms, dense linears, factors, biases), on
// a LLaMA-style block (some linears factored, LLaMA attention_bias) and a Qwen2-style one (q/k/v
// biases, every linear factored). Also: the tape changes no bit of the output, and a factored linear
// runs as the dense W = A·B would.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "model/block_forward.h"
#include "model/block_tape.h"
#include "model/kv_cache.h"
#include "model/rope.h"
#include "test_util.h"
#include "train/block_backward.h"
#include "train/block_params.h"
#include "train_fixtures.h"

using namespace lmp;
using test::dot;
using test::random_values;

namespace {

const BatchShape kShape{2, 5, {}};

std::vector<float> run_block(const ModelConfig& c, const BlockWeights& w, const Rope& rope, std::vector<float> x,
                             BlockTape* tape = nullptr) {
  BlockWorkspace ws;
  block_forward(c, w, rope, 0, x.data(), kShape, nullptr, ws, nullptr, tape);
  return x;
}

void check_block_gradients(const ModelConfig& c, BlockWeights w, const std::vector<std::string>& expect_names) {
  const Rope rope(c);
  std::mt19937 rng(11);
  const int64_t R = kShape.rows(), dim = c.hidden_size;
  std::vector<float> x = random_values(R * dim, rng, 1.0f);
  const std::vector<float> r = random_values(R * dim, rng, 1.0f);
  const auto loss = [&] { return dot(r, run_block(c, w, rope, x)); };

  BlockTape tape;
  run_block(c, w, rope, x, &tape);
  std::vector<float> dx(size_t(R * dim));
  BlockGrads g;
  block_backward(c, w, rope, tape, r.data(), dx.data(), g);

  test::expect_gradient("block dx", x.data(), dx.data(), R * dim, loss);
  const std::vector<NamedTensor> pw = trainable_tensors(w), pg = trainable_tensors(g);
  ASSERT_EQ(pw.size(), pg.size());
  std::vector<std::string> names;
  for (size_t i = 0; i < pw.size(); ++i) {
    names.push_back(pw[i].name);
    ASSERT_EQ(pg[i].name, pw[i].name);
    ASSERT_EQ(pg[i].tensor->shape(), pw[i].tensor->shape()) << pw[i].name;
    test::expect_gradient("block " + pw[i].name, pw[i].tensor->f32(), pg[i].tensor->f32(), pw[i].tensor->numel(),
                          loss);
  }
  EXPECT_EQ(names, expect_names);
}

}  // namespace

TEST(BlockBackward, LlamaBlockWithSomeFactoredLinearsMatchesFiniteDifferences) {
  const ModelConfig c = test::tiny_config(false, true);  // q/k/v/o biases
  const BlockWeights w = test::random_block(c, 21, {"self_attn.q_proj", "self_attn.o_proj", "mlp.up_proj"});
  check_block_gradients(c, w,
                        {"input_layernorm.weight", "post_attention_layernorm.weight", "self_attn.q_proj.a",
                         "self_attn.q_proj.b", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                         "self_attn.o_proj.a", "self_attn.o_proj.b", "mlp.gate_proj.weight", "mlp.up_proj.a",
                         "mlp.up_proj.b", "mlp.down_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.bias",
                         "self_attn.v_proj.bias", "self_attn.o_proj.bias"});
}

TEST(BlockBackward, Qwen2BlockAllFactoredWithQkvBiasMatchesFiniteDifferences) {
  const ModelConfig c = test::tiny_config(true);
  const BlockWeights w = test::random_block(c, 22, {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                    "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj",
                                                    "mlp.down_proj"}, 3);
  std::vector<std::string> names = {"input_layernorm.weight", "post_attention_layernorm.weight"};
  for (const char* leaf : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) {
    names.push_back(std::string(leaf) + ".a");
    names.push_back(std::string(leaf) + ".b");
  }
  for (const char* b : {"self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"}) names.push_back(b);
  check_block_gradients(c, w, names);
}

TEST(BlockBackward, DenseBlockMatchesFiniteDifferences) {
  const ModelConfig c = test::tiny_config();
  check_block_gradients(c, test::random_block(c, 23),
                        {"input_layernorm.weight", "post_attention_layernorm.weight", "self_attn.q_proj.weight",
                         "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
                         "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"});
}

TEST(BlockTape, RecordingChangesNoBitOfTheOutput) {
  for (const bool qwen2 : {false, true}) {
    const ModelConfig c = test::tiny_config(qwen2);
    const Rope rope(c);
    for (const bool factored : {false, true}) {
      const BlockWeights w =
          test::random_block(c, 31, factored ? std::vector<std::string>{"self_attn.k_proj", "mlp.down_proj"}
                                             : std::vector<std::string>{});
      std::mt19937 rng(32);
      const std::vector<float> x = random_values(kShape.rows() * c.hidden_size, rng, 1.0f);
      BlockTape tape;
      const std::vector<float> plain = run_block(c, w, rope, x), taped = run_block(c, w, rope, x, &tape);
      ASSERT_EQ(plain.size(), taped.size());
      EXPECT_EQ(std::memcmp(plain.data(), taped.data(), plain.size() * sizeof(float)), 0)
          << "qwen2=" << qwen2 << " factored=" << factored;
      // The tape holds what its header says, and only the factored linears' x·Bᵀ.
      const int64_t R = kShape.rows();
      EXPECT_EQ(tape.x_in, x);
      EXPECT_EQ(tape.hidden.size(), size_t(R * c.intermediate_size));
      EXPECT_EQ(tape.low_rank.size(), factored ? 2u : 0u);
      const size_t per_row = size_t(4 * c.hidden_size + 2 * c.q_dim() + 2 * c.kv_dim() + 3 * c.intermediate_size + 2);
      EXPECT_EQ(tape.nbytes(), (per_row * size_t(R) + (factored ? 2 * size_t(R) * 6 : 0)) * sizeof(float));
    }
  }
}

TEST(BlockForward, FactoredLinearsRunAsTheirDenseProduct) {
  const ModelConfig c = test::tiny_config(true);
  const Rope rope(c);
  const std::vector<std::string> all = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                        "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
  const BlockWeights f = test::random_block(c, 41, all, 5);
  BlockWeights d = f;
  d.factors.clear();
  for (const std::string& leaf : all) {  // W = A·B in double
    const LowRankFactors& lr = f.factors.at(leaf);
    const int64_t out = lr.a.dim(0), rank = lr.a.dim(1), in = lr.b.dim(1);
    std::vector<float> wv(size_t(out * in));
    for (int64_t i = 0; i < out; ++i)
      for (int64_t j = 0; j < in; ++j) {
        double s = 0;
        for (int64_t k = 0; k < rank; ++k) s += double(lr.a.f32()[i * rank + k]) * double(lr.b.f32()[k * in + j]);
        wv[size_t(i * in + j)] = float(s);
      }
    d.linear(leaf) = Tensor::from_f32({out, in}, wv);
  }
  std::mt19937 rng(42);
  const std::vector<float> x = random_values(kShape.rows() * c.hidden_size, rng, 1.0f);
  const std::vector<float> yf = run_block(c, f, rope, x), yd = run_block(c, d, rope, x);
  double worst = 0, moved = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    worst = std::max(worst, double(std::fabs(yf[i] - yd[i])));
    moved = std::max(moved, double(std::fabs(yf[i] - x[i])));
  }
  EXPECT_LT(worst, 1e-5);
  EXPECT_GT(moved, 0.1);  // the block does change its input
}

TEST(BlockTape, RefusesAKvCacheAndNonzeroStarts) {
  const ModelConfig c = test::tiny_config();
  const Rope rope(c);
  const BlockWeights w = test::random_block(c, 51);
  std::vector<float> x(size_t(kShape.rows() * c.hidden_size), 0.5f);
  BlockWorkspace ws;
  BlockTape tape;
  KVCache cache(c, 2, 16);
  EXPECT_EQ(test::error_of([&] { block_forward(c, w, rope, 3, x.data(), kShape, &cache, ws, nullptr, &tape); }),
            "block_forward: layer 3: a tape (training) cannot be recorded with a KV cache");
  EXPECT_EQ(test::error_of([&] {
              block_forward(c, w, rope, 3, x.data(), BatchShape{2, 5, {0, 4}}, nullptr, ws, nullptr, &tape);
            }),
            "block_forward: layer 3: a tape needs every sequence to start at position 0, sequence 1 starts at 4");
}

TEST(BlockForward, BadFactorShapesAreOneErrorLine) {
  const ModelConfig c = test::tiny_config();
  const Rope rope(c);
  BlockWeights w = test::random_block(c, 52, {"mlp.up_proj"});
  std::mt19937 rng(53);
  w.factors["mlp.up_proj"].b = test::random_tensor({6, 15}, rng, 0.1f);
  std::vector<float> x(size_t(kShape.rows() * c.hidden_size), 0.5f);
  BlockWorkspace ws;
  EXPECT_EQ(test::error_of([&] { block_forward(c, w, rope, 0, x.data(), kShape, nullptr, ws); }),
            "block_forward: factors of mlp.up_proj: expected a [24, r] and b [r, 16], found a [24, 6] and b [6, 15]");
}

TEST(BlockBackward, ATapeOfAnotherShapeIsRefused) {
  const ModelConfig c = test::tiny_config();
  const Rope rope(c);
  const BlockWeights w = test::random_block(c, 54);
  BlockTape tape;
  run_block(c, w, rope, std::vector<float>(size_t(kShape.rows() * c.hidden_size), 0.5f), &tape);
  tape.gate.pop_back();
  std::vector<float> dy(size_t(kShape.rows() * c.hidden_size), 1.0f);
  BlockGrads g;
  EXPECT_EQ(test::error_of([&] { block_backward(c, w, rope, tape, dy.data(), nullptr, g); }),
            "block_backward: tape gate holds 239 values, expected 240 (10 rows); record it with "
            "block_forward(..., tape) on this config");
}
