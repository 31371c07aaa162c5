// Self-calibration: the temperature schedule, the tempered sampler, and generation — exactly [N, L],
// BOS first, BOS after every EOS, the schedule restarting there, deterministic for a seed.
#include <gtest/gtest.h>

#include <cmath>

#include "calib/self_generated.h"
#include "core/error.h"
#include "linalg/gemm.h"
#include "test_util.h"

using namespace lmp;

namespace {

const Model& stories() {
  static const Model m = Model::open(test::shared_path("models/stories260K/stories260K.gguf"));
  return m;
}

// Decoding stories260K is a few microseconds of work per step: on a shared machine OpenMP's barriers
// would dominate, so these tests decode on one thread (for speed only).
struct OneThread {
  int saved = num_threads();
  OneThread() { set_num_threads(1); }
  ~OneThread() { set_num_threads(saved); }
};

SelectOptions options(int64_t n, int64_t L, uint64_t seed) {
  SelectOptions o;
  o.method = "self";
  o.n = n;
  o.seq = L;
  o.seed = seed;
  return o;
}

}  // namespace

TEST(SelfCalibration, TemperatureMovesLinearlyThenStays) {
  SelectOptions o;  // 1.5 -> 0.8 over 50 tokens
  EXPECT_DOUBLE_EQ(temperature_at(0, o), 1.5);
  EXPECT_DOUBLE_EQ(temperature_at(25, o), 1.15);
  EXPECT_NEAR(temperature_at(10, o), 1.5 - 0.7 * 10 / 50, 1e-12);
  EXPECT_DOUBLE_EQ(temperature_at(50, o), 0.8);
  EXPECT_DOUBLE_EQ(temperature_at(5000, o), 0.8);
  for (int64_t s = 1; s <= 60; ++s) EXPECT_LE(temperature_at(s, o), temperature_at(s - 1, o));
  o.t_start = 0.5, o.t_end = 1.0, o.t_steps = 4;  // rising works too
  EXPECT_DOUBLE_EQ(temperature_at(2, o), 0.75);
  o.t_steps = 0;
  EXPECT_DOUBLE_EQ(temperature_at(0, o), 1.0);
}

TEST(SelfCalibration, SamplerDrawsFromTheTemperedSoftmax) {
  const std::vector<float> logits = {0.0f, std::log(2.0f), std::log(5.0f)};  // p = 1/8, 2/8, 5/8
  Rng rng(9);
  std::vector<float> w;
  std::vector<int> count(3, 0);
  const int draws = 40000;
  for (int i = 0; i < draws; ++i) ++count[size_t(sample_at_temperature(logits.data(), 3, 1.0, rng, w))];
  EXPECT_NEAR(count[0] / double(draws), 1.0 / 8, 0.01);
  EXPECT_NEAR(count[1] / double(draws), 2.0 / 8, 0.01);
  EXPECT_NEAR(count[2] / double(draws), 5.0 / 8, 0.01);
  // T = 0.5 squares the odds: p ∝ 1, 4, 25.
  std::fill(count.begin(), count.end(), 0);
  for (int i = 0; i < draws; ++i) ++count[size_t(sample_at_temperature(logits.data(), 3, 0.5, rng, w))];
  EXPECT_NEAR(count[2] / double(draws), 25.0 / 30, 0.01);
  EXPECT_THROW(sample_at_temperature(logits.data(), 3, 0.0, rng, w), Error);
}

TEST(SelfCalibration, ExactShapeBosFirstAndBosAfterEos) {
  LMP_REQUIRE_SHARED();
  const OneThread one;
  const int32_t bos = stories().tokenizer().bos_id(), eos = stories().tokenizer().eos_id();
  SelectOptions o = options(6, 200, 3);
  const Selection s = select_self(stories(), o);
  ASSERT_EQ(s.n, 6);
  ASSERT_EQ(s.seq, 200);
  ASSERT_EQ(s.input_ids.size(), 6u * 200u);
  EXPECT_EQ(s.source_indices, std::vector<int64_t>(6, -1));
  EXPECT_EQ(s.sources, std::vector<int32_t>(6, -1));
  int64_t restarts = 0;  // TinyStories' llama2.c training separates stories by BOS, not EOS
  for (int64_t r = 0; r < 6; ++r) {
    const int32_t* row = s.input_ids.data() + r * 200;
    EXPECT_EQ(row[0], bos) << r;
    for (int64_t t = 1; t < 200; ++t) {
      ASSERT_GE(row[t], 0);
      ASSERT_LT(row[t], stories().config().vocab_size);
      restarts += row[t] == bos;
      if (row[t - 1] == eos) {
        EXPECT_EQ(row[t], bos) << r << ", " << t;
      }
    }
  }
  EXPECT_GT(restarts, 0) << "stories end within 200 tokens; the restart path went unexercised";
  const Selection again = select_self(stories(), o);
  EXPECT_EQ(again.input_ids, s.input_ids);
  o.seed = 4;
  EXPECT_NE(select_self(stories(), o).input_ids, s.input_ids);
}

TEST(SelfCalibration, TemperatureFollowsTheScheduleAndRestartsAfterEos) {
  LMP_REQUIRE_SHARED();
  const OneThread one;
  const int32_t bos = stories().tokenizer().bos_id(), eos = stories().tokenizer().eos_id();
  SelectOptions o = options(3, 48, 1);
  o.t_start = 2.0, o.t_end = 0.5, o.t_steps = 10;
  // Seam: row r is forced to EOS at position 12 + r; otherwise the real sampler. Records each call.
  std::vector<std::vector<double>> temp(3, std::vector<double>(48, -1.0));
  const SelfSampler rec = [&](int64_t row, int64_t pos, const float* logits, int64_t vocab, double t, Rng& rng) {
    temp[size_t(row)][size_t(pos)] = t;
    if (pos == 12 + row) return eos;
    std::vector<float> w;
    return sample_at_temperature(logits, vocab, t, rng, w);
  };
  const Selection s = select_self(stories(), o, rec);
  for (int64_t r = 0; r < 3; ++r) {
    const int32_t* row = s.input_ids.data() + r * 48;
    EXPECT_EQ(row[12 + r], eos);
    EXPECT_EQ(row[13 + r], bos);
    EXPECT_EQ(temp[size_t(r)][size_t(13 + r)], -1.0) << "the BOS after EOS is forced, not sampled";
    int64_t last_bos = 0;
    for (int64_t p = 1; p < 48; ++p) {
      if (row[p - 1] == bos) last_bos = p - 1;
      if (row[p] == bos && p > 0 && row[p - 1] == eos) continue;
      EXPECT_DOUBLE_EQ(temp[size_t(r)][size_t(p)], temperature_at(p - last_bos - 1, o)) << r << ", " << p;
    }
    EXPECT_DOUBLE_EQ(temp[size_t(r)][size_t(14 + r)], 2.0) << "schedule restarts after the BOS";
  }
  // The seam changes nothing else: with a plain pass-through the output equals the default path.
  const SelfSampler pass = [](int64_t, int64_t, const float* logits, int64_t vocab, double t, Rng& rng) {
    std::vector<float> w;
    return sample_at_temperature(logits, vocab, t, rng, w);
  };
  EXPECT_EQ(select_self(stories(), o, pass).input_ids, select_self(stories(), o).input_ids);
}

TEST(SelfCalibration, RejectsModelsWithoutBosAndBadOptions) {
  LMP_REQUIRE_SHARED();
  const Model qwen = Model::open(test::shared_path("models/tiny-qwen2"));
  try {
    select_self(qwen, options(2, 8, 0));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tiny-qwen2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("BOS"), std::string::npos) << e.what();
  }
  SelectOptions o = options(2, 8, 0);
  o.t_start = 0;
  EXPECT_THROW(select_self(stories(), o), Error);
  o = options(2, 8, 0);
  o.t_steps = -1;
  EXPECT_THROW(select_self(stories(), o), Error);
  EXPECT_THROW(select_self(stories(), options(0, 8, 0)), Error);
  EXPECT_THROW(select_self(stories(), options(2, 100000, 0)), Error);            // beyond the context
  EXPECT_THROW(select_self(stories(), options(int64_t(1) << 40, 256, 0)), Error);  // beyond memory
}
