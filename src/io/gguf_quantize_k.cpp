// Q4_K and Q6_K reference quantization (see gguf_quantize_k.h for the methods and their source).
#include "io/gguf_quantize_k.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "core/error.h"

namespace lmp {

namespace {

constexpr int kMaxCode = 15, kMaxScale = 63;
constexpr size_t kSub = kQuantBlock;                         // weights per sub-block
constexpr float kRMin = -1.0f, kRDelta = 0.1f;               // search: inverse scales (15 + rmin + rdelta·k)/range
constexpr int kSteps = 20;                                   // k = 0 .. 20

// round(v) clamped to [lo, hi] (lo <= 0), half to even as ggml's nearest_int; NaN gives 0.
int nearest_in(float v, int lo, int hi) {
  if (std::isnan(v)) return 0;
  if (v <= float(lo)) return lo;
  if (v >= float(hi)) return hi;
  return int(std::nearbyint(v));
}

int code_of(float v, int nmax) { return nearest_in(v, 0, nmax); }

// x ≈ scale·q − min for the codes q of one sub-block.
struct SubFit {
  float scale = 0.0f, min = 0.0f;
};

float weighted_error(const float* x, const float* w, const uint8_t* q, float scale, float offset) {
  float err = 0.0f;
  for (size_t i = 0; i < kSub; ++i) {
    const float diff = scale * float(q[i]) + offset - x[i];
    err += w[i] * (diff * diff);
  }
  return err;
}

// Codes of x for inverse scale `iscale` above `lo`; the weighted least-squares (scale, offset) of x on
// them, offset clamped to ≤ 0. False when the codes do not determine a line (all equal).
bool fit_codes(const float* x, const float* w, float lo, float iscale, uint8_t* q, SubFit& f) {
  float sw = 0, sx = 0, sl = 0, sl2 = 0, sxl = 0;
  for (size_t i = 0; i < kSub; ++i) {
    const int l = code_of(iscale * (x[i] - lo), kMaxCode);
    q[i] = uint8_t(l);
    sw += w[i];
    sx += w[i] * x[i];
    sl += w[i] * float(l);
    sl2 += w[i] * float(l) * float(l);
    sxl += w[i] * float(l) * x[i];
  }
  const float det = sw * sl2 - sl * sl;
  if (!(det > 0.0f)) return false;
  float scale = (sw * sxl - sx * sl) / det, offset = (sl2 * sx - sl * sxl) / det;
  if (offset > 0.0f) {  // the block's min must stay ≤ 0 (it is stored as a non-negative "min")
    offset = 0.0f;
    scale = sxl / sl2;
  }
  f = SubFit{scale, -offset};
  return true;
}

// make_qkx2_quants for one sub-block: the best of the plain range fit and the 21 searched scales. As
// there, each step codes the values from the best offset found so far.
SubFit fit_sub_block(const float* x, const float* w, uint8_t* q) {
  const auto [mn, mx] = std::minmax_element(x, x + kSub);
  const float lo = std::min(*mn, 0.0f), hi = *mx;
  if (!(hi > lo)) {  // all equal and ≤ 0 (or NaN): the min alone represents them
    std::memset(q, 0, kSub);
    return SubFit{0.0f, std::isfinite(lo) ? -lo : 0.0f};
  }
  const float iscale = float(kMaxCode) / (hi - lo);
  SubFit best{1.0f / iscale, -lo};
  for (size_t i = 0; i < kSub; ++i) q[i] = uint8_t(code_of(iscale * (x[i] - lo), kMaxCode));
  float best_err = weighted_error(x, w, q, best.scale, lo);
  uint8_t trial[kSub];
  for (int k = 0; k <= kSteps; ++k) {
    const float off = -best.min;
    SubFit f;
    if (!fit_codes(x, w, off, (kRMin + kRDelta * float(k) + float(kMaxCode)) / (hi - off), trial, f)) continue;
    const float err = weighted_error(x, w, trial, f.scale, -f.min);
    if (err < best_err) {
      best_err = err;
      best = f;
      std::memcpy(q, trial, kSub);
    }
  }
  return best;
}

// Weights of the fit: the sub-block's RMS plus each value's magnitude.
void fit_weights(const float* x, float* w) {
  float sum_x2 = 0.0f;
  for (size_t i = 0; i < kSub; ++i) sum_x2 += x[i] * x[i];
  const float av = std::sqrt(sum_x2 / float(kSub));
  for (size_t i = 0; i < kSub; ++i) w[i] = av + std::fabs(x[i]);
}

// 6-bit level of v against the maximum (inv = 63 / max, 0 when max is 0).
uint8_t level_of(float v, float inv) { return uint8_t(code_of(inv * v, kMaxScale)); }

void pack_codes(const uint8_t* L, uint8_t* qs) {
  for (size_t pair = 0; pair < kSubBlocks / 2; ++pair) {
    const uint8_t* lo = L + 2 * pair * kSub;
    for (size_t l = 0; l < kSub; ++l) qs[pair * kSub + l] = uint8_t(lo[l] | (lo[l + kSub] << 4));
  }
}

void quantize_super_block(const float* x, BlockQ4_K& b) {
  uint8_t L[kSuperBlock];
  SubFit fit[kSubBlocks];
  float max_scale = 0.0f, max_min = 0.0f;
  for (size_t j = 0; j < kSubBlocks; ++j) {
    float w[kSub];
    fit_weights(x + j * kSub, w);
    fit[j] = fit_sub_block(x + j * kSub, w, L + j * kSub);
    max_scale = std::max(max_scale, fit[j].scale);
    max_min = std::max(max_min, fit[j].min);
  }
  const float inv_scale = max_scale > 0.0f ? float(kMaxScale) / max_scale : 0.0f;
  const float inv_min = max_min > 0.0f ? float(kMaxScale) / max_min : 0.0f;
  std::memset(b.scales, 0, sizeof b.scales);
  for (size_t j = 0; j < kSubBlocks; ++j)
    q4_k_set_scale_min(b.scales, j, level_of(fit[j].scale, inv_scale), level_of(fit[j].min, inv_min));
  b.d = f32_to_f16(max_scale / float(kMaxScale));
  b.dmin = f32_to_f16(max_min / float(kMaxScale));
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  for (size_t j = 0; j < kSubBlocks; ++j) {  // the codes again, for the scales as stored
    uint8_t sc, m;
    q4_k_scale_min(b.scales, j, sc, m);
    const float dl = d * float(sc), ml = dmin * float(m);
    if (dl == 0.0f) continue;  // every code decodes to −ml: keep the fit's
    for (size_t i = 0; i < kSub; ++i) L[j * kSub + i] = uint8_t(code_of((x[j * kSub + i] + ml) / dl, kMaxCode));
  }
  pack_codes(L, b.qs);
}

// Q6_K.
constexpr int kQ6Max = 32;                 // codes l in −32..31, stored as l + 32
constexpr float kGroupMaxEps = 1e-15f;     // ggml's GROUP_MAX_EPS: smaller maxima count as zero
constexpr size_t kQ6Sub = kQ6SubBlock;

// Codes of x for inverse scale `iscale` into L (as stored, l + 32); Σ w·x·l and Σ w·l² with w = x²,
// accumulated in ggml's order.
void signed_codes(const float* x, float iscale, uint8_t* L, float& sumlx, float& suml2) {
  sumlx = suml2 = 0.0f;
  for (size_t i = 0; i < kQ6Sub; ++i) {
    const int l = nearest_in(iscale * x[i], -kQ6Max, kQ6Max - 1);
    L[i] = uint8_t(l + kQ6Max);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * float(l);
    suml2 += w * float(l) * float(l);
  }
}

// make_qx_quants(16, 32, x, L, 1, NULL): the scale of one sub-block, its codes in L.
float fit_q6_sub_block(const float* x, uint8_t* L) {
  float amax = 0.0f, max = 0.0f;  // the value of largest magnitude, the first of ties
  for (size_t i = 0; i < kQ6Sub; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, kQ6Sub);
    return 0.0f;
  }
  float sumlx, suml2;
  signed_codes(x, -float(kQ6Max) / max, L, sumlx, suml2);
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f, best = scale * sumlx;
  uint8_t trial[kQ6Sub];
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    signed_codes(x, -(float(kQ6Max) + 0.1f * float(k)) / max, trial, sumlx, suml2);
    if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {  // explains more of x: (Σwxl)² / Σwl²
      std::memcpy(L, trial, kQ6Sub);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

void quantize_q6_super_block(const float* x, BlockQ6_K& b) {
  constexpr size_t kSubs = kSuperBlock / kQ6Sub;
  uint8_t L[kSuperBlock];
  float scale[kSubs], max_scale = 0.0f, max_abs = 0.0f;
  for (size_t j = 0; j < kSubs; ++j) {
    scale[j] = fit_q6_sub_block(x + j * kQ6Sub, L + j * kQ6Sub);
    if (std::fabs(scale[j]) > max_abs) {
      max_abs = std::fabs(scale[j]);
      max_scale = scale[j];
    }
  }
  b = BlockQ6_K{};
  if (max_abs < kGroupMaxEps) return;  // d = 0: every weight decodes to 0
  const float iscale = -128.0f / max_scale;  // the largest scale becomes int8's −128
  b.d = f32_to_f16(1.0f / iscale);
  for (size_t j = 0; j < kSubs; ++j) b.scales[j] = int8_t(nearest_in(iscale * scale[j], -128, 127));
  const float d = f16_to_f32(b.d);
  for (size_t j = 0; j < kSubs; ++j) {  // the codes again, for the scales as stored
    const float dl = d * float(b.scales[j]);
    if (dl == 0.0f) continue;  // every code decodes to 0: keep the fit's
    for (size_t i = j * kQ6Sub; i < (j + 1) * kQ6Sub; ++i)
      L[i] = uint8_t(nearest_in(x[i] / dl, -kQ6Max, kQ6Max - 1) + kQ6Max);
  }
  for (size_t i = 0; i < kSuperBlock; ++i) q6_k_set_code(b, i, L[i]);
}

}  // namespace

void quantize_q4_k(const float* src, BlockQ4_K* dst, size_t n) {
  LMP_CHECK(n % kSuperBlock == 0, "quantize_q4_k: size must be a multiple of 256, found ", n);
  for (size_t b = 0; b < n / kSuperBlock; ++b) quantize_super_block(src + b * kSuperBlock, dst[b]);
}

void quantize_q6_k(const float* src, BlockQ6_K* dst, size_t n) {
  LMP_CHECK(n % kSuperBlock == 0, "quantize_q6_k: size must be a multiple of 256, found ", n);
  for (size_t b = 0; b < n / kSuperBlock; ++b) quantize_q6_super_block(src + b * kSuperBlock, dst[b]);
}

}  // namespace lmp
