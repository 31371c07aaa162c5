// Resume (compress/resume.h): `compress` killed after block k (SIGKILL, LMP_KILL_AFTER_BLOCKS) and rerun
// with the same command writes the same bytes as an uninterrupted run, for every export format and for
// methods whose state is more than the quantized stream (AA-SVD's original stream and refined norms);
// a different run is refused naming what differs; --no-resume starts over; a damaged state is an error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_fixtures.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using lmp::test::run_cli;

const std::string& model() {
  static const std::string m = lmp::test::shared_path("models/lm-s");
  return m;
}

const std::string& calib() {
  static const std::string path = lmp::test::small_calib("resume_cli_calib");
  return path;
}

lmp::test::CliResult compress(const std::string& out, const std::string& args, int kill_after = 0) {
  if (kill_after > 0) setenv("LMP_KILL_AFTER_BLOCKS", std::to_string(kill_after).c_str(), 1);
  const auto r = run_cli("compress " + model() + " -o " + out + " --json -q --calib " + calib() + " " + args);
  unsetenv("LMP_KILL_AFTER_BLOCKS");
  return r;
}

int64_t blocks_saved(const std::string& out) {
  const std::string m = lmp::test::read_file(out + ".resume/manifest.json");
  return m.empty() ? -1 : nlohmann::json::parse(m).at("blocks_done").get<int64_t>();
}

// Every file of directory `a` has the same bytes in `b`, and b has no others (or, for a single-file
// output such as a .gguf, a and b have the same bytes).
void expect_same_files(const std::string& a, const std::string& b) {
  if (fs::is_regular_file(a)) {
    EXPECT_TRUE(lmp::test::read_file(a) == lmp::test::read_file(b)) << a << " vs " << b;
    return;
  }
  size_t n = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(b)) {
    ++n;
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(lmp::test::read_file(a + "/" + name) == lmp::test::read_file(e.path().string())) << name << " differs";
  }
  EXPECT_EQ(n, size_t(std::distance(fs::directory_iterator(a), fs::directory_iterator())));
}

// Killed after `k` of lm-s's 6 blocks, then rerun: the same output as a run never interrupted, and the
// report counts the resumed blocks. Returns both reports.
std::pair<nlohmann::json, nlohmann::json> kill_and_resume(const std::string& tag, const std::string& args, int k) {
  const std::string dir = lmp::test::temp_dir("resume_" + tag);
  const auto whole = compress(dir + "/whole", args + " --no-resume");
  EXPECT_EQ(whole.code, 0) << whole.err;
  EXPECT_FALSE(fs::exists(dir + "/whole.resume"));
  const auto killed = compress(dir + "/out", args, k);
  EXPECT_NE(killed.code, 0) << "LMP_KILL_AFTER_BLOCKS did not stop the run";
  EXPECT_FALSE(fs::exists(dir + "/out"));
  EXPECT_EQ(blocks_saved(dir + "/out"), k);
  const auto resumed = compress(dir + "/out", args);
  EXPECT_EQ(resumed.code, 0) << resumed.err;
  if (whole.code != 0 || resumed.code != 0) return {};
  expect_same_files(dir + "/whole", dir + "/out");
  EXPECT_FALSE(fs::exists(dir + "/out.resume")) << "the state is removed once the output is complete";
  const auto a = nlohmann::json::parse(whole.out), b = nlohmann::json::parse(resumed.out);
  EXPECT_EQ(a["resumed_blocks"], 0);
  EXPECT_EQ(b["resumed_blocks"], k);
  EXPECT_EQ(a["bpw"], b["bpw"]);
  EXPECT_EQ(a["bpw_ideal_total"], b["bpw_ideal_total"]);
  EXPECT_EQ(a["linears"], b["linears"]);
  EXPECT_EQ(a["overrides"], b["overrides"]);
  return {a, b};
}

TEST(ResumeCli, GptqPackedExportIsTheSameAfterAKill) {
  LMP_REQUIRE_SHARED();
  kill_and_resume("gptq", "--method gptq --bits 4 --format gptq", 2);
}

TEST(ResumeCli, EntquantLmpExportIsTheSameAfterAKill) {
  LMP_REQUIRE_SHARED();
  kill_and_resume("entquant", "--method entquant --lambda 14.5 --format lmp --include-head", 5);
}

TEST(ResumeCli, SparseAndNf4HfAndQ4_0GgufExportsAreTheSameAfterAKill) {
  LMP_REQUIRE_SHARED();
  kill_and_resume("nf4", "--method nf4 --double-quant --format hf", 2);
  kill_and_resume("wanda", "--method wanda --sparsity 0.5 --format hf --ignore 'layers\\.1\\.mlp'", 1);
  kill_and_resume("rtn-gguf", "--method rtn --bits 4 --group 32 --sym --format gguf --gguf-type q4_0", 4);
}

TEST(ResumeCli, AaSvdWithRefinementResumesItsOriginalStreamAndReports) {
  LMP_REQUIRE_SHARED();
  const auto [a, b] = kill_and_resume("aa-svd", "--method aa-svd --ratio 0.5 --format lmp --refine-epochs 1", 3);
  ASSERT_TRUE(a.contains("refine") && b.contains("refine"));
  ASSERT_EQ(b["refine"]["blocks"].size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(a["refine"]["blocks"][i]["mse_before"], b["refine"]["blocks"][i]["mse_before"]) << i;
    EXPECT_EQ(a["refine"]["blocks"][i]["mse_after"], b["refine"]["blocks"][i]["mse_after"]) << i;
  }
}

TEST(ResumeCli, ADifferentRunIsRefusedAndNoResumeStartsOver) {
  LMP_REQUIRE_SHARED();
  const std::string out = lmp::test::temp_dir("resume_mismatch") + "/out";
  ASSERT_NE(compress(out, "--method rtn --bits 4 --format gptq", 2).code, 0);
  auto r = compress(out, "--method rtn --bits 8 --format gptq");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(out + ".resume holds 2 finished blocks of a different run (fingerprint "
                             "/recipe/stages/0/bits: saved 4, now 8)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--no-resume"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));

  r = compress(out, "--method rtn --bits 8 --format gptq --no-resume");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["resumed_blocks"], 0);
  EXPECT_FALSE(fs::exists(out + ".resume"));
}

TEST(ResumeCli, ADamagedStateIsAnErrorNamingTheFile) {
  LMP_REQUIRE_SHARED();
  const std::string out = lmp::test::temp_dir("resume_damaged") + "/out";
  const std::string args = "--method rtn --bits 4 --format gptq";
  ASSERT_NE(compress(out, args, 3).code, 0);
  const std::string record = out + ".resume/block-00001.safetensors";
  const std::string bytes = lmp::test::read_file(record);
  lmp::test::write_file(record, bytes.substr(0, bytes.size() / 2));
  auto r = compress(out, args);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(record), std::string::npos) << r.err;

  lmp::test::write_file(out + ".resume/manifest.json", "{\"format\": ");
  r = compress(out, args);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(out + ".resume/manifest.json is not JSON"), std::string::npos) << r.err;
}

}  // namespace
