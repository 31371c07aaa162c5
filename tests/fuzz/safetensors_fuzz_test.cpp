// Corrupted safetensors checkpoints (and their config.json) must open and load cleanly or fail with
// lmp::Error: never crash, never overflow a size, never throw anything else. Built under ASan/UBSan.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "io/checkpoint.h"
#include "io/corruption.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace lmp {
namespace {

void open_and_load_all(const std::string& path) {
  const Checkpoint ck = Checkpoint::open(path);
  for (const auto& name : ck.tensor_names()) {
    ck.raw(name);
    ck.load_f32(name);
  }
}

TEST(FuzzSafetensors, CorruptedFilesFailCleanly) {
  LMP_REQUIRE_SHARED();
  const std::string src = test::shared_path("models/tiny-mistral");
  const std::string dir = test::temp_dir("fuzz-st");
  test::write_file(dir + "/config.json", test::read_file(src + "/config.json"));
  const std::string orig = test::read_file(src + "/model.safetensors");
  uint64_t header_len = 0;
  std::memcpy(&header_len, orig.data(), 8);
  test::Corruptor c(20240601);
  test::Outcomes out;
  const int iterations = test::fuzz_iterations(1500);
  test::FileImage file(dir + "/model.safetensors");
  for (int i = 0; i < iterations; ++i) {
    file.set(c.corrupt(orig, 8 + header_len));
    out.run(i, [&] {
      open_and_load_all(dir);
      read_safetensors(dir + "/model.safetensors");
    });
  }
  EXPECT_GT(out.errors, iterations / 2);
  EXPECT_GT(out.ok, 0);
}

TEST(FuzzSafetensors, CorruptedConfigFailsCleanly) {
  LMP_REQUIRE_SHARED();
  for (const char* model : {"tiny-llama3", "tiny-qwen2"}) {
    const std::string src = test::shared_path(std::string("models/") + model);
    const std::string dir = test::temp_dir(std::string("fuzz-cfg-") + model);
    std::filesystem::copy_file(src + "/model.safetensors", dir + "/model.safetensors");
    const std::string orig = test::read_file(src + "/config.json");
    const test::Outcomes out =
        test::fuzz_config_json(dir, orig, 7, test::fuzz_iterations(300), [&] { open_and_load_all(dir); });
    EXPECT_GT(out.errors, 0);
    EXPECT_GT(out.ok, 0);
  }
}

TEST(FuzzSafetensors, CorruptedShardIndexFailsCleanly) {
  LMP_REQUIRE_SHARED();
  // A two-shard copy of tiny-llama3 with an index, then the index corrupted.
  const std::string src = test::shared_path("models/tiny-llama3");
  const std::string dir = test::temp_dir("fuzz-index");
  test::write_file(dir + "/config.json", test::read_file(src + "/config.json"));
  const SafetensorsFile st = read_safetensors(src + "/model.safetensors");
  std::vector<std::pair<std::string, Tensor>> a, b;
  std::string index = R"({"metadata":{},"weight_map":{)";
  for (size_t i = 0; i < st.entries.size(); ++i) {
    const auto& e = st.entries[i];
    const bool first = i % 2 == 0;
    (first ? a : b).push_back({e.name, st.tensor(e.name)});
    index += (i ? "," : "") + std::string("\"") + e.name + "\":\"" + (first ? "s1" : "s2") + ".safetensors\"";
  }
  index += "}}";
  write_safetensors(dir + "/s1.safetensors", a);
  write_safetensors(dir + "/s2.safetensors", b);
  test::write_file(dir + "/model.safetensors.index.json", index);
  EXPECT_NO_THROW(open_and_load_all(dir));
  test::Corruptor c(99);
  test::Outcomes out;
  test::FileImage file(dir + "/model.safetensors.index.json");
  for (int i = 0; i < test::fuzz_iterations(300); ++i) {
    file.set(c.corrupt(index, index.size()));
    out.run(i, [&] { open_and_load_all(dir); });
  }
  EXPECT_GT(out.errors, 0);
}

}  // namespace
}  // namespace lmp
