#include <gtest/gtest.h>

#include <cstring>

#include "core/dtype.h"
#include "io/checkpoint.h"
#include "io/gguf_quant.h"
#include "io/gguf_test_writer.h"
#include "test_util.h"

namespace lmp {
namespace {

// One block as the public layout stores it: 2 bytes of f16 scale, then the quants.
std::string q8_block(float scale, const int8_t (&q)[32]) {
  std::string b(34, '\0');
  const uint16_t d = f32_to_f16(scale);
  std::memcpy(&b[0], &d, 2);
  std::memcpy(&b[2], q, 32);
  return b;
}

TEST(GgufQuant, Q8_0MatchesHandComputedBlocks) {
  int8_t q0[32], q1[32];
  for (int j = 0; j < 32; ++j) {
    q0[j] = int8_t(j - 16);        // -16 .. 15
    q1[j] = int8_t(j % 2 ? 127 : -128);
  }
  const std::string bytes = q8_block(0.5f, q0) + q8_block(-0.25f, q1);
  float out[64];
  dequantize_q8_0(bytes.data(), out, 64);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], 0.5f * float(j - 16)) << j;
  EXPECT_EQ(out[32], 32.0f);      // -0.25 * -128
  EXPECT_EQ(out[33], -31.75f);    // -0.25 * 127
}

TEST(GgufQuant, Q4_0MatchesHandComputedBlock) {
  // Byte j holds weight j in its low nibble and weight j+16 in its high nibble, both offset by 8.
  std::string b(18, '\0');
  const uint16_t d = f32_to_f16(2.0f);
  std::memcpy(&b[0], &d, 2);
  for (int j = 0; j < 16; ++j) b[2 + j] = char(uint8_t(j | ((15 - j) << 4)));
  float out[32];
  dequantize_q4_0(b.data(), out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 2.0f * float(j - 8)) << j;            // low nibble j
    EXPECT_EQ(out[j + 16], 2.0f * float(7 - j)) << j + 16;  // high nibble 15-j
  }
  // A concrete byte: 0x9C at position 3 -> weight 3 = (0xC - 8) * d = 8, weight 19 = (0x9 - 8) * d = 2.
  b[2 + 3] = char(0x9C);
  dequantize_q4_0(b.data(), out, 32);
  EXPECT_EQ(out[3], 8.0f);
  EXPECT_EQ(out[19], 2.0f);
}

TEST(GgufQuant, SubnormalScale) {
  int8_t q[32] = {};
  q[0] = 3;
  std::string b = q8_block(0, q);
  const uint16_t d = 0x0001;  // smallest f16 subnormal: 2^-24
  std::memcpy(&b[0], &d, 2);
  float out[32];
  dequantize_q8_0(b.data(), out, 32);
  EXPECT_EQ(out[0], 3.0f * 5.9604644775390625e-08f);
}

// Q8_0 / Q4_0 tensors inside a GGUF go through load_f32 and the Q/K un-permutation.
TEST(GgufQuant, QuantizedTensorsThroughCheckpoint) {
  // The tiny model of gguf_test_writer.h with a Q8_0 q_proj and a Q4_0 up_proj.
  test::GgufWriter g;
  g.kv_str("general.architecture", "llama");
  g.kv_u32("llama.embedding_length", 32);
  g.kv_u32("llama.block_count", 1);
  g.kv_u32("llama.feed_forward_length", 64);
  g.kv_u32("llama.attention.head_count", 4);
  g.kv_u32("llama.attention.head_count_kv", 2);
  g.kv_u32("llama.context_length", 64);
  auto f32 = [&](const std::string& n, std::vector<uint64_t> ne) {
    uint64_t count = 1;
    for (auto d : ne) count *= d;
    g.tensor_f32(n, ne, std::vector<float>(count, 0.5f));
  };
  f32("token_embd.weight", {32, 40});
  f32("blk.0.attn_norm.weight", {32});
  // q_proj: 32 rows of one Q8_0 block each; stored row r has all quants = r, scale 1.
  std::string q;
  for (int r = 0; r < 32; ++r) {
    int8_t qs[32];
    std::memset(qs, r, 32);
    q += q8_block(1.0f, qs);
  }
  g.tensor("blk.0.attn_q.weight", {32, 32}, 8, q);
  f32("blk.0.attn_k.weight", {32, 16});
  f32("blk.0.attn_v.weight", {32, 16});
  f32("blk.0.attn_output.weight", {32, 32});
  f32("blk.0.ffn_norm.weight", {32});
  f32("blk.0.ffn_gate.weight", {32, 64});
  // ffn_up: 64 rows of one Q4_0 block; all nibbles 0xF -> (15 - 8) * d with d = 0.5 -> 3.5.
  std::string up;
  for (int r = 0; r < 64; ++r) {
    std::string b(18, char(0xFF));
    const uint16_t d = f32_to_f16(0.5f);
    std::memcpy(&b[0], &d, 2);
    up += b;
  }
  g.tensor("blk.0.ffn_up.weight", {32, 64}, 2, up);
  f32("blk.0.ffn_down.weight", {64, 32});
  f32("output_norm.weight", {32});
  const std::string path = test::temp_dir("quant") + "/q.gguf";
  test::write_file(path, g.build());
  const Checkpoint ck = Checkpoint::open(path);
  EXPECT_EQ(ck.info("model.layers.0.self_attn.q_proj.weight").dtype, DType::Q8_0);
  EXPECT_EQ(ck.raw("model.layers.0.self_attn.q_proj.weight").nbytes(), 32u * 34u);
  const Tensor t = ck.load_f32("model.layers.0.self_attn.q_proj.weight");
  // head_dim 8: HF row h*4 + i of head `head` came from stored row head*8 + 2*i + h.
  for (int64_t r = 0; r < 32; ++r) {
    const int64_t head = r / 8, j = r % 8, stored = head * 8 + 2 * (j % 4) + j / 4;
    EXPECT_EQ(t.f32()[r * 32 + 7], float(stored)) << r;
  }
  const Tensor u = ck.load_f32("model.layers.0.mlp.up_proj.weight");
  for (int64_t i = 0; i < u.numel(); ++i) ASSERT_EQ(u.f32()[i], 3.5f);
}

}  // namespace
}  // namespace lmp
