// GPTQ checkpoint packing: a hand-computed 4-bit / 8-bit layout, exact round trips, and the dequantized
// weight of the unpacked grid equals what the method produced (f16 scales), bit for bit.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "compress/quant/gptq.h"
#include "compress/quant/quant_grid.h"
#include "compress/quant/rtn.h"
#include "core/dtype.h"
#include "core/error.h"
#include "export/gptq_pack.h"
#include "test_util.h"

namespace lmp {
namespace {

using test::random_weight;

bool bit_equal(const Tensor& a, const Tensor& b) { return test::bit_identical(a, b); }

// A grid [out, in] with codes (j + r) mod 2^bits, zero r mod 2^bits + 1, scale 0.5.
QuantGrid hand_grid(int bits, int64_t out, int64_t in) {
  QuantGrid g = make_quant_grid(out, in, bits, -1, false);
  const int levels = 1 << bits;
  uint8_t* c = static_cast<uint8_t*>(g.codes.mutable_data());
  for (int64_t r = 0; r < out; ++r) {
    for (int64_t j = 0; j < in; ++j) c[r * in + j] = uint8_t((j + r) % levels);
    set_grid_params(g, r, 0, {0.5f, float((r % (levels - 1)) + 1)});
  }
  return g;
}

TEST(GptqPack, HandComputedFourBitLayout) {
  const GptqPacked p = gptq_pack("w", hand_grid(4, 8, 8));
  ASSERT_EQ(p.qweight.shape(), Shape({1, 8}));
  const int32_t* qw = static_cast<const int32_t*>(p.qweight.data());
  EXPECT_EQ(uint32_t(qw[0]), 0x76543210u);  // input rows 0..7 of output 0, low nibble first
  EXPECT_EQ(uint32_t(qw[1]), 0x87654321u);
  ASSERT_EQ(p.qzeros.shape(), Shape({1, 1}));
  EXPECT_EQ(uint32_t(static_cast<const int32_t*>(p.qzeros.data())[0]), 0x76543210u);  // zero − 1
  ASSERT_EQ(p.scales.shape(), Shape({1, 8}));
  EXPECT_EQ(static_cast<const uint16_t*>(p.scales.data())[3], 0x3800);  // f16 0.5
  EXPECT_EQ(p.g_idx.shape(), Shape({8}));
}

TEST(GptqPack, HandComputedEightBitLayout) {
  const GptqPacked p = gptq_pack("w", hand_grid(8, 4, 8));
  ASSERT_EQ(p.qweight.shape(), Shape({2, 4}));
  const int32_t* qw = static_cast<const int32_t*>(p.qweight.data());
  EXPECT_EQ(uint32_t(qw[0]), 0x03020100u);
  EXPECT_EQ(uint32_t(qw[4]), 0x07060504u);
  EXPECT_EQ(uint32_t(qw[1]), 0x04030201u);
  EXPECT_EQ(uint32_t(static_cast<const int32_t*>(p.qzeros.data())[0]), 0x03020100u);
}

void expect_same_grid(const QuantGrid& a, const QuantGrid& b) {
  EXPECT_TRUE(bit_equal(a.codes, b.codes));
  EXPECT_TRUE(bit_equal(a.scales, b.scales));
  EXPECT_TRUE(bit_equal(a.zeros, b.zeros));
  EXPECT_EQ(a.g_idx, b.g_idx);
}

TEST(GptqPack, RoundTripIsExactIncludingZeroZero) {
  for (int bits : {2, 4, 8}) {
    Tensor w = random_weight(16, 64, uint32_t(bits));
    for (int64_t j = 0; j < 64; ++j) w.f32()[j] = std::fabs(w.f32()[j]);  // row 0 >= 0: zero 0
    const CompressedLinear c = rtn_quantize(w, {bits, false, true}, 32);
    EXPECT_GT(gptq_zero_underflows(*c.quant), 0);
    const QuantGrid back = gptq_unpack("w", gptq_pack("w", *c.quant), false);
    expect_same_grid(*c.quant, back);
    EXPECT_TRUE(bit_equal(dequantize_grid(back), c.weight));
  }
}

TEST(GptqPack, ActOrderGptqUnpacksToTheMethodsWeight) {
  const int64_t in = 128, out = 16;
  LinearStats s(in, kStatHessian);
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(size_t(64 * in));
  for (int64_t i = 0; i < int64_t(x.size()); ++i) x[size_t(i)] = n(rng) * float(1 + i % 5);
  s.accumulate(x.data(), 64);
  GptqOptions o;
  o.cfg = {4, false, true};
  o.group = 32;
  o.act_order = true;
  const CompressedLinear c = gptq_quantize("w", random_weight(out, in, 6), s, o);
  const GptqPacked p = gptq_pack("w", *c.quant);
  const QuantGrid back = gptq_unpack("w", p, false);
  expect_same_grid(*c.quant, back);
  EXPECT_TRUE(g_idx_is_permuted(back));
  EXPECT_TRUE(bit_equal(dequantize_grid(back), c.weight));
}

TEST(GptqPack, RejectsShapesAndScalesTheFormatCannotHold) {
  EXPECT_THROW(gptq_pack("w", rtn_quantize(random_weight(8, 12, 1), {4, false, true}, -1).quant.value()),
               Error);
  try {
    gptq_pack("layers.0.mlp.down_proj.weight", hand_grid(3, 32, 32));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "gptq_pack: layers.0.mlp.down_proj.weight: bits must be 2, 4 or 8 for the GPTQ format, found 3");
  }
  // f32 scales that are not f16 values
  EXPECT_THROW(gptq_pack("w", rtn_quantize(random_weight(8, 16, 2), {4, false}, -1).quant.value()), Error);
}

}  // namespace
}  // namespace lmp
