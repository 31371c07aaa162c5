// FP8 E4M3 (core/fp8.h): every code decodes to the OCP formula and round-trips; encoding matches a
// nearest-value reference (ties to even) over dense sweeps, saturates at 448, never produces a NaN code.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/fp8.h"

using namespace lmp;

namespace {

static_assert(fp8_e4m3_encode(1.0f) == 0x38 && fp8_e4m3_encode(-448.0f) == 0xFE);
static_assert(fp8_e4m3_round(1.0f / 1024.0f) == 0.0f);  // tie between 0 and 2^-9 goes to 0 (even)

// The value of code c by the OCP formula, computed in double.
double formula(int c) {
  const int s = c >> 7, e = (c >> 3) & 15, m = c & 7;
  const double mag = e == 0 ? m * std::ldexp(1.0, -9) : (1.0 + m / 8.0) * std::ldexp(1.0, e - 7);
  return s ? -mag : mag;
}

// The 127 non-negative finite values, ascending (index = code).
std::vector<double> positive_values() {
  std::vector<double> v;
  for (int c = 0; c <= 0x7E; ++c) v.push_back(formula(c));
  return v;
}

// Reference encoder for x ≥ 0 given idx with v[idx] ≤ min(x, 448) < v[idx + 1]: nearest, ties to the even
// code, saturating.
int nearest_code(const std::vector<double>& v, size_t idx, double x) {
  if (x >= 448.0) return 0x7E;
  const double lo = x - v[idx], hi = v[idx + 1] - x;
  if (lo < hi) return int(idx);
  if (hi < lo) return int(idx + 1);
  return (idx % 2 == 0) ? int(idx) : int(idx + 1);
}

// Checks every float in [lo, hi) (positive, ascending) against the reference, and its negation.
void sweep_all_floats(float lo, float hi) {
  const std::vector<double> v = positive_values();
  size_t idx = 0;
  int64_t bad = 0;
  for (uint32_t b = std::bit_cast<uint32_t>(lo); b < std::bit_cast<uint32_t>(hi); ++b) {
    const float x = std::bit_cast<float>(b);
    while (idx + 1 < v.size() && v[idx + 1] <= x) ++idx;
    const int want = nearest_code(v, std::min<size_t>(idx, v.size() - 2), x);
    const uint8_t got = fp8_e4m3_encode(x), neg = fp8_e4m3_encode(-x);
    if (got != want || neg != (want | 0x80) || fp8_e4m3_round(x) != float(v[size_t(want)])) {
      if (bad++ < 5) ADD_FAILURE() << "x = " << x << " (bits " << std::hex << b << "): got " << int(got)
                                   << ", -x got " << int(neg) << ", want " << want;
    }
  }
  EXPECT_EQ(bad, 0);
}

}  // namespace

TEST(Fp8, DecodeMatchesTheOcpFormulaForAll256Codes) {
  for (int c = 0; c < 256; ++c) {
    const float d = fp8_e4m3_decode(uint8_t(c));
    if ((c & 0x7F) == 0x7F) {
      EXPECT_TRUE(std::isnan(d)) << c;
      continue;
    }
    EXPECT_EQ(double(d), formula(c)) << "code " << c;
    EXPECT_EQ(fp8_e4m3_decode_bits(uint8_t(c)), d);
  }
  EXPECT_EQ(fp8_e4m3_decode(0x7E), 448.0f);
  EXPECT_EQ(fp8_e4m3_decode(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(fp8_e4m3_decode(0x08), std::ldexp(1.0f, -6));
}

TEST(Fp8, EveryNonNanCodeRoundTrips) {
  for (int c = 0; c < 256; ++c) {
    if ((c & 0x7F) == 0x7F) continue;
    const float d = fp8_e4m3_decode(uint8_t(c));
    EXPECT_EQ(fp8_e4m3_encode(d), c) << "code " << c;
    EXPECT_EQ(fp8_e4m3_decode(fp8_e4m3_encode(d)), d);
    EXPECT_EQ(fp8_e4m3_round(d), d);
  }
}

TEST(Fp8, SignedZeroNanAndInfinity) {
  EXPECT_EQ(fp8_e4m3_encode(0.0f), 0x00);
  EXPECT_EQ(fp8_e4m3_encode(-0.0f), 0x80);
  EXPECT_TRUE(std::signbit(fp8_e4m3_decode(0x80)));
  EXPECT_EQ(fp8_e4m3_decode(0x80), 0.0f);
  EXPECT_TRUE(std::signbit(fp8_e4m3_round(-1e-30f)));
  EXPECT_EQ(fp8_e4m3_encode(-1e-30f), 0x80);
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(std::isnan(fp8_e4m3_decode(0x7F)));
  EXPECT_TRUE(std::isnan(fp8_e4m3_decode(0xFF)));
  EXPECT_EQ(fp8_e4m3_encode(nan), 0x00);
  EXPECT_EQ(fp8_e4m3_encode(-nan), 0x00);
  EXPECT_EQ(std::bit_cast<uint32_t>(fp8_e4m3_round(-nan)), 0u);
  uint8_t code = 0x55;
  EXPECT_FALSE(fp8_e4m3_try_encode(nan, code));
  EXPECT_EQ(code, 0x55);
  EXPECT_TRUE(fp8_e4m3_try_encode(3.0f, code));
  EXPECT_EQ(code, 0x44);
  EXPECT_EQ(fp8_e4m3_encode(inf), 0x7E);
  EXPECT_EQ(fp8_e4m3_encode(-inf), 0xFE);
}

TEST(Fp8, SaturatesAbove448) {
  for (float x : {448.0f, 448.5f, 449.0f, 463.99f, 464.0f, 464.01f, 480.0f, 1e6f, 3e38f,
                  std::numeric_limits<float>::max()}) {
    EXPECT_EQ(fp8_e4m3_encode(x), 0x7E) << x;
    EXPECT_EQ(fp8_e4m3_encode(-x), 0xFE) << x;
    EXPECT_EQ(fp8_e4m3_round(x), 448.0f) << x;
  }
  EXPECT_EQ(fp8_e4m3_encode(432.0f), 0x7E);                      // tie 416 | 448 → 448 (even mantissa 110)
  EXPECT_EQ(fp8_e4m3_encode(std::nextafter(432.0f, 0.0f)), 0x7D);  // just below: 416
}

TEST(Fp8, EveryMidpointTiesToEvenAndItsNeighboursRoundToTheirSide) {
  const std::vector<double> v = positive_values();
  for (size_t k = 0; k + 1 < v.size(); ++k) {
    const float m = float((v[k] + v[k + 1]) / 2);  // exact: at most 5 significant bits
    ASSERT_EQ(double(m), (v[k] + v[k + 1]) / 2);
    const int even = (k % 2 == 0) ? int(k) : int(k + 1);
    EXPECT_EQ(fp8_e4m3_encode(m), even) << "midpoint of codes " << k << ", " << k + 1;
    EXPECT_EQ(fp8_e4m3_encode(-m), even | 0x80);
    EXPECT_EQ(fp8_e4m3_encode(std::nextafter(m, 0.0f)), int(k)) << k;
    EXPECT_EQ(fp8_e4m3_encode(std::nextafter(m, 1e9f)), int(k + 1)) << k;
  }
}

TEST(Fp8, SubnormalBoundaries) {
  const float q = std::ldexp(1.0f, -9);  // the subnormal step
  EXPECT_EQ(fp8_e4m3_encode(q / 2), 0x00);                               // tie 0 | 1 → 0
  EXPECT_EQ(fp8_e4m3_encode(std::nextafter(q / 2, 1.0f)), 0x01);
  EXPECT_EQ(fp8_e4m3_encode(1.5f * q), 0x02);                            // tie 1 | 2 → 2
  EXPECT_EQ(fp8_e4m3_encode(2.5f * q), 0x02);                            // tie 2 | 3 → 2
  EXPECT_EQ(fp8_e4m3_encode(7.5f * q), 0x08);                            // tie 7 | 2^-6 → 8
  EXPECT_EQ(fp8_e4m3_encode(std::nextafter(7.5f * q, 0.0f)), 0x07);
  EXPECT_EQ(fp8_e4m3_encode(std::ldexp(1.0f, -6)), 0x08);
  EXPECT_EQ(fp8_e4m3_encode(1e-30f), 0x00);
  EXPECT_EQ(fp8_e4m3_encode(std::numeric_limits<float>::denorm_min()), 0x00);
  EXPECT_EQ(fp8_e4m3_encode(-std::numeric_limits<float>::denorm_min()), 0x80);
}

TEST(Fp8, EveryFloatAroundTheSubnormalAndSaturationRangesMatchesTheReference) {
  sweep_all_floats(std::ldexp(1.0f, -12), std::ldexp(1.0f, -4));  // zero .. subnormal .. normal
  sweep_all_floats(128.0f, 1024.0f);                                // top octaves and saturation
}

TEST(Fp8, StridedSweepOfAllFloatsMatchesTheReference) {
  // Every 64th float from 0 to 2^20 (strides keep the low mantissa bits varied), plus ±1, ±2 ulp of each.
  const std::vector<double> v = positive_values();
  size_t idx = 0;
  int64_t bad = 0;
  for (uint32_t b = 0; b < std::bit_cast<uint32_t>(1048576.0f); b += 61) {
    const float x = std::bit_cast<float>(b);
    while (idx + 1 < v.size() && v[idx + 1] <= x) ++idx;
    const int want = nearest_code(v, std::min<size_t>(idx, v.size() - 2), x);
    if (fp8_e4m3_encode(x) != want && bad++ < 5) ADD_FAILURE() << "x = " << x << " want " << want;
  }
  EXPECT_EQ(bad, 0);
}

TEST(Fp8, RoundIsDecodeOfEncodeAndNoNanCodeOverAllBitPatterns) {
  int64_t bad = 0;
  for (uint64_t b = 0; b <= 0xFFFFFFFFull; b += 251) {
    const float x = std::bit_cast<float>(uint32_t(b));
    const uint8_t c = fp8_e4m3_encode(x);
    const float r = fp8_e4m3_round(x), d = fp8_e4m3_decode(c);
    if ((c & 0x7F) == 0x7F || std::bit_cast<uint32_t>(r) != std::bit_cast<uint32_t>(d)) {
      if (bad++ < 5) ADD_FAILURE() << "bits " << std::hex << b << ": code " << int(c) << ", round " << r;
    }
  }
  EXPECT_EQ(bad, 0);
}
