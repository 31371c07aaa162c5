// `lmpress compress --recipe FILE` on lm-s (RTN recipes need no calibration): the JSON report, the
// --method / --recipe exclusivity, recipe errors naming the file and field, and --format gptq refusing
// linears on different grids before any work.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

using lmp::test::run_cli;
using lmp::test::shared_path;

namespace {

std::string recipe_file(const std::string& tag, const std::string& json) {
  const std::string path = lmp::test::temp_dir(tag) + "/recipe.json";
  lmp::test::write_file(path, json);
  return path;
}

std::string compress_args(const std::string& out) {
  return "compress " + shared_path("models/lm-s") + " -o " + out + " -q";
}

}  // namespace

TEST(RecipeCli, RunsARecipeAndReportsItsChainsAndOverrides) {
  LMP_REQUIRE_SHARED();
  const std::string r = recipe_file("recipe-cli-ok", R"({"stages": [{"method": "rtn", "bits": 4}],
      "overrides": [{"match": "mlp\\.down_proj", "set": {"bits": 8}}, {"match": "layers\\.5\\.", "skip": true}]})");
  const std::string out = lmp::test::temp_dir("recipe-cli-ok-out") + "/model";
  const auto res = run_cli(compress_args(out) + " --recipe " + r + " --json --dtype f32");
  ASSERT_EQ(res.code, 0) << res.err;
  const auto j = nlohmann::json::parse(res.out);
  EXPECT_EQ(j["method"], "rtn");
  EXPECT_EQ(j["recipe"], r);
  EXPECT_EQ(j["stages"][0]["bits"], 4);
  EXPECT_EQ(j["linears"], 35);
  EXPECT_EQ(j["ignored"], 7);
  EXPECT_EQ(j["overrides"][0]["linears"], 5);  // down_proj of blocks 0-4; block 5 is skipped
  EXPECT_EQ(j["overrides"][1]["chain"], "skip");
  EXPECT_EQ(j["overrides"][1]["linears"], 7);
  EXPECT_TRUE(std::filesystem::exists(out + "/config.json"));
}

TEST(RecipeCli, MethodAndRecipeAreExclusive) {
  LMP_REQUIRE_SHARED();
  const std::string r = recipe_file("recipe-cli-x", R"({"stages": [{"method": "rtn"}]})");
  const std::string out = lmp::test::temp_dir("recipe-cli-x-out") + "/model";
  auto res = run_cli(compress_args(out) + " --recipe " + r + " --method rtn");
  EXPECT_NE(res.code, 0);
  EXPECT_EQ(res.err, "lmpress compress: error: compress: --method and --recipe are exclusive: give the methods in "
                     "the recipe file, or --method without --recipe\n");
  res = run_cli(compress_args(out));
  EXPECT_NE(res.code, 0);
  EXPECT_NE(res.err.find("give --method M (rtn, nf4, gptq, entquant, magnitude, wanda, sparsegpt, svd, svd-llm, aa-svd) or --recipe FILE"),
            std::string::npos) << res.err;
  res = run_cli(compress_args(out) + " --recipe " + r + " --bits 3");
  EXPECT_NE(res.code, 0);
  EXPECT_EQ(res.err, "lmpress compress: error: compress: --bits sets a --method field and cannot be used with "
                     "--recipe: set it in " + r + "\n");
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(RecipeCli, RecipeErrorsNameTheFileAndField) {
  LMP_REQUIRE_SHARED();
  const std::string r = recipe_file("recipe-cli-bad", R"({"stages": [{"method": "rtn", "bits": 9}]})");
  const std::string out = lmp::test::temp_dir("recipe-cli-bad-out") + "/model";
  const auto res = run_cli(compress_args(out) + " --recipe " + r);
  EXPECT_NE(res.code, 0);
  EXPECT_EQ(res.err, "lmpress compress: error: " + r + ": stages[0].bits: 9 out of range 2-8\n");
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(RecipeCli, GptqFormatNeedsOneGridForEveryLinear) {
  LMP_REQUIRE_SHARED();
  const std::string r = recipe_file("recipe-cli-gptq", R"({"stages": [{"method": "rtn", "bits": 4}],
      "overrides": [{"match": "mlp\\.down_proj", "set": {"bits": 8}}]})");
  const std::string out = lmp::test::temp_dir("recipe-cli-gptq-out") + "/model";
  auto res = run_cli(compress_args(out) + " --recipe " + r + " --format gptq");
  EXPECT_NE(res.code, 0);
  EXPECT_EQ(res.err, "lmpress compress: error: compress: --format gptq needs one bits/group/sym for every linear: "
                     "model.layers.0.mlp.down_proj.weight has 8 bits, group 128, asym (" + r +
                     ": overrides[0]), model.layers.0.self_attn.q_proj.weight has 4 bits, group 128, asym\n");
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));
  const std::string skip = recipe_file("recipe-cli-gptq-skip", R"({"stages": [{"method": "rtn", "bits": 4}],
      "overrides": [{"match": "layers\\.1\\.mlp\\.up_proj", "skip": true}]})");
  res = run_cli(compress_args(out) + " --recipe " + skip + " --format gptq");
  EXPECT_NE(res.code, 0);
  EXPECT_EQ(res.err, "lmpress compress: error: compress: --format gptq packs every linear, but "
                     "model.layers.1.mlp.up_proj.weight is skipped (" + skip + ": overrides[0])\n");
  // the same grid everywhere, reached through an override, packs
  const std::string same = recipe_file("recipe-cli-gptq-same", R"({"stages": [{"method": "rtn", "bits": 4}],
      "overrides": [{"match": "down_proj", "stages": [{"method": "rtn", "bits": 4, "group": 128}]}]})");
  res = run_cli(compress_args(out) + " --recipe " + same + " --format gptq");
  ASSERT_EQ(res.code, 0) << res.err;
  std::ifstream cfg(out + "/config.json");
  EXPECT_EQ(nlohmann::json::parse(cfg)["quantization_config"]["bits"], 4);
}

TEST(RecipeCli, MethodFlagsTheMethodDoesNotReadAreErrors) {
  LMP_REQUIRE_SHARED();
  const std::string out = lmp::test::temp_dir("method-flags-out") + "/model";
  auto res = run_cli(compress_args(out) + " --method rtn --act-order");
  EXPECT_NE(res.code, 0);
  EXPECT_EQ(res.err, "lmpress compress: error: compress: --act-order does not apply to --method rtn (it takes: "
                     "--bits, --group, --sym, --mse)\n");
  res = run_cli(compress_args(out) + " --method wanda --sparsity 0.5 --mse");
  EXPECT_NE(res.code, 0);
  EXPECT_EQ(res.err, "lmpress compress: error: compress: --mse does not apply to --method wanda (it takes: "
                     "--sparsity, --nm)\n");
  EXPECT_FALSE(std::filesystem::exists(out));
}
