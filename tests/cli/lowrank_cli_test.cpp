// `lmpress compress --method svd | svd-llm | aa-svd` end to end on lm-s: an lmp checkpoint of factors
// (two tensors per linear, smaller on disk in proportion to the ratio), refinement that lowers every
// block's MSE and writes its norms, eval running the factored linears, and one-line errors.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "calib/calib_set.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "cli_fixtures.h"
#include "test_util.h"

namespace {

using lmp::test::run_cli;

const std::string& model() {
  static const std::string m = lmp::test::shared_path("models/lm-s");
  return m;
}

const std::string& small_calib() {
  static const std::string path = lmp::test::small_calib("lowrank_cli_calib");
  return path;
}

nlohmann::json compress_json(const std::string& out, const std::string& args) {
  const auto r = run_cli("compress " + model() + " -o " + out + " --force --json -q " + args);
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
}

TEST(LowRankCli, AaSvdWithRefinementWritesFactorsAndRefinedNorms) {
  LMP_REQUIRE_SHARED();
  const std::string out = lmp::test::temp_dir("lowrank_cli_aa") + "/m";
  const auto j = compress_json(out, "--method aa-svd --ratio 0.5 --calib " + small_calib() +
                                        " --format lmp --refine-epochs 8 --refine-lr 3e-4 --refine-batch 2");
  ASSERT_TRUE(j.contains("refine"));
  ASSERT_EQ(j["refine"]["blocks"].size(), 6u);
  double ratio = 0;
  for (const auto& b : j["refine"]["blocks"]) {
    EXPECT_LT(b["mse_after"].get<double>(), b["mse_before"].get<double>()) << b.dump();
    EXPECT_EQ(b["steps"], 32);  // 8 epochs of 4 batches of 2 sequences
    ratio += b["mse_after"].get<double>() / b["mse_before"].get<double>() / 6;
  }
  EXPECT_LT(ratio, 0.95) << "refinement lowers the blocks' MSE on the calibration set";
  // f32 factors keeping half the parameters: about 16 bits per original weight, measured on disk.
  EXPECT_NEAR(j["bpw"].get<double>(), 16.0, 0.2);
  EXPECT_NEAR(j["bpw_ideal_total"].get<double>(), 16.0, 0.2);
  const lmp::SafetensorsFile st = lmp::read_safetensors(out + "/model.safetensors");
  const std::string q = "model.layers.2.self_attn.q_proj.weight";
  const auto rec = nlohmann::json::parse(st.metadata.at("lmp:" + q));
  EXPECT_EQ(rec.at("codes"), "lowrank");
  EXPECT_EQ(rec.at("rank"), 64);  // ⌊0.5·256·256/512⌋
  EXPECT_EQ(rec.at("method"), "aa-svd");
  EXPECT_EQ(st.find(q + ".a")->shape, (lmp::Shape{256, 64}));
  EXPECT_EQ(st.find(q + ".b")->shape, (lmp::Shape{64, 256}));
  EXPECT_EQ(st.find(q), nullptr);
  // The refined norms are stored (f32) and differ from the input's.
  const std::string norm = "model.layers.2.input_layernorm.weight";
  EXPECT_EQ(st.find(norm)->dtype, lmp::DType::F32);
  const lmp::Checkpoint in = lmp::Checkpoint::open(model()), ck = lmp::Checkpoint::open(out);
  const lmp::Tensor n0 = in.load_f32(norm), n1 = ck.load_f32(norm);
  EXPECT_NE(std::memcmp(n0.data(), n1.data(), n0.nbytes()), 0);
  lmp::Tensor a, b;
  ASSERT_TRUE(ck.load_factors(q, a, b));
  EXPECT_EQ(a.shape(), (lmp::Shape{256, 64}));
  EXPECT_FALSE(ck.load_factors(norm, a, b));
  // eval runs the factored linears.
  const auto e = run_cli("eval " + out + " --text " + lmp::test::shared_path("data/corpus/heldout_dev.jsonl") +
                         " --ctx 128 --max-windows 8 --json -q");
  ASSERT_EQ(e.code, 0) << e.err;
  const double ppl = nlohmann::json::parse(e.out)["ppl"].get<double>();
  EXPECT_TRUE(std::isfinite(ppl) && ppl > 1 && ppl < 1000) << ppl;
}

TEST(LowRankCli, Bf16FactorsHalveTheBytesOnDisk) {
  LMP_REQUIRE_SHARED();
  const std::string dir = lmp::test::temp_dir("lowrank_cli_bf16");
  const auto f32 = compress_json(dir + "/f32", "--method svd --ratio 0.6 --format lmp");
  const auto bf16 = compress_json(dir + "/bf16", "--method svd --ratio 0.6 --format lmp --factor-dtype bf16");
  const double half = bf16["linear_bytes"].get<double>() / f32["linear_bytes"].get<double>();
  EXPECT_NEAR(half, 0.5, 0.01);
  EXPECT_NEAR(bf16["bpw"].get<double>(), 0.6 * 16, 0.15) << "the bf16 original's size times the ratio";
  const lmp::SafetensorsFile st = lmp::read_safetensors(dir + "/bf16/model.safetensors");
  EXPECT_EQ(st.find("model.layers.0.mlp.down_proj.weight.a")->dtype, lmp::DType::BF16);
}

TEST(LowRankCli, BadOptionsAreOneLineErrors) {
  LMP_REQUIRE_SHARED();
  const std::string out = lmp::test::temp_dir("lowrank_cli_err") + "/m";
  auto err = [&](const std::string& args) {
    const auto r = run_cli("compress " + model() + " -o " + out + " --force -q " + args);
    EXPECT_NE(r.code, 0) << args;
    return r.err;
  };
  EXPECT_NE(err("--method svd --ratio 1.5").find("svd: --ratio must be in (0, 1], found 1.5"), std::string::npos);
  EXPECT_NE(err("--method svd --rank 200").find("svd: model.layers.0.self_attn.k_proj.weight: --rank 200 is above "
                                                "min(out, in) = 128 of its [128, 256] weight"),
            std::string::npos);
  EXPECT_NE(err("--method aa-svd --ratio 0.5").find("needs calibration data: give --calib FILE"), std::string::npos);
  EXPECT_NE(err("--method svd --ratio 0.5 --refine-epochs 2").find("--refine-epochs needs calibration data"),
            std::string::npos);
  EXPECT_NE(err("--method svd --ratio 0.5 --refine-epochs 2 --calib " + small_calib() + " --format gguf")
                .find("the gguf export does not write yet"),
            std::string::npos);
  EXPECT_NE(err("--method svd --ratio 0.5 --factor-dtype f16").find("svd: --factor-dtype must be f32 or bf16"),
            std::string::npos);
  EXPECT_NE(err("--method rtn --ratio 0.5").find("--ratio does not apply to --method rtn"), std::string::npos);
}

}  // namespace
