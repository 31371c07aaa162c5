// Logit parity with HF transformers (fp32 from the bf16 weights) and greedy generation parity.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "model/decoder.h"
#include "model/model.h"
#include "test_util.h"

using namespace lmp;

namespace {

std::vector<int32_t> ids_of(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DType::I32);
  const auto* p = static_cast<const int32_t*>(t.data());
  return std::vector<int32_t>(p, p + t.numel());
}

// Max |Δ| between the model's logits for `ids` and `ref` [T, vocab].
double max_logit_diff(const Model& m, const std::vector<int32_t>& ids, const Tensor& ref) {
  const std::vector<float> got = m.forward(ids, BatchShape{1, int64_t(ids.size()), {}});
  const Tensor r = ref.to_f32();
  EXPECT_EQ(int64_t(got.size()), r.numel());
  double worst = 0;
  const float* rp = r.f32();
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, double(std::fabs(got[i] - rp[i])));
  return worst;
}

}  // namespace

TEST(ModelParity, LmSLogitsMatchTransformersOnFourPrompts) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/lm-s"));
  const SafetensorsFile ref = read_safetensors(test::shared_path("reference/lm-s.logits.safetensors"));
  for (int k = 0; k < 4; ++k) {
    const std::string p = "prompt" + std::to_string(k);
    const double d = max_logit_diff(m, ids_of(ref.tensor(p + ".input_ids")), ref.tensor(p + ".logits"));
    EXPECT_LE(d, 5e-4) << p;
  }
}

// Streaming converts each block into the buffers of the one before (Model::spare_): two passes give the
// logits of a model that keeps its blocks, bit for bit.
TEST(ModelParity, StreamedBlocksReuseBuffersAndGiveTheSameLogits) {
  LMP_REQUIRE_SHARED();
  const Model kept = Model::open(test::shared_path("models/lm-s"));
  Model streamed = Model::open(test::shared_path("models/lm-s"));
  streamed.set_stream_blocks(true);
  const SafetensorsFile ref = read_safetensors(test::shared_path("reference/lm-s.logits.safetensors"));
  for (int k = 0; k < 2; ++k) {
    const std::vector<int32_t> ids = ids_of(ref.tensor("prompt" + std::to_string(k) + ".input_ids"));
    const BatchShape shape{1, int64_t(ids.size()), {}};
    EXPECT_EQ(kept.forward(ids, shape), streamed.forward(ids, shape)) << "prompt " << k;
  }
}

class TinyModelParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TinyModelParity, LogitsMatchTransformers) {
  LMP_REQUIRE_SHARED();
  const std::string dir = test::shared_path("models/" + GetParam());
  const Model m = Model::open(dir);
  const SafetensorsFile ref = read_safetensors(dir + "/reference_logits.safetensors");
  EXPECT_LE(max_logit_diff(m, ids_of(ref.tensor("input_ids")), ref.tensor("logits")), 5e-4);
}

INSTANTIATE_TEST_SUITE_P(Architectures, TinyModelParity,
                         ::testing::Values("tiny-llama3", "tiny-qwen2", "tiny-mistral"));

TEST(ModelParity, LmSGreedyGenerationMatchesTransformers) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/lm-s"));
  std::ifstream f(test::shared_path("reference/lm-s.reference.json"));
  const nlohmann::json ref = nlohmann::json::parse(f);
  for (int k = 0; k < 4; ++k) {
    const auto& r = ref.at("lm-s/greedy/prompt" + std::to_string(k));
    const std::vector<int32_t> prompt = m.tokenizer().encode(r.at("prompt").get<std::string>(), true);
    const auto expected = r.at("output_ids").get<std::vector<int32_t>>();
    ASSERT_LE(prompt.size() + 16, expected.size());
    EXPECT_EQ(prompt, std::vector<int32_t>(expected.begin(), expected.begin() + int64_t(prompt.size())));
    GenerateOptions opt;
    opt.max_new_tokens = 16;
    const auto out = generate(m, {prompt}, opt).front();
    EXPECT_EQ(out, std::vector<int32_t>(expected.begin(), expected.begin() + int64_t(prompt.size()) + 16))
        << "prompt" << k;
  }
}

TEST(ModelParity, BatchedDecodingMatchesSingleSequence) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/lm-s"));
  const auto a = m.tokenizer().encode("The kernel driver registers a callback", true);
  const auto b = m.tokenizer().encode("In the beginning", true);
  GenerateOptions opt;
  opt.max_new_tokens = 12;
  const auto both = generate(m, {a, b}, opt);
  EXPECT_EQ(both[0], generate(m, {a}, opt).front());
  EXPECT_EQ(both[1], generate(m, {b}, opt).front());
}

TEST(ModelParity, KvCachedStepsMatchFullForward) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/lm-s"));
  const auto ids = m.tokenizer().encode("Perl is a highly capable, feature-rich programming language", true);
  const int64_t T = int64_t(ids.size()), V = m.config().vocab_size;
  const std::vector<float> full = m.forward(ids, BatchShape{1, T, {}});
  Decoder dec(m, 1, T);
  dec.prefill(std::span(ids).first(3), 3);
  double worst = 0;
  for (int64_t t = 3; t < T; ++t) {
    const auto& step = dec.step(std::span(ids).subspan(size_t(t), 1));
    for (int64_t v = 0; v < V; ++v) worst = std::max(worst, double(std::fabs(step[size_t(v)] - full[size_t(t * V + v)])));
  }
  EXPECT_LE(worst, 1e-4);
}
