// GGUF container writer and the Q8_0 / Q4_0 reference quantizers: files read back by the GGUF reader,
// blocks compared with blocks computed by hand from the public block layout.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/dtype.h"
#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_quantize.h"
#include "io/gguf_writer.h"
#include "test_util.h"

using namespace lmp;
namespace fs = std::filesystem;

static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_0) == 18, "ggml block layouts");

TEST(GgufQuantize, Q8_0BlocksMatchTheSpecByHand) {
  // Block 0: absmax 127 → d = 1, q = round(x). Block 1: all zeros → d = 0, q = 0.
  std::vector<float> x(64, 0.0f);
  x[0] = -127.0f;
  for (int j = 1; j < 32; ++j) x[size_t(j)] = float(j - 10) + 0.3f;
  BlockQ8_0 b[2];
  quantize_q8_0(x.data(), b, 64);
  EXPECT_EQ(b[0].d, 0x3C00);  // f16 1.0
  EXPECT_EQ(b[0].qs[0], -127);
  for (int j = 1; j < 32; ++j) EXPECT_EQ(b[0].qs[j], j - 10) << j;
  EXPECT_EQ(b[1].d, 0);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(b[1].qs[j], 0);
}

TEST(GgufQuantize, Q4_0BlocksMatchTheSpecByHand) {
  // Block 0: largest magnitude −16 → d = −16 / −8 = 2; x = 2(j − 8) + 0.4 gives q = trunc(j + 0.7) = j.
  // Block 1: largest magnitude +16 → d = −2; q(16) = trunc(−8 + 8.5) = 0, q(0) = trunc(8.5) = 8.
  std::vector<float> x(64, 0.0f);
  for (int j = 0; j < 32; ++j) x[size_t(j)] = 2.0f * float(j % 16 - 8) + 0.4f;
  x[5] = -16.0f;
  x[32] = 16.0f;
  BlockQ4_0 b[2];
  quantize_q4_0(x.data(), b, 64);
  EXPECT_EQ(b[0].d, 0x4000);  // f16 2.0
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b[0].qs[j], uint8_t((j == 5 ? 0 : j) | (j << 4))) << j;
  EXPECT_EQ(b[1].d, 0xC000);  // f16 −2.0
  EXPECT_EQ(b[1].qs[0], uint8_t(0 | 8 << 4));
  for (int j = 1; j < 16; ++j) EXPECT_EQ(b[1].qs[j], 0x88) << j;
  // And the reference dequantizer reads them back as d·(q − 8).
  std::vector<float> y(64);
  dequantize_q4_0(b, y.data(), 64);
  EXPECT_EQ(y[5], -16.0f);
  EXPECT_EQ(y[7], 2.0f * (7 - 8));
  EXPECT_EQ(y[32], 16.0f);
  EXPECT_EQ(y[33], 0.0f);
}

TEST(GgufFileWriter, WritesAFileTheReaderReadsBack) {
  const std::string path = test::temp_dir("gguf-writer") + "/t.gguf";
  GgufFileWriter w(path);
  w.kv_str("general.architecture", "llama");
  w.kv_u32("llama.block_count", 3);
  w.kv_f32("llama.rope.freq_base", 500000.0f);
  w.kv_bool("tokenizer.ggml.add_bos_token", true);
  w.kv_str_array("tokenizer.ggml.tokens", {"<unk>", "a"});
  w.kv_f32_array("tokenizer.ggml.scores", {0.0f, -1.5f});
  w.kv_i32_array("tokenizer.ggml.token_type", {2, 1});
  w.add_tensor("a", {2, 3}, GgmlType::F32);
  w.add_tensor("b", {1, 32}, GgmlType::Q8_0);
  w.begin_data();
  BlockQ8_0 blk{};
  blk.d = 0x3C00;
  blk.qs[3] = -7;
  w.write_tensor("b", &blk, sizeof blk);  // any order
  const float a[6] = {1, 2, 3, 4, 5, 6};
  w.write_tensor("a", a, sizeof a);
  EXPECT_FALSE(fs::exists(path));
  w.finish();
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  const GgufFile g = read_gguf(path);
  EXPECT_EQ(g.version, 3u);
  EXPECT_EQ(g.alignment, 32u);
  EXPECT_EQ(g.find("general.architecture")->s, "llama");
  EXPECT_EQ(*g.find("llama.block_count")->as_int(), 3);
  EXPECT_EQ(g.find("llama.rope.freq_base")->f, 500000.0);
  EXPECT_EQ(g.find("tokenizer.ggml.tokens")->arr.strings[1], "a");
  EXPECT_EQ(g.find("tokenizer.ggml.scores")->arr.float_at(1), -1.5);
  EXPECT_EQ(g.find("tokenizer.ggml.token_type")->arr.int_at(0), 2);
  ASSERT_EQ(g.tensors.size(), 2u);
  EXPECT_EQ(g.tensors[0].ne, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(g.tensors[0].offset % 32, 0u);
  EXPECT_EQ(std::memcmp(g.file->data() + g.tensors[0].offset, a, sizeof a), 0);
  EXPECT_EQ(g.tensors[1].type, 8u);
  EXPECT_EQ(g.tensors[1].offset % 32, 0u);
  EXPECT_EQ(std::memcmp(g.file->data() + g.tensors[1].offset, &blk, sizeof blk), 0);
}

TEST(GgufFileWriter, RefusesWrongSizesAndLeavesNoFileWhenIncomplete) {
  const std::string path = test::temp_dir("gguf-writer-bad") + "/t.gguf";
  {
    GgufFileWriter w(path);
    EXPECT_THROW(w.add_tensor("q", {4, 48}, GgmlType::Q4_0), Error);  // rows not a multiple of 32
    w.add_tensor("a", {2, 3}, GgmlType::F16);
    w.begin_data();
    const uint16_t h[5] = {};
    try {
      w.write_tensor("a", h, sizeof h);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "gguf writer " + path + ": tensor a: expected 12 bytes (F16 [2, 3]), found 10");
    }
    EXPECT_THROW(w.finish(), Error);  // "a" never written
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}
