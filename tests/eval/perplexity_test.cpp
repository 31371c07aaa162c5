// Perplexity parity with HF transformers under the window protocol (shared/reference), and KLD sanity.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/text_file.h"
#include "eval/perplexity.h"
#include "model/ops.h"
#include "test_util.h"

using namespace lmp;

namespace {

nlohmann::json reference() {
  std::ifstream f(test::shared_path("reference/lm-s.reference.json"));
  return nlohmann::json::parse(f);
}

PerplexityResult run(const Model& m, const std::string& text_rel, int64_t ctx, int64_t max_windows = 0,
                     const Model* base = nullptr) {
  const std::string text = load_eval_text(test::shared_path(text_rel));
  const auto tokens = m.tokenizer().encode(text, true);
  PerplexityOptions o;
  o.ctx = ctx;
  o.max_windows = max_windows;
  return evaluate_perplexity(m, tokens, o, base);
}

void expect_matches(const PerplexityResult& r, double ppl, int64_t windows, int64_t scored, int64_t n_tokens) {
  EXPECT_NEAR(r.ppl, ppl, ppl * 5e-4);  // within 0.05%
  EXPECT_EQ(r.windows, windows);
  EXPECT_EQ(r.scored_tokens, scored);
  EXPECT_EQ(r.n_tokens, n_tokens);
}

}  // namespace

TEST(PerplexityParity, LmSHeldoutDevCtx512) {
  LMP_REQUIRE_SHARED();
  const auto ref = reference().at("lm-s/heldout_dev/ctx512");
  const Model m = Model::open(test::shared_path("models/lm-s"));
  expect_matches(run(m, "data/corpus/heldout_dev.jsonl", 512), ref.at("ppl"), ref.at("windows"),
                 ref.at("scored_tokens"), ref.at("n_tokens"));
}

TEST(PerplexityParity, LmSWikitext2TestCtx512) {
  LMP_REQUIRE_SHARED();
  const auto ref = reference().at("lm-s/wikitext2_test/ctx512");
  const Model m = Model::open(test::shared_path("models/lm-s"));
  expect_matches(run(m, "data/text/wikitext-2-raw/wiki.test.raw", 512), ref.at("ppl"), ref.at("windows"),
                 ref.at("scored_tokens"), ref.at("n_tokens"));
}

TEST(PerplexityParity, LmMHeldoutDevCtx512) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/lm-m"));
  // shared/README.md: lm-m heldout_dev ctx 512 = 18.9152 (same tokenization as lm-s: 249,100 tokens).
  expect_matches(run(m, "data/corpus/heldout_dev.jsonl", 512), 18.9152, 486, 248346, 249100);
}

TEST(Kld, ModelAgainstItselfIsZero) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/lm-s"));
  const PerplexityResult r = run(m, "data/corpus/heldout_dev.jsonl", 128, 3, &m);
  EXPECT_NEAR(r.kld_mean, 0.0, 1e-9);
  EXPECT_DOUBLE_EQ(r.top1_agreement, 1.0);
  EXPECT_DOUBLE_EQ(r.ppl_base, r.ppl);
  EXPECT_EQ(r.scored_tokens, 3 * 127);
}

TEST(Kld, DifferentModelsDivergeAndAgreeOnlyPartly) {
  LMP_REQUIRE_SHARED();
  const Model s = Model::open(test::shared_path("models/lm-s"));
  const Model mm = Model::open(test::shared_path("models/lm-m"));
  const PerplexityResult r = run(s, "data/corpus/heldout_dev.jsonl", 256, 4, &mm);
  EXPECT_GT(r.kld_mean, 0.05);
  EXPECT_GT(r.top1_agreement, 0.2);
  EXPECT_LT(r.top1_agreement, 0.95);
  EXPECT_LT(r.ppl_base, r.ppl);  // lm-m is the better model
}

TEST(Perplexity, LlamaCppModeScoresSecondHalfOnly) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/lm-s"));
  const std::string text = load_eval_text(test::shared_path("data/corpus/heldout_dev.jsonl"));
  const auto tokens = m.tokenizer().encode(text, true);
  PerplexityOptions o;
  o.ctx = 128;
  o.max_windows = 2;
  o.second_half = true;
  const PerplexityResult r = evaluate_perplexity(m, tokens, o);
  EXPECT_EQ(r.scored_tokens, 2 * (128 - 1 - 64));
  // By hand: each window starts with BOS; logits at j = 64..126 predict token j + 1.
  double nll = 0;
  const int64_t V = m.config().vocab_size;
  for (int64_t w = 0; w < 2; ++w) {
    std::vector<int32_t> win(tokens.begin() + w * 128, tokens.begin() + (w + 1) * 128);
    win[0] = m.tokenizer().bos_id();
    const auto logits = m.forward(win, BatchShape{1, 128, {}});
    for (int64_t j = 64; j < 127; ++j)
      nll += log_sum_exp(logits.data() + j * V, V) - double(logits[size_t(j * V + win[size_t(j + 1)])]);
  }
  EXPECT_NEAR(r.nll, nll / double(2 * 63), 1e-9);
}

TEST(Perplexity, ContextLongerThanTextIsAnError) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/lm-s"));
  const auto tokens = m.tokenizer().encode("just a few words", true);
  PerplexityOptions o;
  o.ctx = 64;
  try {
    evaluate_perplexity(m, tokens, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "perplexity: the text has " + std::to_string(tokens.size()) + " tokens, fewer than one window of --ctx 64");
  }
}
