// GGUF container writer and the Q8_0 / Q4_0 / Q4_K / Q6_K reference quantizers: files read back by the
// GGUF reader, blocks compared with blocks computed by hand from the public block layout; Q4_K and Q6_K
// checked by the properties their methods guarantee (nearest codes for the stored scales, exact on
// blocks they can represent, a lower error than the coarser type; Q6_K: the sign of d, zeros, extremes).
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/dtype.h"
#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_quantize.h"
#include "io/gguf_quantize_k.h"
#include "io/gguf_writer.h"
#include "test_util.h"

using namespace lmp;
namespace fs = std::filesystem;

static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_K) == 144 && sizeof(BlockQ6_K) == 210,
              "ggml block layouts");

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

namespace {

// Super-blocks of test data: Gaussian weights, all positive (min 0), all negative, sub-blocks of
// magnitudes 1e-4 .. 1e3 (small scales round to 0 of 6 bits), an outlier, zeros and a negative constant.
std::vector<float> k_quant_test_data(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::uniform_real_distribution<float> unit(0.1f, 1.0f);
  std::vector<float> x(256 * 7);
  for (size_t i = 0; i < 256; ++i) x[i] = normal(rng);
  for (size_t i = 256; i < 512; ++i) x[i] = unit(rng);
  for (size_t i = 512; i < 768; ++i) x[i] = -unit(rng);
  for (size_t i = 768; i < 1024; ++i) x[i] = normal(rng) * std::pow(10.0f, float((i - 768) / 32) - 4.0f);
  for (size_t i = 1024; i < 1280; ++i) x[i] = normal(rng);
  x[1100] = 1.5f;
  std::fill(x.begin() + 1280, x.begin() + 1536, 0.0f);
  std::fill(x.begin() + 1536, x.end(), -0.75f);
  return x;
}

}  // namespace

TEST(GgufQuantize, Q4_KCodesAreTheNearestLevelsOfTheStoredScales) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const std::vector<float> x = k_quant_test_data(seed);
    std::vector<BlockQ4_K> b(x.size() / 256);
    quantize_q4_k(x.data(), b.data(), x.size());
    std::vector<float> y(x.size());
    dequantize_q4_k(b.data(), y.data(), y.size());
    for (size_t k = 0; k < b.size(); ++k) {
      const float d = f16_to_f32(b[k].d), dmin = f16_to_f32(b[k].dmin);
      int max_sc = 0, max_m = 0;
      for (size_t j = 0; j < 8; ++j) {
        uint8_t sc, m;
        q4_k_scale_min(b[k].scales, j, sc, m);
        max_sc = std::max<int>(max_sc, sc);
        max_m = std::max<int>(max_m, m);
        const float dl = d * float(sc), ml = dmin * float(m);
        for (size_t l = 0; l < 32; ++l) {
          const size_t i = k * 256 + j * 32 + l;
          float nearest = INFINITY;
          for (int q = 0; q < 16; ++q) nearest = std::min(nearest, std::fabs(x[i] - (dl * float(q) - ml)));
          ASSERT_LE(std::fabs(x[i] - y[i]), nearest + 1e-6f * (dl + std::fabs(x[i])))
              << "seed " << seed << " block " << k << " sub-block " << j << " weight " << l;
        }
      }
      // d and dmin are the largest scale and min over 63: their sub-blocks store the full 6 bits.
      EXPECT_EQ(max_sc, d > 0.0f ? 63 : 0) << "block " << k;
      EXPECT_EQ(max_m, dmin > 0.0f ? 63 : 0) << "block " << k;
    }
    for (size_t i = 1280; i < 1536; ++i) ASSERT_EQ(y[i], 0.0f);
    EXPECT_NEAR(y[1600], -0.75f, 0.75f / 1024);  // a constant: the min alone, at f16 precision
  }
}

namespace {

// x through a reference quantizer of blocks of `elems` weights and back; the blocks in `b`.
template <typename Block>
std::vector<float> round_trip(const std::vector<float>& x, size_t elems, void (*quantize)(const float*, Block*, size_t),
                              void (*dequantize)(const void*, float*, size_t), std::vector<Block>& b) {
  b.resize(x.size() / elems);
  quantize(x.data(), b.data(), x.size());
  std::vector<float> y(x.size());
  dequantize(b.data(), y.data(), y.size());
  return y;
}

template <typename Block>
double rms_error(const std::vector<float>& x, size_t elems, void (*quantize)(const float*, Block*, size_t),
                 void (*dequantize)(const void*, float*, size_t)) {
  std::vector<Block> b;
  const std::vector<float> y = round_trip(x, elems, quantize, dequantize, b);
  double e = 0;
  for (size_t i = 0; i < x.size(); ++i) e += double(x[i] - y[i]) * double(x[i] - y[i]);
  return std::sqrt(e / double(x.size()));
}

// quantize(dequantize(b)) == b, byte for byte, for a super-block b.
template <typename Block>
bool reproduces(const Block& b, void (*quantize)(const float*, Block*, size_t), void (*dequantize)(const void*, float*, size_t)) {
  float x[256];
  dequantize(&b, x, 256);
  Block again;
  quantize(x, &again, 256);
  return std::memcmp(&again, &b, sizeof b) == 0;
}

std::vector<float> gaussian_weights() {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> x(64 * 4096);
  for (float& v : x) v = normal(rng);
  return x;
}

}  // namespace

// On Gaussian weights Q4_K beats Q4_0, and Q6_K's error is a fraction of Q4_K's (two more bits: about a
// quarter).
TEST(GgufQuantize, KQuantErrorsOnGaussianWeights) {
  const std::vector<float> x = gaussian_weights();
  const double rms_0 = rms_error(x, 32, quantize_q4_0, dequantize_q4_0), rms_k = rms_error(x, 256, quantize_q4_k, dequantize_q4_k),
               rms_6 = rms_error(x, 256, quantize_q6_k, dequantize_q6_k);
  std::printf("RMS error on N(0, 0.02): Q4_0 %.6g, Q4_K %.6g, Q6_K %.6g\n", rms_0, rms_k, rms_6);
  EXPECT_LT(rms_k, 0.9 * rms_0);
  EXPECT_LT(rms_k, 0.08 * 0.02);
  EXPECT_LT(rms_6, 0.3 * rms_k);
  EXPECT_LT(rms_6, 0.02 * 0.02);
}

// A block Q4_K represents exactly (the largest scale and min are 63, every sub-block uses codes 0 and
// 15, so its range is found exactly) comes back byte for byte from quantize(dequantize(block)).
TEST(GgufQuantize, Q4_KReproducesABlockItCanRepresent) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    BlockQ4_K b{};
    b.d = f32_to_f16(0.001f * float(1 + rng() % 50));
    b.dmin = f32_to_f16(0.0005f * float(1 + rng() % 50));
    for (size_t j = 0; j < 8; ++j) {
      const uint8_t sc = j == size_t(trial % 8) ? 63 : uint8_t(1 + rng() % 63);
      const uint8_t m = j == size_t(7 - trial % 8) ? 63 : uint8_t(rng() % 64);
      q4_k_set_scale_min(b.scales, j, sc, m);
    }
    uint8_t L[256];
    for (size_t i = 0; i < 256; ++i) L[i] = i % 32 == 0 ? 0 : i % 32 == 1 ? 15 : uint8_t(rng() % 16);
    for (size_t i = 0; i < 128; ++i) b.qs[i] = uint8_t(L[(i / 32) * 64 + i % 32] | (L[(i / 32) * 64 + 32 + i % 32] << 4));
    ASSERT_TRUE(reproduces(b, quantize_q4_k, dequantize_q4_k)) << "trial " << trial;
  }
  EXPECT_EQ(test::error_of([] { BlockQ4_K b; quantize_q4_k(nullptr, &b, 128); }),
            "quantize_q4_k: size must be a multiple of 256, found 128");
}

namespace {

// x quantized to Q6_K and dequantized; the blocks in `b`.
std::vector<float> q6_k_round_trip(const std::vector<float>& x, std::vector<BlockQ6_K>& b) {
  return round_trip(x, 256, quantize_q6_k, dequantize_q6_k, b);
}

}  // namespace

// Each weight decodes to the level of its sub-block nearest to it (levels d·sc·l, l in −32..31); the
// sub-block of the largest scale stores −128; a zero super-block is stored as zeros.
TEST(GgufQuantize, Q6_KCodesAreTheNearestLevelsOfTheStoredScales) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const std::vector<float> x = k_quant_test_data(seed);
    std::vector<BlockQ6_K> b;
    const std::vector<float> y = q6_k_round_trip(x, b);
    for (size_t k = 0; k < b.size(); ++k) {
      const float d = f16_to_f32(b[k].d);
      int min_sc = 0;
      for (size_t j = 0; j < 16; ++j) {
        min_sc = std::min<int>(min_sc, b[k].scales[j]);
        const float dl = d * float(b[k].scales[j]);
        for (size_t l = 0; l < 16; ++l) {
          const size_t i = k * 256 + j * 16 + l;
          float nearest = INFINITY;
          for (int q = -32; q < 32; ++q) nearest = std::min(nearest, std::fabs(x[i] - dl * float(q)));
          ASSERT_LE(std::fabs(x[i] - y[i]), nearest + 1e-6f * (std::fabs(dl) + std::fabs(x[i])))
              << "seed " << seed << " block " << k << " sub-block " << j << " weight " << l;
        }
      }
      EXPECT_EQ(min_sc, d != 0.0f ? -128 : 0) << "block " << k;
    }
    BlockQ6_K zero{};
    EXPECT_EQ(std::memcmp(&b[5], &zero, sizeof zero), 0);  // x[1280..1535] = 0
    EXPECT_NEAR(y[1600], -0.75f, 0.75f / 1024);           // a constant: l = −32 at f16 precision
  }
}

// d takes the sign of the value of largest magnitude (coded l = −32 under the scale −128): −x gives the
// same scales and codes with d negated, bit for bit.
TEST(GgufQuantize, Q6_KScaleSignFollowsTheLargestValue) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> x(256);
  for (float& v : x) v = unit(rng);
  x[37] = 2.0f;
  std::vector<float> neg(x.size());
  for (size_t i = 0; i < x.size(); ++i) neg[i] = -x[i];
  std::vector<BlockQ6_K> p, n;
  const std::vector<float> yp = q6_k_round_trip(x, p), yn = q6_k_round_trip(neg, n);
  EXPECT_GT(f16_to_f32(p[0].d), 0.0f);
  EXPECT_EQ(p[0].scales[37 / 16], -128);
  EXPECT_EQ(q6_k_code(p[0], 37), 0);  // l = −32
  EXPECT_NEAR(yp[37], 2.0f, 2.0f / 64);  // within half a step of 2 / 32
  EXPECT_EQ(n[0].d, p[0].d ^ 0x8000);
  EXPECT_EQ(std::memcmp(&n[0], &p[0], offsetof(BlockQ6_K, d)), 0);
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(yn[i], -yp[i]) << i;
}

// Extremes: values below ggml's 1e-15 threshold are zeros; magnitudes up to 1e8 (d ≈ 1e8 / 4096, near
// the f16 maximum) stay within half a step of the largest scale; an outlier 1e6 times its super-block
// gets the scale −128 and every other weight decodes to 0 (its sub-block's scale rounds to 0 of 8 bits,
// or its value to code 0 of the outlier's).
TEST(GgufQuantize, Q6_KExtremeValues) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(256 * 3);
  for (size_t i = 0; i < 256; ++i) x[i] = 1e-16f * normal(rng);
  for (size_t i = 256; i < 512; ++i) x[i] = 2.5e7f * normal(rng);
  x[300] = 1e8f;
  for (size_t i = 512; i < 768; ++i) x[i] = 0.01f * normal(rng);
  x[700] = 1e4f;
  std::vector<BlockQ6_K> b;
  const std::vector<float> y = q6_k_round_trip(x, b);
  BlockQ6_K zero{};
  EXPECT_EQ(std::memcmp(&b[0], &zero, sizeof zero), 0);
  EXPECT_TRUE(std::isfinite(f16_to_f32(b[1].d)));
  for (size_t i = 256; i < 512; ++i) ASSERT_NEAR(y[i], x[i], 1e8f / 32 / 2 * 1.01f) << i;
  EXPECT_EQ(b[2].scales[(700 - 512) / 16], -128);
  EXPECT_NEAR(y[700], 1e4f, 1e4f / 256);
  for (size_t i = 512; i < 768; ++i) {
    if (i != 700) {
      ASSERT_EQ(y[i], 0.0f) << i;
    }
  }
}

// A block Q6_K represents exactly (no zero scale, one scale −128, every sub-block uses l = −32 for its
// largest magnitude) comes back byte for byte from quantize(dequantize(block)).
TEST(GgufQuantize, Q6_KReproducesABlockItCanRepresent) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    BlockQ6_K b{};
    b.d = f32_to_f16((trial % 2 ? -1.0f : 1.0f) * 0.0001f * float(1 + rng() % 50));
    for (size_t j = 0; j < 16; ++j) {
      const int sc = j == size_t(trial % 16) ? -128 : int(rng() % 255) - 127;
      b.scales[j] = int8_t(sc == 0 ? 1 : sc);
    }
    for (size_t i = 0; i < 256; ++i) q6_k_set_code(b, i, i % 16 == size_t(trial) % 16 ? 0 : uint8_t(1 + rng() % 63));
    ASSERT_TRUE(reproduces(b, quantize_q6_k, dequantize_q6_k)) << "trial " << trial;
  }
  EXPECT_EQ(test::error_of([] { BlockQ6_K b; quantize_q6_k(nullptr, &b, 100); }),
            "quantize_q6_k: size must be a multiple of 256, found 100");
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
    EXPECT_EQ(test::error_of([&] { w.add_tensor("k", {2, 288}, GgmlType::Q4_K); }),
              "gguf writer: Q4_K needs rows of a multiple of 256 elements, found 288");
    EXPECT_EQ(test::error_of([&] { w.add_tensor("k6", {2, 320}, GgmlType::Q6_K); }),
              "gguf writer: Q6_K needs rows of a multiple of 256 elements, found 320");
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
