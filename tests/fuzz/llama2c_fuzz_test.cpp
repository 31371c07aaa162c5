// Corrupted llama2.c checkpoints and tokenizer files must open and load cleanly or fail with
// lmp::Error. Built under ASan/UBSan.
#include <gtest/gtest.h>

#include <cstring>

#include "io/checkpoint.h"
#include "io/corruption.h"
#include "test_util.h"

namespace lmp {
namespace {

void open_and_load_all(const std::string& path) {
  const Checkpoint ck = Checkpoint::open(path);
  for (const auto& name : ck.tensor_names()) ck.load_f32(name);
  (void)ck.tokenizer_source().spm.pieces.size();
}

std::string stories(const std::string& f) { return test::shared_path("models/stories260K/" + f); }

TEST(FuzzLlama2c, CorruptedModelFailsCleanly) {
  LMP_REQUIRE_SHARED();
  const std::string dir = test::temp_dir("fuzz-l2c");
  test::write_file(dir + "/tok512.bin", test::read_file(stories("tok512.bin")));
  const std::string orig = test::read_file(stories("stories260K.bin"));
  test::Corruptor c(2718);
  test::Outcomes out;
  test::FileImage file(dir + "/model.bin");
  for (int i = 0; i < test::fuzz_iterations(800); ++i) {
    std::string bytes = c.corrupt(orig, 28);
    if (i % 4 == 0) {  // a version-1 header in front of the legacy arrays
      std::string v1(256, '\0');
      const int32_t hdr[] = {0x616b3432, 1 + int32_t(c.below(3)), 64, 172, 5, 8, 4, 512, 512};
      std::memcpy(&v1[0], hdr, sizeof hdr);
      v1[36] = char(c.below(2));
      bytes = c.corrupt(v1, 40) + orig.substr(28);
    }
    file.set(bytes);
    out.run(i, [&] { open_and_load_all(dir + "/model.bin"); });
  }
  EXPECT_GT(out.errors, 400);
  EXPECT_GT(out.ok, 0);
}

TEST(FuzzLlama2c, CorruptedTokenizerFailsCleanly) {
  LMP_REQUIRE_SHARED();
  const std::string dir = test::temp_dir("fuzz-l2c-tok");
  test::write_file(dir + "/model.bin", test::read_file(stories("stories260K.bin")));
  const std::string orig = test::read_file(stories("tok512.bin"));
  test::Corruptor c(1618);
  test::Outcomes out;
  test::FileImage file(dir + "/tok512.bin");
  for (int i = 0; i < test::fuzz_iterations(800); ++i) {
    file.set(c.corrupt(orig, orig.size()));
    out.run(i, [&] { open_and_load_all(dir + "/model.bin"); });
  }
  EXPECT_GT(out.errors, 100);
  EXPECT_GT(out.ok, 0);
}

}  // namespace
}  // namespace lmp
