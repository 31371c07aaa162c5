// End-to-end tests of the lmpress binary on the shared models: outputs and one-line errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "test_util.h"

using lmp::test::run_cli;
using lmp::test::shared_path;

namespace {
int count_lines(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }
}  // namespace

TEST(Cli, EvalPrintsJsonWithTheProtocolFields) {
  LMP_REQUIRE_SHARED();
  const auto r = run_cli("eval " + shared_path("models/lm-s") + " --text " +
                         shared_path("data/corpus/heldout_dev.jsonl") + " --ctx 128 --max-windows 2 --json -q");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"ppl", "nll", "n_tokens", "windows", "scored_tokens", "ctx", "seconds", "tokens_per_second"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["windows"], 2);
  EXPECT_EQ(j["scored_tokens"], 254);
  EXPECT_EQ(j["n_tokens"], 249100);
  EXPECT_NEAR(std::exp(j["nll"].get<double>()), j["ppl"].get<double>(), 1e-9);
}

TEST(Cli, EvalWithKldBaseReportsDivergence) {
  LMP_REQUIRE_SHARED();
  const auto r = run_cli("eval " + shared_path("models/lm-s") + " --kld-base " + shared_path("models/lm-s") +
                         " --text " + shared_path("data/corpus/heldout_dev.jsonl") +
                         " --ctx 64 --max-windows 2 --json -q");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["kld_mean"].get<double>(), 0.0, 1e-9);
  EXPECT_EQ(j["top1_agreement"], 1.0);
  EXPECT_NEAR(j["delta_ppl"].get<double>(), 0.0, 1e-9);
}

TEST(Cli, InspectCountsParameters) {
  LMP_REQUIRE_SHARED();
  const auto r = run_cli("inspect " + shared_path("models/lm-s") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["config"]["num_kv_heads"], 4);
  // embedding + untied head (2 x 32000 x 256), 6 blocks of q,o [256,256], k,v [128,256], 3 MLP [704,256],
  // 2 norms, and the final norm: 20,811,008.
  const int64_t block = 256 * 256 * 2 + 256 * 128 * 2 + 3 * 256 * 704 + 2 * 256;
  EXPECT_EQ(j["parameters"]["total"], 2 * 32000 * 256 + 6 * block + 256);
  EXPECT_EQ(j["parameters_by_dtype"]["BF16"], j["parameters"]["total"]);
}

TEST(Cli, GenerateGreedyFromGguf) {
  LMP_REQUIRE_SHARED();
  const auto r = run_cli("generate " + shared_path("models/stories260K/stories260K.gguf") +
                         " --prompt 'Once upon a time' --temperature 0 -n 20");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Once upon a time, there was a little girl named Lily.", 0), 0u) << r.out;
}

TEST(Cli, GenerateIsDeterministicForASeed) {
  LMP_REQUIRE_SHARED();
  const std::string cmd = "generate " + shared_path("models/stories260K/stories260K.bin") +
                          " --prompt 'Once upon a time' --temperature 1.0 --seed 5 -n 30 --json";
  const auto a = run_cli(cmd), b = run_cli(cmd);
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
}

TEST(Cli, MissingModelIsOneLineError) {
  const auto r = run_cli("eval /nonexistent/model --text /dev/null");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/model"), std::string::npos) << r.err;
}

TEST(Cli, OutOfRangeNumbersNameTheBoundAndTheValue) {
  auto r = run_cli("eval /nonexistent/model --threads -1");
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "--threads: must be >= 0, found -1") << r.err;
  r = run_cli("eval /nonexistent/model --batch-windows 2x");
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "--batch-windows: must be a number >= 0, found '2x'") << r.err;
  r = run_cli("select --pool /dev/null -o /dev/null --method self --t-start 0");
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "--t-start: must be > 0, found 0") << r.err;
}

TEST(Cli, BadTextsAreOneLineErrors) {
  LMP_REQUIRE_SHARED();
  const std::string dir = lmp::test::temp_dir("cli-texts");
  lmp::test::write_file(dir + "/bad.txt", std::string("abc\xff\xfe rest"));
  lmp::test::write_file(dir + "/empty.txt", "");
  lmp::test::write_file(dir + "/short.txt", "only a few tokens here");
  const std::string model = shared_path("models/lm-s");
  auto r = run_cli("eval " + model + " --text " + dir + "/bad.txt");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "lmpress eval: error: " + dir + "/bad.txt: not valid UTF-8 at byte offset 3\n");
  r = run_cli("eval " + model + " --text " + dir + "/empty.txt");
  EXPECT_EQ(r.err, "lmpress eval: error: " + dir + "/empty.txt: file is empty\n");
  r = run_cli("eval " + model + " --text " + dir + "/short.txt --ctx 512");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("fewer than --ctx 512"), std::string::npos) << r.err;
  EXPECT_EQ(count_lines(r.err), 1);
}

TEST(Cli, EveryVerbHasHelp) {
  for (const char* verb : {"eval", "inspect", "generate"}) {
    const auto r = run_cli(std::string(verb) + " --help");
    EXPECT_EQ(r.code, 0) << verb;
    EXPECT_NE(r.out.find("--threads"), std::string::npos) << verb;
  }
}
