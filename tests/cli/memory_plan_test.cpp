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

}  // namespace
