// The per-block entry point: the hook sees every linear's input, and those inputs reproduce the block.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "linalg/gemm.h"
#include "model/block_forward.h"
#include "model/model.h"
#include "test_util.h"

using namespace lmp;

TEST(BlockForward, HookSeesEveryLinearInputAndTheyReproduceTheResiduals) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/lm-s"));
  const ModelConfig& c = m.config();
  const auto ids = m.tokenizer().encode("The quick brown fox jumps over the lazy dog. Again and again.", true);
  const int64_t T = int64_t(ids.size()), dim = c.hidden_size;
  std::vector<float> x(size_t(T * dim));
  m.embed(ids, x.data());
  const std::vector<float> x0 = x;

  std::map<std::string, std::vector<float>> inputs;
  std::map<std::string, int64_t> cols;
  const LinearHook hook = [&](const std::string& leaf, const float* in, int64_t rows, int64_t n) {
    EXPECT_EQ(rows, T) << leaf;
    inputs[leaf].assign(in, in + rows * n);
    cols[leaf] = n;
  };
  BlockWorkspace ws;
  const BlockWeights& w = m.block(0);
  block_forward(c, w, m.rope(), 0, x.data(), BatchShape{1, T, {}}, nullptr, ws, hook);

  ASSERT_EQ(inputs.size(), 7u);
  EXPECT_EQ(cols["self_attn.q_proj"], dim);
  EXPECT_EQ(cols["self_attn.o_proj"], c.q_dim());
  EXPECT_EQ(cols["mlp.down_proj"], c.intermediate_size);
  EXPECT_EQ(inputs["self_attn.q_proj"], inputs["self_attn.v_proj"]);
  EXPECT_EQ(inputs["mlp.gate_proj"], inputs["mlp.up_proj"]);

  // x_out = x0 + o_in·Woᵀ + down_in·Wdᵀ
  std::vector<float> attn(size_t(T * dim)), mlp(size_t(T * dim));
  gemm_nt(T, dim, c.q_dim(), inputs["self_attn.o_proj"].data(), c.q_dim(), w.o.f32(), c.q_dim(), attn.data(), dim);
  gemm_nt(T, dim, c.intermediate_size, inputs["mlp.down_proj"].data(), c.intermediate_size, w.down.f32(),
          c.intermediate_size, mlp.data(), dim);
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, double(std::fabs(x0[i] + attn[i] + mlp[i] - x[i])));
  EXPECT_LT(worst, 1e-4);
}

TEST(BlockForward, BatchOfSequencesEqualsEachAlone) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/lm-s"));
  const auto a = m.tokenizer().encode("first sequence of some words here", true);
  auto b = m.tokenizer().encode("and another one, also with words", true);
  b.resize(a.size(), 29889);
  std::vector<int32_t> both = a;
  both.insert(both.end(), b.begin(), b.end());
  const int64_t T = int64_t(a.size()), V = m.config().vocab_size;
  const auto batched = m.forward(both, BatchShape{2, T, {}});
  const auto la = m.forward(a, BatchShape{1, T, {}});
  const auto lb = m.forward(b, BatchShape{1, T, {}});
  double worst = 0;
  for (int64_t i = 0; i < T * V; ++i) {
    worst = std::max(worst, double(std::fabs(batched[size_t(i)] - la[size_t(i)])));
    worst = std::max(worst, double(std::fabs(batched[size_t(T * V + i)] - lb[size_t(i)])));
  }
  EXPECT_LT(worst, 1e-4);
}
