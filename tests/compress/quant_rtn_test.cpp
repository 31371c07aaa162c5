// RTN with GPTQ's quantizer: hand-computed grids, rounding half to even, partial groups, f16 scales.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "compress/quant/quant_grid.h"
#include "compress/quant/quant_methods.h"
#include "compress/quant/quantizer.h"
#include "compress/quant/rtn.h"
#include "core/dtype.h"
#include "core/error.h"
#include "test_util.h"

namespace lmp {
namespace {

using test::random_weight;

bool bit_equal(const Tensor& a, const Tensor& b) { return test::bit_identical(a, b); }

TEST(QuantRtn, HandComputedAsymmetricGridRoundsHalfToEven) {
  // min -1, max 2, 2 bits: scale = 3/3 = 1, zero = round(1) = 1; 0.5 / 1 = 0.5 rounds to 0 (even).
  CompressedLinear c = rtn_quantize(Tensor::from_f32({1, 4}, {-1.0f, 0.5f, 2.0f, 0.0f}), {2, false}, -1);
  const uint8_t* q = static_cast<const uint8_t*>(c.quant->codes.data());
  EXPECT_EQ(std::vector<int>(q, q + 4), (std::vector<int>{0, 1, 3, 1}));
  EXPECT_EQ(c.quant->scales.f32()[0], 1.0f);
  EXPECT_EQ(c.quant->zeros.f32()[0], 1.0f);
  EXPECT_EQ(std::vector<float>(c.weight.f32(), c.weight.f32() + 4), (std::vector<float>{-1, 0, 2, 0}));
}

TEST(QuantRtn, RangeIncludesZeroAndAllZeroRowUsesUnitRange) {
  // All positive: min is forced to 0 -> zero = 0. All zero: [-1, 1] -> scale 2/3, zero round(1.5) = 2.
  CompressedLinear c = rtn_quantize(Tensor::from_f32({2, 2}, {1.0f, 3.0f, 0.0f, 0.0f}), {2, false}, -1);
  EXPECT_EQ(c.quant->zeros.f32()[0], 0.0f);
  EXPECT_EQ(c.quant->scales.f32()[0], 1.0f);
  EXPECT_EQ(c.quant->scales.f32()[1], 2.0f / 3.0f);
  EXPECT_EQ(c.quant->zeros.f32()[1], 2.0f);
  EXPECT_EQ(c.weight.f32()[2], 0.0f);
  EXPECT_EQ(c.weight.f32()[3], 0.0f);
}

TEST(QuantRtn, SymmetricGridUsesMidpointZero) {
  CompressedLinear c = rtn_quantize(Tensor::from_f32({1, 2}, {-2.0f, 1.0f}), {4, true}, -1);
  EXPECT_EQ(c.quant->scales.f32()[0], 4.0f / 15.0f);
  EXPECT_EQ(c.quant->zeros.f32()[0], 8.0f);
}

TEST(QuantRtn, PartialLastGroupAndGroupIndex) {
  const Tensor w = random_weight(3, 704, 1);  // lm-s down_proj: 704 = 5 x 128 + 64
  CompressedLinear c = rtn_quantize(w, {4, false}, 128);
  ASSERT_EQ(c.quant->n_groups(), 6);
  EXPECT_EQ(c.quant->g_idx[703], 5);
  EXPECT_EQ(c.quant->g_idx[640], 5);
  EXPECT_EQ(c.quant->g_idx[639], 4);
  for (int64_t r = 0; r < 3; ++r) {
    const QuantParams p = find_params(w.f32() + r * 704 + 640, 64, 1, {4, false});
    EXPECT_EQ(grid_params(*c.quant, r, 5).scale, p.scale);
    EXPECT_EQ(grid_params(*c.quant, r, 5).zero, p.zero);
  }
  EXPECT_FALSE(g_idx_is_permuted(*c.quant));
  EXPECT_TRUE(bit_equal(dequantize_grid(*c.quant), c.weight));
}

TEST(QuantRtn, ErrorIsWithinHalfAStep) {
  const Tensor w = random_weight(8, 256, 2);
  CompressedLinear c = rtn_quantize(w, {3, false}, 64);
  for (int64_t i = 0; i < w.numel(); ++i) {
    const int64_t r = i / 256, g = (i % 256) / 64;
    EXPECT_LE(std::fabs(w.f32()[i] - c.weight.f32()[i]), 0.5f * grid_params(*c.quant, r, g).scale * 1.0001f);
  }
}

TEST(QuantRtn, F16ScalesAreExactAndReproduceTheWeight) {
  const Tensor w = random_weight(4, 96, 3);
  CompressedLinear c = rtn_quantize(w, {4, false, true}, 32);
  for (int64_t i = 0; i < c.quant->scales.numel(); ++i) {
    const float s = c.quant->scales.f32()[i];
    EXPECT_EQ(f16_to_f32(f32_to_f16(s)), s);
  }
  EXPECT_TRUE(bit_equal(dequantize_grid(*c.quant), c.weight));
}

TEST(QuantRtn, MethodMatchesFreeFunction) {
  MethodSpec spec;
  spec.bits = 3;
  spec.group = 32;
  auto m = make_rtn_method(spec);
  EXPECT_EQ(m->name(), "rtn");
  EXPECT_EQ(m->needs(), uint32_t(kStatNone));
  const Tensor w = random_weight(4, 64, 4);
  CompressedLinear c = m->compress("layers.0.q_proj.weight", w, LinearStats());
  EXPECT_EQ(c.kind, CompressedLinear::Kind::Quantized);
  EXPECT_TRUE(bit_equal(c.weight, rtn_quantize(w, {3, false}, 32).weight));
}

TEST(QuantRtn, FactoryRejectsBadSpecsWithOneLine) {
  MethodSpec spec;
  spec.bits = 9;
  try {
    make_rtn_method(spec);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "rtn: --bits must be in [2, 8], found 9");
  }
  spec.bits = 4;
  spec.group = 0;
  EXPECT_THROW(make_rtn_method(spec), Error);
  spec.group = -1;
  EXPECT_NO_THROW(make_rtn_method(spec));
}

TEST(QuantRtn, RejectsNonFiniteWeightNamingTheTensor) {
  auto m = make_rtn_method(MethodSpec());
  Tensor w = Tensor::from_f32({1, 2}, {1.0f, NAN});
  try {
    m->compress("layers.3.mlp.down_proj.weight", w, LinearStats());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layers.3.mlp.down_proj.weight"), std::string::npos);
  }
}

}  // namespace
}  // namespace lmp
