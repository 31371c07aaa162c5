// NF4: the published codebook, nearest-code thresholds, absmax blocks of 64, double quantization.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compress/quant/nf4.h"
#include "compress/quant/nf4_double_quant.h"
#include "compress/quant/quant_methods.h"
#include "core/error.h"
#include "test_util.h"

namespace lmp {
namespace {

using test::random_weight;

TEST(QuantNf4, CodebookIsThePublishedTable) {
  const std::vector<float>& v = nf4_codebook();
  ASSERT_EQ(v.size(), 16u);
  EXPECT_EQ(v[0], -1.0f);
  EXPECT_EQ(v[7], 0.0f);
  EXPECT_EQ(v[15], 1.0f);
  EXPECT_FLOAT_EQ(v[8], 0.07958029955625534f);
  for (size_t k = 0; k < 16; ++k) EXPECT_EQ(nf4_code(v[k]), k);
}

TEST(QuantNf4, NearestCodeUsesMidpoints) {
  EXPECT_EQ(nf4_code(0.0397f), 7);   // below the midpoint 0.03979
  EXPECT_EQ(nf4_code(0.0399f), 8);
  EXPECT_EQ(nf4_code(-0.99f), 0);
  EXPECT_EQ(nf4_code(0.9f), 15);
  EXPECT_EQ(nf4_code(0.8f), 14);
}

TEST(QuantNf4, AbsmaxPerBlockOf64RowMajor) {
  const Tensor w = random_weight(3, 50, 1);  // 150 weights: blocks of 64, 64, 22
  CompressedLinear c = nf4_quantize(w, 64, false);
  ASSERT_EQ(c.kind, CompressedLinear::Kind::Codebook);
  ASSERT_EQ(c.codebook->absmax.numel(), 3);
  float m = 0;
  for (int i = 64; i < 128; ++i) m = std::max(m, std::fabs(w.f32()[i]));
  EXPECT_EQ(c.codebook->absmax.f32()[1], m);
  const uint8_t* codes = static_cast<const uint8_t*>(c.codebook->codes.data());
  for (int64_t i = 0; i < w.numel(); ++i) {
    const float a = c.codebook->absmax.f32()[i / 64];
    EXPECT_EQ(c.weight.f32()[i], nf4_codebook()[codes[i]] * a);
    EXPECT_LE(std::fabs(c.weight.f32()[i] - w.f32()[i]), 0.17f * a);  // half the widest gap
    if (std::fabs(w.f32()[i]) == a) {
      EXPECT_EQ(c.weight.f32()[i], w.f32()[i]);
    }
  }
}

TEST(QuantNf4, ZeroBlockGivesZeros) {
  CompressedLinear c = nf4_quantize(Tensor::zeros(DType::F32, {1, 64}), 64, false);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(c.weight.f32()[i], 0.0f);
}

TEST(QuantNf4, DynamicMapHas256SortedValues) {
  const std::vector<float>& m = dynamic_map_signed();
  ASSERT_EQ(m.size(), 256u);
  EXPECT_TRUE(std::is_sorted(m.begin(), m.end()));
  EXPECT_EQ(m.back(), 1.0f);
  EXPECT_EQ(std::count(m.begin(), m.end(), 0.0f), 1);
  EXPECT_FLOAT_EQ(m[0], -0.99296875f);  // -(mean of the last two points of linspace(0.1, 1, 65))
  EXPECT_EQ(dynamic_map_code(m, 1.0f), 255);
  EXPECT_EQ(m[dynamic_map_code(m, 0.0f)], 0.0f);
}

TEST(QuantNf4, DoubleQuantKeepsAbsmaxClose) {
  const Tensor w = random_weight(64, 512, 2);  // 512 absmax values: 2 second-level blocks
  CompressedLinear plain = nf4_quantize(w, 64, false);
  CompressedLinear dq = nf4_quantize(w, 64, true);
  const CodebookGrid& g = *dq.codebook;
  ASSERT_TRUE(g.double_quant);
  EXPECT_EQ(g.absmax_codes.numel(), 512);
  EXPECT_EQ(g.absmax_scales.numel(), 2);
  const uint8_t* codes = static_cast<const uint8_t*>(g.absmax_codes.data());
  for (int64_t i = 0; i < 512; ++i) {
    const float a = plain.codebook->absmax.f32()[i];
    EXPECT_NEAR(g.absmax.f32()[i], a, 0.02f * a);
    EXPECT_EQ(g.absmax.f32()[i],
              g.absmax_map[codes[i]] * g.absmax_scales.f32()[i / 256] + g.absmax_offset);
  }
}

TEST(QuantNf4, FactoryRequiresFourBits) {
  MethodSpec spec;
  spec.bits = 3;
  EXPECT_THROW(make_nf4_method(spec), Error);
  spec.bits = 4;
  auto m = make_nf4_method(spec);
  EXPECT_EQ(m->name(), "nf4");
}

}  // namespace
}  // namespace lmp
