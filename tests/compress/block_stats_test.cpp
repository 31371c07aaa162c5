// The pipeline's two sequencing schedules against a brute-force reference on tiny-llama3: the inputs each
// linear group's statistics are taken from ("linear": after the already-compressed groups before it;
// "block": the original weights), the cross term C = XᵀX̃ against the original model's stream, and the
// block outputs of both streams.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "compress/block_stats.h"
#include "core/error.h"
#include "model/model.h"
#include "test_util.h"

namespace lmp {
namespace {

constexpr int64_t kSamples = 5, kSeq = 24, kBatch = 2;  // 3 batches, the last one partial
constexpr uint32_t kAll = kStatHessian | kStatColNorms | kStatCross;

std::vector<int32_t> random_ids(const Model& m, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<int32_t> ids(size_t(kSamples * kSeq));
  for (auto& id : ids) id = int32_t(gen() % uint64_t(m.config().vocab_size));
  return ids;
}

// Coarse rounding, so the compressed weights clearly differ from the original ones.
void coarsen(Tensor& w) {
  std::vector<float> v(w.f32(), w.f32() + w.numel());
  for (float& x : v) x = std::round(x * 16.0f) / 16.0f;
  w = Tensor::from_f32(w.shape(), v);
}

// The inputs of each group leader (first leaf of the group) over all rows, from block_forward's hook.
std::map<std::string, std::vector<float>> group_inputs(const Model& m, int64_t layer, const BlockWeights& w,
                                                       std::vector<float>& x) {
  std::map<std::string, std::vector<float>> in;
  BlockWorkspace ws;
  const int64_t dim = m.config().hidden_size;
  for (int64_t s0 = 0; s0 < kSamples; s0 += kBatch) {
    const int64_t ns = std::min(kBatch, kSamples - s0);
    const LinearHook hook = [&](const std::string& leaf, const float* p, int64_t rows, int64_t cols) {
      in[leaf].insert(in[leaf].end(), p, p + rows * cols);
    };
    block_forward(m.config(), w, m.rope(), layer, x.data() + s0 * kSeq * dim, BatchShape{ns, kSeq, {}}, nullptr,
                  ws, hook);
  }
  return in;
}

// Σ aᵀb over rows, in f64.
std::vector<double> gram(const std::vector<float>& a, const std::vector<float>& b, int64_t in) {
  const int64_t rows = int64_t(a.size()) / in;
  std::vector<double> g(size_t(in * in), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < in; ++j) g[size_t(i * in + j)] += double(a[size_t(r * in + i)]) * b[size_t(r * in + j)];
  return g;
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0.0, worst = 0.0;
  for (size_t i = 0; i < want.size(); ++i) scale = std::max(scale, std::abs(want[i]));
  for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
  EXPECT_LE(worst, 1e-5 * scale) << what << ": max |diff| " << worst << " vs max |value| " << scale;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  expect_close(std::vector<double>(got.begin(), got.end()), std::vector<double>(want.begin(), want.end()), what);
}

struct BlockRun {
  std::map<std::string, LinearStats> stats;  // by group leader
  BlockWeights compressed;
};

// Runs `layer` with the given schedule, coarsening every linear; records each group's statistics.
BlockRun run(const Model& m, int64_t layer, CalibActivations& act, bool staged, uint32_t flags = kAll) {
  BlockRun r;
  r.compressed = m.block(layer);
  const GroupCompressor compress = [&](const std::vector<std::string>& leaves, const LinearStats& s) {
    r.stats[leaves.front()] = s;
    for (const auto& leaf : leaves) coarsen(r.compressed.linear(leaf));
  };
  if (staged) run_block_staged(m, layer, r.compressed, act, same_flags(flags), compress);
  else run_block_whole(m, layer, r.compressed, act, same_flags(flags), compress);
  return r;
}

class BlockStats : public ::testing::Test {
 protected:
  void SetUp() override {
    LMP_REQUIRE_SHARED();
    model_ = std::make_unique<Model>(Model::open(test::shared_path("models/tiny-llama3")));
    act_.n = kSamples;
    act_.seq = kSeq;
    act_.batch = kBatch;
    act_.x = FloatStore::in_memory(size_t(kSamples * kSeq * model_->config().hidden_size));
    model_->embed(random_ids(*model_, 7), act_.x.data());
    act_.x_orig = act_.x;
  }

  // Checks every group's H, column norms and C against brute force for the given input streams, and the
  // streams' outputs. `stats_weights` are the weights the statistics' forward uses for groups < g.
  void check(int64_t layer, bool staged) {
    const Model& m = *model_;
    std::vector<float> x = act_.x.to_vector(), x_orig = act_.x_orig.to_vector();
    const BlockRun r = run(m, layer, act_, staged);
    std::vector<float> x_stats = x;
    const auto shift = group_inputs(m, layer, staged ? r.compressed : m.block(layer), x_stats);
    const auto orig = group_inputs(m, layer, m.block(layer), x_orig);
    for (const auto& g : block_linear_groups()) {
      const std::string& leaf = g.front();
      const LinearStats& s = r.stats.at(leaf);
      expect_close(s.hessian, gram(shift.at(leaf), shift.at(leaf), s.in), leaf + " H");
      expect_close(s.cross, gram(orig.at(leaf), shift.at(leaf), s.in), leaf + " C");
      std::vector<double> col(size_t(s.in));
      for (int64_t j = 0; j < s.in; ++j) col[size_t(j)] = s.hessian[size_t(j * s.in + j)];
      expect_close(s.col_sq, col, leaf + " column norms");
      EXPECT_EQ(s.rows, kSamples * kSeq);
    }
    std::vector<float> out = x;
    group_inputs(m, layer, r.compressed, out);  // the compressed block's output
    expect_close(act_.x.to_vector(), out, "shift stream output");
    expect_close(act_.x_orig.to_vector(), x_orig, "orig stream output");
  }

  std::unique_ptr<Model> model_;
  CalibActivations act_;
};

TEST_F(BlockStats, StagedTakesEachGroupAfterTheCompressedOnesBeforeIt) {
  check(0, true);
  check(1, true);  // here the two streams differ
}

TEST_F(BlockStats, WholeTakesEveryGroupFromTheOriginalWeights) {
  check(0, false);
  check(1, false);
}

TEST_F(BlockStats, RecomputingSubLayerOutputsGivesTheSameResults) {
  CalibActivations low = act_;
  low.keep_sublayer_outputs = false;
  for (int64_t layer = 0; layer < 2; ++layer) {
    const BlockRun kept = run(*model_, layer, act_, true), recomputed = run(*model_, layer, low, true);
    for (const auto& g : block_linear_groups()) {
      EXPECT_EQ(kept.stats.at(g.front()).hessian, recomputed.stats.at(g.front()).hessian) << g.front();
      EXPECT_EQ(kept.stats.at(g.front()).cross, recomputed.stats.at(g.front()).cross) << g.front();
    }
    EXPECT_EQ(act_.x.to_vector(), low.x.to_vector()) << "block " << layer;
    EXPECT_EQ(act_.x_orig.to_vector(), low.x_orig.to_vector()) << "block " << layer;
  }
}

// --max-memory's last resort: both streams in a scratch file, released batch by batch.
TEST_F(BlockStats, SpilledStreamsGiveTheSameResults) {
  CalibActivations spilled = act_;
  const std::string dir = test::temp_dir("block-stats-spill");
  spilled.x = FloatStore::spilled(act_.x.size(), dir, "test");
  spilled.x_orig = FloatStore::spilled(act_.x.size(), dir, "test");
  std::copy_n(act_.x.data(), act_.x.size(), spilled.x.data());
  std::copy_n(act_.x_orig.data(), act_.x.size(), spilled.x_orig.data());
  ASSERT_TRUE(spilled.x.is_spilled() && spilled.x_orig.is_spilled());
  for (int64_t layer = 0; layer < 2; ++layer) {
    const BlockRun mem = run(*model_, layer, act_, true), file = run(*model_, layer, spilled, true);
    for (const auto& g : block_linear_groups())
      EXPECT_EQ(mem.stats.at(g.front()).hessian, file.stats.at(g.front()).hessian) << g.front();
    EXPECT_EQ(act_.x.to_vector(), spilled.x.to_vector()) << "block " << layer;
    EXPECT_EQ(act_.x_orig.to_vector(), spilled.x_orig.to_vector()) << "block " << layer;
  }
  const CalibActivations copy = spilled;  // copies stay spilled
  EXPECT_TRUE(copy.x.is_spilled());
  EXPECT_EQ(copy.x.to_vector(), spilled.x.to_vector());
}

TEST_F(BlockStats, CrossTermEqualsHessianWhileTheStreamsAgree) {
  const BlockRun r = run(*model_, 0, act_, true);
  const LinearStats& s = r.stats.at("self_attn.k_proj");  // block 0's first group: nothing compressed yet
  expect_close(s.cross, s.hessian, "C vs H at block 0");  // equal up to f32 GEMM vs SYRK rounding
}

TEST_F(BlockStats, OrigStreamIsOnlyCarriedWhenAsked) {
  act_.x_orig = FloatStore();
  const FloatStore x = act_.x;
  const BlockRun r = run(*model_, 0, act_, true, kStatHessian);
  EXPECT_TRUE(r.stats.at("mlp.down_proj").cross.empty());
  EXPECT_TRUE(act_.x_orig.empty());
  try {
    act_.x = x;
    run(*model_, 0, act_, true, kStatHessian | kStatCross);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "compress: a method needs the original model's inputs, but the pipeline is not carrying "
                           "the original model's activations");
  }
}

}  // namespace
}  // namespace lmp
