// The memory model of `compress` (docs/memory.md) on random-weight checkpoints of one width and two
// depths: the measured peak stays within 1.2x of the plan printed before work, and neither grows with
// the number of blocks (each block is read from the mapped file, compressed, written and dropped).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "core/tensor.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace {

using lmp::test::run_cli;

constexpr int64_t kVocab = 4096;

// A LLaMA-shaped checkpoint of `layers` blocks, 1024 wide (a block is 67 MB in f32), bf16 on disk.
std::string random_model(int64_t layers) {
  const std::string dir = lmp::test::temp_dir("memplan-" + std::to_string(layers)) + "/model";
  const std::string cmd = std::string(LMP_RANDOM_LLAMA_PATH) + " " + dir + " --layers " + std::to_string(layers) +
                          " --hidden 1024 --intermediate 4096 --heads 8 --kv-heads 8 --vocab " +
                          std::to_string(kVocab) + " > /dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return dir;
}

// 8 random sequences of 256 tokens.
const std::string& calib() {
  static const std::string path = [] {
    std::mt19937 rng(7);
    lmp::Tensor t = lmp::Tensor::zeros(lmp::DType::I32, {8, 256});
    auto* ids = static_cast<int32_t*>(t.mutable_data());
    for (int64_t i = 0; i < t.numel(); ++i) ids[i] = int32_t(rng() % kVocab);
    const std::string p = lmp::test::temp_dir("memplan-calib") + "/calib.safetensors";
    lmp::write_safetensors(p, {{"input_ids", t}}, {});
    return p;
  }();
  return path;
}

struct Measured {
  double plan = 0, peak = 0;
};

Measured compress(const std::string& model, const std::string& method, const std::string& format = "gptq") {
  const std::string out = lmp::test::temp_dir("memplan-out") + "/out";
  const auto r = run_cli("compress " + model + " -o " + out + " " + method + " --format " + format +
                         " --force --json -q");
  EXPECT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  const Measured m{j.at("memory_plan_mb").get<double>(), j.at("peak_rss_mb").get<double>()};
  std::printf("%s %s: plan %.0f MB, peak %.0f MB\n", model.c_str(), method.c_str(), m.plan, m.peak);
  return m;
}

TEST(MemoryPlan, GptqPeakWithinThePlanAndFlatInDepth) {
  const std::string gptq = "--method gptq --bits 4 --group 128 --calib " + calib();
  const Measured shallow = compress(random_model(4), gptq), deep = compress(random_model(16), gptq);
  for (const Measured& r : {shallow, deep}) {
    EXPECT_LE(r.peak, 1.2 * r.plan) << "measured " << r.peak << " MB, planned " << r.plan << " MB";
    EXPECT_GE(r.peak, 0.6 * r.plan) << "the plan overcounts: measured " << r.peak << " MB, planned " << r.plan;
  }
  // Four times the blocks: the same plan, and a peak within a tenth of the shallow one.
  EXPECT_NEAR(deep.plan, shallow.plan, 0.02 * shallow.plan);
  EXPECT_LE(deep.peak, 1.1 * shallow.peak) << "4 blocks: " << shallow.peak << " MB, 16 blocks: " << deep.peak;
}

TEST(MemoryPlan, RtnPeakWithinThePlanAndFlatInDepth) {
  const Measured shallow = compress(random_model(4), "--method rtn --bits 4 --group 128"),
            deep = compress(random_model(16), "--method rtn --bits 4 --group 128");
  for (const Measured& r : {shallow, deep}) EXPECT_LE(r.peak, 1.2 * r.plan) << "measured " << r.peak << ", plan " << r.plan;
  EXPECT_LE(deep.peak, 1.1 * shallow.peak) << "4 blocks: " << shallow.peak << " MB, 16 blocks: " << deep.peak;
}

// The lmp writer codes each block as it arrives and keeps its streams in a scratch file, not in memory,
// until the one model.safetensors is written.
TEST(MemoryPlan, LmpExportPeakFlatInDepth) {
  const std::string rtn = "--method rtn --bits 4 --group 128";
  const Measured shallow = compress(random_model(4), rtn, "lmp"), deep = compress(random_model(16), rtn, "lmp");
  for (const Measured& r : {shallow, deep}) EXPECT_LE(r.peak, 1.2 * r.plan) << "measured " << r.peak << ", plan " << r.plan;
  EXPECT_LE(deep.peak, 1.1 * shallow.peak) << "4 blocks: " << shallow.peak << " MB, 16 blocks: " << deep.peak;
}

// --max-memory below what the calibration stream needs: the stream spills to a scratch file, the peak
// drops by about its size (one batch stays resident) and the output is the same, byte for byte.
TEST(MemoryPlan, ActivationsSpillUnderMaxMemoryWithTheSameOutput) {
  const std::string dir = lmp::test::temp_dir("memplan-spill");
  const std::string cmd = std::string(LMP_RANDOM_LLAMA_PATH) + " " + dir + "/model --layers 2 --hidden 512 "
                          "--intermediate 1024 --heads 8 --kv-heads 8 --vocab " + std::to_string(kVocab) +
                          " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::mt19937 rng(11);
  lmp::Tensor t = lmp::Tensor::zeros(lmp::DType::I32, {64, 512});  // 64 x 512 x 512 floats: 64 MiB a stream
  auto* ids = static_cast<int32_t*>(t.mutable_data());
  for (int64_t i = 0; i < t.numel(); ++i) ids[i] = int32_t(rng() % kVocab);
  lmp::write_safetensors(dir + "/calib.safetensors", {{"input_ids", t}}, {});
  const auto run = [&](const std::string& out, const std::string& extra) {
    const auto r = run_cli("compress " + dir + "/model -o " + dir + "/" + out + " --method gptq --bits 4 --group 128 "
                           "--sequential block --calib " + dir + "/calib.safetensors --format gptq --force --json -q " +
                           extra);
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  };
  const nlohmann::json resident = run("resident", ""), spilled = run("spilled", "--max-memory 1 --scratch-dir " + dir);
  EXPECT_EQ(resident.at("spilled_mb").get<double>(), 0.0);
  EXPECT_NEAR(spilled.at("spilled_mb").get<double>(), 64.0, 0.5);
  const double saved = resident.at("peak_rss_mb").get<double>() - spilled.at("peak_rss_mb").get<double>();
  std::printf("spill: peak %.0f MB resident (plan %.0f MB), %.0f MB spilled (plan %.0f MB)\n",
              resident.at("peak_rss_mb").get<double>(), resident.at("memory_plan_mb").get<double>(),
              spilled.at("peak_rss_mb").get<double>(), spilled.at("memory_plan_mb").get<double>());
  EXPECT_GE(saved, 32.0) << "spilling a 64 MiB stream saved only " << saved << " MB of peak";
  // The plan drops by the stream less one batch (8 of 64 samples), and stays as close to the peak.
  const double plan_drop = resident.at("memory_plan_mb").get<double>() - spilled.at("memory_plan_mb").get<double>();
  EXPECT_NEAR(plan_drop, 56.0, 1.0);
  EXPECT_LE(spilled.at("peak_rss_mb").get<double>() / spilled.at("memory_plan_mb").get<double>(),
            resident.at("peak_rss_mb").get<double>() / resident.at("memory_plan_mb").get<double>() + 0.1);
  for (const char* f : {"model.safetensors", "config.json", "quantize_config.json"})
    EXPECT_EQ(lmp::test::read_file(dir + "/resident/" + f), lmp::test::read_file(dir + "/spilled/" + f)) << f;
  const auto bad = run_cli("compress " + dir + "/model -o " + dir + "/x --method rtn --max-memory 12X");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("compress: --max-memory must be a size such as 900M, 12G or 1.5T (a plain number is MiB), "
                         "found '12X'"), std::string::npos) << bad.err;
  const auto no_dir = run_cli("compress " + dir + "/model -o " + dir + "/x --method rtn --scratch-dir " + dir + "/none");
  EXPECT_NE(no_dir.code, 0);
  EXPECT_NE(no_dir.err.find("compress: --scratch-dir '" + dir + "/none' is not a directory"), std::string::npos)
      << no_dir.err;
}

}  // namespace
