// EntQuant end to end through the binary: --target-bpw lands on the measured size, the lmp checkpoint
// evaluates the same with and without --stream-decode, super-weight layers fall back to absmax, and the
// reported bits per weight are the bytes on disk.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_util.h"

using lmp::test::run_cli;
using lmp::test::shared_path;
namespace fs = std::filesystem;

namespace {

nlohmann::json compress_json(const std::string& out, const std::string& flags) {
  const auto r = run_cli("compress " + shared_path("models/lm-s") + " -o " + out + " --format lmp --force --json -q " +
                         flags);
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
}

nlohmann::json eval_json(const std::string& model, const std::string& flags) {
  const auto r = run_cli("eval " + model + " --text " + shared_path("data/corpus/heldout_dev.jsonl") +
                         " --ctx 128 --max-windows 3 --json -q " + flags);
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
}

}  // namespace

TEST(EntquantCli, TargetBpwLandsWithinTolerance) {
  LMP_REQUIRE_SHARED();
  const std::string out = lmp::test::temp_dir("eq-target");
  for (double target : {3.0, 2.5}) {
    const auto j = compress_json(out, "--method entquant --target-bpw " + std::to_string(target));
    ASSERT_FALSE(j.is_null());
    EXPECT_NEAR(j["bpw"].get<double>(), target, 0.02);
    EXPECT_NEAR(j["entquant"]["target_bpw"]["bpw"].get<double>(), j["bpw"].get<double>(), 1e-12);  // trial == file
    // the whole file, measured
    EXPECT_EQ(j["file_bytes"].get<uint64_t>(), fs::file_size(fs::path(out) / "model.safetensors"));
  }
}

TEST(EntquantCli, TargetBpwOutsideTheReachableRangeIsAnError) {
  LMP_REQUIRE_SHARED();
  const auto r = run_cli("compress " + shared_path("models/lm-s") + " -o " + lmp::test::temp_dir("eq-range") +
                         " --method entquant --target-bpw 7.5 --format lmp --force -q");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--target-bpw 7.5 is outside what FP8 EntQuant reaches on this model: ["), std::string::npos)
      << r.err;
  const auto f = run_cli("compress " + shared_path("models/lm-s") + " -o " + lmp::test::temp_dir("eq-range") +
                         " --method entquant --target-bpw 3 --format hf --force -q");
  EXPECT_NE(f.err.find("--target-bpw measures the size of the lmp checkpoint: give --format lmp"), std::string::npos)
      << f.err;
}

TEST(EntquantCli, StreamDecodeGivesTheSamePerplexity) {
  LMP_REQUIRE_SHARED();
  const std::string out = lmp::test::temp_dir("eq-stream");
  compress_json(out, "--method entquant --lambda 14.5");
  const auto dense = eval_json(out, ""), stream = eval_json(out, "--stream-decode --batch-windows 1");
  ASSERT_FALSE(dense.is_null());
  ASSERT_FALSE(stream.is_null());
  EXPECT_EQ(dense["ppl"], stream["ppl"]);
  EXPECT_EQ(stream["stream_decode"], true);
  // Streaming runs 4 windows a pass by default: the same scores up to BLAS's row blocking.
  const auto batched = eval_json(out, "--stream-decode");
  ASSERT_FALSE(batched.is_null());
  EXPECT_EQ(batched["windows_per_pass"], 4);
  EXPECT_NEAR(batched["ppl"].get<double>(), dense["ppl"].get<double>(), 1e-6 * dense["ppl"].get<double>());
}

TEST(EntquantCli, SuperWeightLayersFallBackToAbsmaxAndAreReported) {
  LMP_REQUIRE_SHARED();
  const std::string out = lmp::test::temp_dir("eq-super");
  // lm-s has no spike above the paper's 50; at threshold 1 every down_proj qualifies.
  const auto none = compress_json(out, "--method entquant --lambda 14.5");
  EXPECT_TRUE(none["entquant"]["super_weight_layers"].empty());
  const auto all = compress_json(out, "--method entquant --lambda 14.5 --super-weight-threshold 1");
  ASSERT_EQ(all["entquant"]["super_weight_layers"].size(), 6u);
  EXPECT_EQ(all["entquant"]["super_weight_layers"][0]["linear"], "model.layers.0.mlp.down_proj.weight");
  // absmax down_proj costs bits: the file grows
  EXPECT_GT(all["bpw"].get<double>(), none["bpw"].get<double>() + 0.3);
  const auto r = run_cli("inspect " + out);
  EXPECT_NE(r.out.find("lmp fp8 λ=0 fallback         1081344"), std::string::npos) << r.out;  // 6 down_proj [256, 704]
}

TEST(EntquantCli, BitsPerWeightAreBytesOnDisk) {
  LMP_REQUIRE_SHARED();
  const std::string out = lmp::test::temp_dir("eq-disk");
  const auto r = run_cli("compress " + shared_path("models/lm-s") + " -o " + out +
                         " --method rtn --bits 4 --group 128 --format hf --dtype f32 --force --json -q");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["bpw"], 32.0);  // an f32 export stores 32 bits per weight, whatever the grid was
  EXPECT_GT(j["bpw_ideal_total"].get<double>(), 4.25);  // 4 bits + f16 scale and zero per 128 (704 = 5.5 groups)
  EXPECT_LT(j["bpw_ideal_total"].get<double>(), 4.26);
  uint64_t files = 0;
  for (const auto& f : fs::directory_iterator(out))
    if (f.path().extension() == ".safetensors") files += fs::file_size(f.path());
  EXPECT_EQ(j["file_bytes"].get<uint64_t>(), files);
}
