#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "model/sampler.h"

using namespace lmp;

namespace {
std::vector<std::pair<float, int32_t>> scratch;
}

TEST(Sampler, ZeroTemperatureIsArgmaxWithLowestIndexOnTies) {
  const float logits[] = {0.5f, 2.0f, 2.0f, -1.0f};
  Rng rng(1);
  EXPECT_EQ(sample_token(logits, 4, {0.0f, 0, 1.0f}, rng, scratch), 1);
  EXPECT_EQ(sample_token(logits, 4, {1.0f, 1, 1.0f}, rng, scratch), 1);  // top-k 1 = greedy
}

TEST(Sampler, SameSeedSameSequence) {
  std::vector<float> logits(100);
  for (int i = 0; i < 100; ++i) logits[size_t(i)] = float(i % 7) * 0.3f;
  auto draw = [&](uint64_t seed) {
    Rng rng(seed);
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) out.push_back(sample_token(logits.data(), 100, {1.0f, 0, 1.0f}, rng, scratch));
    return out;
  };
  EXPECT_EQ(draw(7), draw(7));
  EXPECT_NE(draw(7), draw(8));
}

TEST(Sampler, TopKAndTopPRestrictTheSupport) {
  const float logits[] = {3.0f, 2.9f, 0.0f, -2.0f, -5.0f};
  Rng rng(3);
  std::map<int32_t, int> seen;
  for (int i = 0; i < 2000; ++i) seen[sample_token(logits, 5, {1.0f, 2, 1.0f}, rng, scratch)]++;
  EXPECT_EQ(seen.size(), 2u);  // only ids 0 and 1
  seen.clear();
  // p(0) ≈ 0.51 already reaches top-p 0.3: the nucleus is id 0 alone.
  for (int i = 0; i < 2000; ++i) seen[sample_token(logits, 5, {1.0f, 0, 0.3f}, rng, scratch)]++;
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen.begin()->first, 0);
}

TEST(Sampler, FrequenciesFollowTheTemperedSoftmax) {
  const float logits[] = {1.0f, 0.0f};  // at T=0.5: p0 = 1/(1+e^-2) = 0.8808
  Rng rng(11);
  int zeros = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) zeros += sample_token(logits, 2, {0.5f, 0, 1.0f}, rng, scratch) == 0;
  EXPECT_NEAR(double(zeros) / n, 0.8808, 0.01);
}

TEST(Sampler, RejectsBadParameters) {
  const float logits[] = {1.0f, 0.0f};
  Rng rng(1);
  EXPECT_THROW(sample_token(logits, 2, {-1.0f, 0, 1.0f}, rng, scratch), Error);
  EXPECT_THROW(sample_token(logits, 2, {1.0f, 0, 0.0f}, rng, scratch), Error);
}
