// Corrupted GGUF files must open and load cleanly or fail with lmp::Error: every count, dimension and
// string length is checked against the bytes left before anything is allocated. Built under ASan/UBSan.
#include <gtest/gtest.h>

#include <cstring>

#include "io/checkpoint.h"
#include "io/corruption.h"
#include "io/gguf.h"
#include "io/gguf_test_writer.h"
#include "test_util.h"

namespace lmp {
namespace {

void open_and_load_all(const std::string& path) {
  const Checkpoint ck = Checkpoint::open(path);
  for (const auto& name : ck.tensor_names()) {
    ck.raw(name);
    ck.load_f32(name);
  }
  for (const auto& [k, v] : ck.metadata()) (void)v.size();
}

// Where the tensor data starts: everything before it is structure.
size_t data_offset(const std::string& path) { return size_t(read_gguf(path).data_offset); }

void fuzz_file(const std::string& orig_path, const std::string& tag, uint64_t seed, int iterations) {
  const std::string orig = test::read_file(orig_path);
  const size_t hot = data_offset(orig_path);
  const std::string path = test::temp_dir(tag) + "/m.gguf";
  test::FileImage file(path);
  test::Corruptor c(seed);
  test::Outcomes out;
  for (int i = 0; i < iterations; ++i) {
    file.set(c.corrupt(orig, hot));
    out.run(i, [&] { open_and_load_all(path); });
  }
  EXPECT_GT(out.errors, iterations / 2) << tag;
  EXPECT_GT(out.ok, 0) << tag;
}

// A small GGUF with Q8_0, Q4_0 and k-quant tensors and an embedded vocabulary; ffn_down (the one tensor
// whose rows hold 256 weights) is of ggml type `k_type`: Q4_K (12) or Q6_K (14).
std::string quantized_gguf(uint32_t k_type = 12) {
  test::GgufWriter w;
  test::llama_header(w, 32, 256, 4, 4);
  w.kv_str("tokenizer.ggml.model", "llama");
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  for (int i = 3; i < 40; ++i) tokens.push_back("▁t" + std::to_string(i));
  w.kv_str_array("tokenizer.ggml.tokens", tokens);
  w.kv_f32_array("tokenizer.ggml.scores", std::vector<float>(40, -1.0f));
  w.kv_i32_array("tokenizer.ggml.token_type", std::vector<int32_t>(40, 1));
  std::string q8, q4, down;
  for (int b = 0; b < 32; ++b) {
    q8 += std::string("\x00\x3c", 2) + std::string(32, char(b));  // d = 1.0
    q4 += std::string("\x00\x38", 2) + std::string(16, char(0x4c));  // d = 0.5
    if (k_type == 12)  // Q4_K: d = 0.5, dmin = 0.25, packed scales/mins with their top bits set, varying codes.
      down += std::string("\x00\x38\x00\x34", 4) + std::string(12, char(0xc1 + b)) + std::string(128, char(0x5a ^ b));
    else  // Q6_K: varying low nibbles and high bits, scales of both signs, d = 0.5.
      down += std::string(128, char(0x5a ^ b)) + std::string(64, char(0xa5 + b)) + std::string(16, char(0xf0 + 3 * b)) +
              std::string("\x00\x38", 2);
  }
  std::string ffn_q8, ffn_q4;  // 256 rows of one block each
  for (int r = 0; r < 8; ++r) {
    ffn_q8 += q8;
    ffn_q4 += q4;
  }
  const std::vector<float> ones(40 * 32, 1.0f);
  w.tensor_f32("token_embd.weight", {32, 40}, ones);
  w.tensor_f32("blk.0.attn_norm.weight", {32}, std::vector<float>(32, 1.0f));
  w.tensor("blk.0.attn_q.weight", {32, 32}, 8, q8);
  w.tensor("blk.0.attn_k.weight", {32, 32}, 2, q4);
  w.tensor("blk.0.attn_v.weight", {32, 32}, 8, q8);
  w.tensor("blk.0.attn_output.weight", {32, 32}, 2, q4);
  w.tensor_f32("blk.0.ffn_norm.weight", {32}, std::vector<float>(32, 1.0f));
  w.tensor("blk.0.ffn_gate.weight", {32, 256}, 8, ffn_q8);
  w.tensor("blk.0.ffn_up.weight", {32, 256}, 2, ffn_q4);
  w.tensor("blk.0.ffn_down.weight", {256, 32}, k_type, down);
  w.tensor_f32("output_norm.weight", {32}, std::vector<float>(32, 1.0f));
  w.tensor("output.weight", {32, 40}, 1, std::string(40 * 32 * 2, '\x01'));
  return w.build();
}

TEST(FuzzGguf, CorruptedStoriesFailsCleanly) {
  LMP_REQUIRE_SHARED();
  fuzz_file(test::shared_path("models/stories260K/stories260K.gguf"), "fuzz-gguf-stories", 424242, test::fuzz_iterations(1200));
}

TEST(FuzzGguf, CorruptedQuantizedFailsCleanly) {
  for (uint32_t k_type : {12u, 14u}) {  // with Q4_K, with Q6_K
    const std::string path = test::temp_dir("fuzz-gguf-q-src") + "/q.gguf";
    test::write_file(path, quantized_gguf(k_type));
    EXPECT_NO_THROW(open_and_load_all(path));
    EXPECT_EQ(read_gguf(path).tensors[9].type, k_type);
    fuzz_file(path, "fuzz-gguf-q", 31337 + k_type, test::fuzz_iterations(1200));
  }
}

TEST(FuzzGguf, ExtremeHeaderValues) {
  const std::string orig = quantized_gguf();
  const std::string path = test::temp_dir("fuzz-gguf-extreme") + "/x.gguf";
  test::Outcomes out;
  const uint64_t values[] = {0, 1, 0xffffffffull, 0x7fffffffffffffffull, ~0ull, orig.size()};
  int i = 0;
  for (size_t at : {4, 8, 16, 24, 32}) {  // version, tensor count, kv count, first key length, ...
    for (uint64_t v : values) {
      std::string s = orig;
      std::memcpy(&s[at], &v, at == 4 ? 4 : 8);
      test::write_file(path, s);
      out.run(i++, [&] { open_and_load_all(path); });
    }
  }
  EXPECT_GT(out.errors, 0);
}

}  // namespace
}  // namespace lmp
