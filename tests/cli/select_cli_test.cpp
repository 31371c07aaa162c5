// End-to-end tests of `lmpress select` on a small pool cut from heldout_dev.jsonl, with lm-s.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "calib/calib_set.h"
#include "test_util.h"

using lmp::test::run_cli;
using lmp::test::shared_path;

namespace {

// The first 60 heldout_dev records, gzip-free but in a directory with a .txt file beside.
std::string small_pool() {
  static std::string path;
  if (!path.empty()) return path;
  std::ifstream in(shared_path("data/corpus/heldout_dev.jsonl"));
  std::string line, out;
  for (int i = 0; i < 60 && std::getline(in, line); ++i) out += line + "\n";
  path = lmp::test::temp_dir("select_cli") + "/pool.jsonl";
  lmp::test::write_file(path, out);
  return path;
}

std::string common_args(const std::string& method, const std::string& out, int seed = 1) {
  return "select --pool " + small_pool() + " --method " + method + " --model " + shared_path("models/lm-s") +
         " --n 6 --seq 128 --seed " + std::to_string(seed) + " -o " + out + " -q";
}

TEST(SelectCli, ZipcalWritesACalibSetAndAJsonReport) {
  LMP_REQUIRE_SHARED();
  const std::string out = lmp::test::temp_dir("select_cli_z") + "/z.safetensors";
  const auto r = run_cli(common_args("zipcal", out) + " --json --threads 2");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"seconds", "pool_documents", "pool_mb", "pool_mb_per_s", "types_covered", "type_token_ratio",
                        "zipf_exponent_selected", "zipf_exponent_pool", "sources"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["pool_documents"], 60);
  int64_t total = 0;
  for (const auto& [k, v] : j["sources"].items()) total += v.get<int64_t>();
  EXPECT_EQ(total, 6);
  EXPECT_GT(j["types_covered"].get<int64_t>(), 100);
  EXPECT_GT(j["zipf_exponent_pool"].get<double>(), 0.5);
  const lmp::CalibSet c = lmp::read_calib_set(out, 32000);
  EXPECT_EQ(c.n, 6);
  EXPECT_EQ(c.seq, 128);
  EXPECT_EQ(c.metadata.at("method"), "zipcal");
  EXPECT_EQ(c.metadata.at("seed"), "1");
  EXPECT_EQ(c.metadata.at("n"), "6");
  EXPECT_EQ(c.metadata.at("seq"), "128");
  EXPECT_EQ(c.metadata.at("tokenizer"), shared_path("models/lm-s"));
  EXPECT_EQ(c.source_indices.size(), 6u);
  // One thread gives the same set.
  const std::string out1 = lmp::test::temp_dir("select_cli_z1") + "/z.safetensors";
  ASSERT_EQ(run_cli(common_args("zipcal", out1) + " --threads 1").code, 0);
  EXPECT_EQ(lmp::read_calib_set(out1, 32000).input_ids, c.input_ids);
}

TEST(SelectCli, RandomIsSeeded) {
  LMP_REQUIRE_SHARED();
  const std::string dir = lmp::test::temp_dir("select_cli_r");
  ASSERT_EQ(run_cli(common_args("random", dir + "/a.safetensors")).code, 0);
  ASSERT_EQ(run_cli(common_args("random", dir + "/b.safetensors")).code, 0);
  const auto r = run_cli(common_args("random", dir + "/c.safetensors", 2));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto a = lmp::read_calib_set(dir + "/a.safetensors", 32000), b = lmp::read_calib_set(dir + "/b.safetensors", 32000),
             c = lmp::read_calib_set(dir + "/c.safetensors", 32000);
  EXPECT_EQ(a.input_ids, b.input_ids);
  EXPECT_NE(a.input_ids, c.input_ids);
  EXPECT_EQ(a.input_ids.size(), size_t(6 * 128));
}

TEST(SelectCli, ErrorsAreOneLine) {
  LMP_REQUIRE_SHARED();
  const std::string dir = lmp::test::temp_dir("select_cli_err");
  auto r = run_cli("select --pool " + small_pool() + " --n 4 --seq 64 -o " + dir + "/x.safetensors");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--model is required"), std::string::npos) << r.err;
  r = run_cli("select --pool " + small_pool() + " --model " + shared_path("models/lm-s") + " --n 500 --seq 1024 -o " +
              dir + "/x.safetensors -q");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--n 500 is more than the"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--pack"), std::string::npos) << r.err;
  EXPECT_FALSE(std::ifstream(dir + "/x.safetensors").good());
  r = run_cli("select --pool " + dir + "/none.jsonl --model " + shared_path("models/lm-s") + " -o " + dir + "/x.safetensors");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("none.jsonl: no such file"), std::string::npos) << r.err;
  r = run_cli("select --pool " + small_pool() + " --method magic --model " + shared_path("models/lm-s") + " -o " + dir +
              "/x.safetensors");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--method"), std::string::npos) << r.err;
}

TEST(SelectCli, DispatchesTheModelBasedSelectors) {
  LMP_REQUIRE_SHARED();
  const std::string dir = lmp::test::temp_dir("select_cli_model");
  for (const char* m : {"least-ppl", "cola"}) {
    const std::string out = dir + "/" + m + ".safetensors";
    const auto r = run_cli("select --pool " + small_pool() + " --method " + m + " --model " + shared_path("models/lm-s") +
                           " --n 3 --seq 32 --max-candidates 8 -o " + out + " -q --json");
    ASSERT_EQ(r.code, 0) << m << ": " << r.err;
    const lmp::CalibSet c = lmp::read_calib_set(out, 32000);
    EXPECT_EQ(c.n, 3);
    EXPECT_EQ(c.seq, 32);
    EXPECT_EQ(c.metadata.at("method"), m);
    for (int64_t d : c.source_indices) EXPECT_GE(d, 0);
  }
}

TEST(SelectCli, HelpExplainsMethodsAndOurTemperatureDefaults) {
  const auto r = run_cli("select --help");
  ASSERT_EQ(r.code, 0);
  for (const char* s : {"zipcal", "random", "least-ppl", "cola", "self", "1.5", "0.8", "50", "ours", "--pack"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

}  // namespace
