#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "core/dtype.h"
#include "io/checkpoint.h"
#include "io/gguf.h"
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

// Q4_K: d = 0.5, dmin = 0.25; sub-block scales sc and mins m below, packed by the layout rules:
// j < 4:  scales[j] = sc_j | (sc_{j+4} >> 4) << 6,  scales[j+4] = m_j | (m_{j+4} >> 4) << 6;
// j >= 4: scales[j+4] = (sc_j & 15) | (m_j & 15) << 4.
// sc = 1 2 3 4 17 33 50 63 (17 = 0b01'0001, 33 = 0b10'0001, 50 = 0b11'0010, 63 = 0b11'1111)
// m  = 5 6 7 8 20 40  0 63 (20 = 0b01'0100, 40 = 0b10'1000)
// scales[0..3] = 1|1<<6, 2|2<<6, 3|3<<6, 4|3<<6; scales[4..7] = 5|1<<6, 6|2<<6, 7|0<<6, 8|3<<6;
// scales[8..11] = 1|4<<4, 1|8<<4, 2|0<<4, 15|15<<4.
TEST(GgufQuant, Q4_KMatchesHandComputedBlock) {
  const int sc[8] = {1, 2, 3, 4, 17, 33, 50, 63}, m[8] = {5, 6, 7, 8, 20, 40, 0, 63};
  const uint8_t scales[12] = {0x41, 0x82, 0xC3, 0xC4, 0x45, 0x86, 0x07, 0xC8, 0x41, 0x81, 0x02, 0xFF};
  // Code of weight l in sub-block j: (l + 3j) mod 16. Bytes 32i..32i+31 hold sub-block 2i in the low
  // nibbles, sub-block 2i+1 in the high nibbles, weight l at byte l of the chunk.
  auto code = [](int j, int l) { return (l + 3 * j) % 16; };
  std::string b(144, '\0');
  const uint16_t d = 0x3800, dmin = 0x3400;  // f16 0.5 and 0.25
  std::memcpy(&b[0], &d, 2);
  std::memcpy(&b[2], &dmin, 2);
  std::memcpy(&b[4], scales, 12);
  for (int i = 0; i < 4; ++i)
    for (int l = 0; l < 32; ++l) b[16 + 32 * i + l] = char(code(2 * i, l) | (code(2 * i + 1, l) << 4));
  EXPECT_EQ(uint8_t(b[16 + 64 + 5]), 0x41);  // sub-blocks 4 and 5, weight 5: codes 17 % 16 = 1 and 20 % 16 = 4
  float out[256];
  dequantize_q4_k(b.data(), out, 256);
  for (int j = 0; j < 8; ++j)
    for (int l = 0; l < 32; ++l)
      ASSERT_EQ(out[32 * j + l], float(0.5 * sc[j] * code(j, l) - 0.25 * m[j])) << "sub-block " << j << " weight " << l;
  EXPECT_EQ(out[4 * 32 + 5], 3.5f);     // 0.5 * 17 * 1 - 0.25 * 20
  EXPECT_EQ(out[6 * 32 + 0], 50.0f);    // 0.5 * 50 * 2 - 0.25 * 0
  EXPECT_EQ(out[7 * 32 + 0], 141.75f);  // 0.5 * 63 * 5 - 0.25 * 63
}

// Q6_K: d = 0.5; sub-block scales sc_j below (int8, both signs, the extremes 127 and -128); weight i
// has code q(i) = (i % 64 + 13 * (i / 64)) % 64 (weights i and i + 64 differ, so a swap of the ql
// nibbles shows), x = d * sc_{i / 16} * (q - 32). Packed by the layout rules of ggml's block_q6_K, for
// each half h of 128 weights and l < 32:
//   ql[64h + l]      = q(128h + l)      & 15 | (q(128h + 64 + l) & 15) << 4
//   ql[64h + 32 + l] = q(128h + 32 + l) & 15 | (q(128h + 96 + l) & 15) << 4
//   qh[32h + l]      = q(128h + l) >> 4 | q(128h + 32 + l) >> 4 << 2 | q(128h + 64 + l) >> 4 << 4
//                      | q(128h + 96 + l) >> 4 << 6
// Bytes: ql[128], qh[64], scales[16], then d.
TEST(GgufQuant, Q6_KMatchesHandComputedBlock) {
  const int sc[16] = {1, -1, 2, -2, 4, -4, 8, -8, 16, -16, 32, -32, 64, -64, 127, -128};
  auto q = [](int i) { return (i % 64 + 13 * (i / 64)) % 64; };
  std::string b(210, '\0');
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      const int w = 128 * h + l;
      b[64 * h + l] = char((q(w) & 15) | (q(w + 64) & 15) << 4);
      b[64 * h + 32 + l] = char((q(w + 32) & 15) | (q(w + 96) & 15) << 4);
      b[128 + 32 * h + l] = char(q(w) >> 4 | q(w + 32) >> 4 << 2 | q(w + 64) >> 4 << 4 | q(w + 96) >> 4 << 6);
    }
  for (int j = 0; j < 16; ++j) b[192 + j] = char(int8_t(sc[j]));
  const uint16_t d = 0x3800;  // f16 0.5
  std::memcpy(&b[208], &d, 2);
  // Weight 200 (h 1, l 8, third quarter): q(200) = 8 + 39 = 47 in the high nibble of ql[72] (beside
  // weight 136, q = 8 + 26 = 34), its top bits 2 in bits 4-5 of qh[40] (beside 136's 2 and 168's and
  // 232's 0: q(168) = (40 + 26) % 64 = 2, q(232) = (40 + 39) % 64 = 15).
  EXPECT_EQ(uint8_t(b[72]), 0xF2);
  EXPECT_EQ(uint8_t(b[128 + 40]), 0x22);
  BlockQ6_K blk;  // the accessors read and write the same layout
  std::memcpy(&blk, b.data(), sizeof blk);
  BlockQ6_K packed{};
  packed.d = d;
  for (int j = 0; j < 16; ++j) packed.scales[j] = int8_t(sc[j]);
  for (int i = 0; i < 256; ++i) {
    ASSERT_EQ(q6_k_code(blk, size_t(i)), q(i)) << i;
    q6_k_set_code(packed, size_t(i), uint8_t(q(i)));
  }
  EXPECT_EQ(std::memcmp(&packed, &blk, sizeof blk), 0);
  float out[256];
  dequantize_q6_k(b.data(), out, 256);
  for (int i = 0; i < 256; ++i) ASSERT_EQ(out[i], float(0.5 * sc[i / 16] * (q(i) - 32))) << "weight " << i;
  EXPECT_EQ(out[0], -16.0f);    // 0.5 * 1 * (0 - 32)
  EXPECT_EQ(out[70], -26.0f);   // 0.5 * 4 * (19 - 32)
  EXPECT_EQ(out[100], 68.0f);   // 0.5 * 8 * (49 - 32)
  EXPECT_EQ(out[200], 480.0f);  // 0.5 * 64 * (47 - 32)
  EXPECT_EQ(out[255], -384.0f); // 0.5 * -128 * (38 - 32)
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
  test::llama_header(g, 32, 64, 4, 2);
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

// The k-quants: ggml type number, block bytes, where the f16 scales are, and the dequantizer.
struct KQuant {
  uint32_t type;
  const char* name;
  size_t block_bytes, d_at;  // d_at: the f16 d (Q4_K: then dmin)
  void (*dequantize)(const void*, float*, size_t);
};
const KQuant kQ4_K{12, "Q4_K", 144, 0, dequantize_q4_k}, kQ6_K{14, "Q6_K", 210, 208, dequantize_q6_k};

// `rows` rows of `blocks` random blocks each: any bytes are a valid block once its scales are finite.
std::string random_blocks(const KQuant& k, int64_t rows, int64_t blocks, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out;
  for (int64_t b = 0; b < rows * blocks; ++b) {
    std::string blk(k.block_bytes, '\0');
    for (char& c : blk) c = char(rng());
    const uint16_t d = f32_to_f16(0.001f * float(1 + b % 13)), dmin = f32_to_f16(0.002f * float(b % 5));
    std::memcpy(&blk[k.d_at], &d, 2);
    if (k.type == kQ4_K.type) std::memcpy(&blk[k.d_at + 2], &dmin, 2);
    out += blk;
  }
  return out;
}

// A tiny LLaMA of hidden size 256 (4 heads of 64, 2 KV heads, ffn 512, vocab 8) whose q_proj and
// down_proj are of type `k`; `down` replaces the down_proj bytes (for truncations), `down_in` its input
// size (for a wrong shape).
test::GgufWriter k_quant_model(const KQuant& k, const std::string& q, const std::string& down, uint64_t down_in = 512) {
  test::GgufWriter g;
  test::llama_header(g, 256, 512, 4, 2);
  auto f32 = [&](const std::string& n, std::vector<uint64_t> ne) {
    g.tensor_f32(n, ne, std::vector<float>(ne.size() == 1 ? ne[0] : ne[0] * ne[1], 0.25f));
  };
  f32("token_embd.weight", {256, 8});
  f32("blk.0.attn_norm.weight", {256});
  g.tensor("blk.0.attn_q.weight", {256, 256}, k.type, q);
  f32("blk.0.attn_k.weight", {256, 128});
  f32("blk.0.attn_v.weight", {256, 128});
  f32("blk.0.attn_output.weight", {256, 256});
  f32("blk.0.ffn_norm.weight", {256});
  f32("blk.0.ffn_gate.weight", {256, 512});
  f32("blk.0.ffn_up.weight", {256, 512});
  g.tensor("blk.0.ffn_down.weight", {down_in, 256}, k.type, down);
  f32("output_norm.weight", {256});
  return g;
}

// k-quant tensors inside a GGUF: the dtype, the stored size, and load_f32 (with the Q/K un-permutation)
// giving the dequantizer's values.
void expect_loads_as_dequantized(const KQuant& k, DType dtype) {
  const std::string q = random_blocks(k, 256, 1, 7), down = random_blocks(k, 256, 2, 8);
  const std::string path = test::temp_dir("quant-k") + "/q.gguf";
  test::write_file(path, k_quant_model(k, q, down).build());
  const Checkpoint ck = Checkpoint::open(path);
  EXPECT_EQ(ck.info("model.layers.0.self_attn.q_proj.weight").dtype, dtype);
  EXPECT_EQ(ck.raw("model.layers.0.mlp.down_proj.weight").nbytes(), 256u * 2u * k.block_bytes);
  std::vector<float> stored(256 * 256);
  k.dequantize(q.data(), stored.data(), stored.size());
  const Tensor t = ck.load_f32("model.layers.0.self_attn.q_proj.weight");
  // head_dim 64: HF row head*64 + h*32 + i came from stored row head*64 + 2i + h.
  for (int64_t r = 0; r < 256; ++r) {
    const int64_t head = r / 64, j = r % 64, from = head * 64 + 2 * (j % 32) + j / 32;
    ASSERT_EQ(std::memcmp(t.f32() + r * 256, stored.data() + from * 256, 256 * 4), 0) << "row " << r;
  }
  std::vector<float> want(256 * 512);
  k.dequantize(down.data(), want.data(), want.size());
  const Tensor d = ck.load_f32("model.layers.0.mlp.down_proj.weight");
  ASSERT_EQ(d.shape(), (Shape{256, 512}));
  EXPECT_EQ(std::memcmp(d.f32(), want.data(), want.size() * 4), 0);
}

TEST(GgufQuant, Q4_KTensorsThroughCheckpoint) { expect_loads_as_dequantized(kQ4_K, DType::Q4_K); }
TEST(GgufQuant, Q6_KTensorsThroughCheckpoint) { expect_loads_as_dequantized(kQ6_K, DType::Q6_K); }

// A truncated k-quant tensor names the file, the tensor and its bytes; so does a row that does not hold
// whole super-blocks of 256, and a tensor of the wrong shape.
void expect_bad_tensors_named(const KQuant& k) {
  const std::string dir = test::temp_dir("quant-k-bad");
  const std::string full = k_quant_model(k, random_blocks(k, 256, 1, 1), random_blocks(k, 256, 2, 2)).build();
  test::write_file(dir + "/full.gguf", full);
  const GgufFile g = read_gguf(dir + "/full.gguf");
  const GgufTensor& down = g.tensors[9];
  ASSERT_EQ(down.name, "blk.0.ffn_down.weight");
  const uint64_t size = 256u * 2u * k.block_bytes;  // 2 blocks per row of 512
  ASSERT_EQ(down.nbytes, size);
  // Cut in the middle of the down_proj data: the first tensor that no longer fits is named.
  const uint64_t start = down.offset - g.data_offset, cut = down.offset + 1000;
  const std::string path = dir + "/cut.gguf";
  test::write_file(path, full.substr(0, cut));
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path); }),
            "gguf " + path + ": tensor blk.0.ffn_down.weight: bytes [" + std::to_string(start) + ", " +
                std::to_string(start + size) + ") exceed the data section of " + std::to_string(cut - g.data_offset) +
                " bytes (truncated file?)");
  auto w = test::tiny_llama_gguf();
  w.tensor("blk.0.extra.weight", {128, 2}, k.type, std::string(k.block_bytes, '\0'));
  const std::string path2 = dir + "/rows.gguf";
  test::write_file(path2, w.build());
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path2); }), "gguf " + path2 + ": tensor blk.0.extra.weight: " +
                                                                  k.name + " row length 128 is not a multiple of its block size 256");
  // down_proj declared [256 rows of 256] where the config implies [256, 512].
  const std::string path3 = dir + "/shape.gguf";
  test::write_file(path3, k_quant_model(k, random_blocks(k, 256, 1, 1), random_blocks(k, 256, 1, 2), 256).build());
  const std::string e = test::error_of([&] { Checkpoint::open(path3); });
  EXPECT_NE(e.find(path3), std::string::npos) << e;
  EXPECT_NE(e.find("down_proj.weight: expected shape [256, 512], found [256, 256]"), std::string::npos) << e;
}

TEST(GgufQuant, TruncatedOrMisshapenQ4_KIsAnError) { expect_bad_tensors_named(kQ4_K); }
TEST(GgufQuant, TruncatedOrMisshapenQ6_KIsAnError) { expect_bad_tensors_named(kQ6_K); }

}  // namespace
}  // namespace lmp
