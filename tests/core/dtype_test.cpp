#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/dtype.h"
#include "core/tensor.h"
#include "core/error.h"

using namespace lmp;

TEST(DType, F16RoundTripsEveryFiniteHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const uint16_t v = uint16_t(h);
    if (((v >> 10) & 0x1f) == 0x1f) continue;  // inf / NaN
    EXPECT_EQ(f32_to_f16(f16_to_f32(v)), v) << "half bits " << h;
  }
}

TEST(DType, F16KnownValues) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);   // tie to even: stays 1.0
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie to even: rounds up
  EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(DType, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);      // tie -> even
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);  // tie -> even (up)
}

TEST(Tensor, ReshapeChecksElementCount) {
  Tensor t = Tensor::zeros(DType::F32, {2, 3});
  EXPECT_EQ(t.reshaped({3, 2}).dim(0), 3);
  EXPECT_THROW(t.reshaped({4, 2}), Error);
  try {
    t.reshaped({4, 2});
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "tensor: cannot reshape [2, 3] to [4, 2]");
  }
}

TEST(Tensor, ViewsAreReadOnly) {
  static const float data[2] = {1, 2};
  Tensor v = Tensor::view(DType::F32, {2}, data, nullptr);
  const Tensor& cv = v;
  EXPECT_EQ(cv.f32()[1], 2.0f);
  EXPECT_THROW(v.mutable_data(), Error);
  EXPECT_THROW(v.f32(), Error);
}
