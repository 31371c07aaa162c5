// Double quantization (Dettmers et al., "QLoRA", NeurIPS 2023, §3 Double Quantization) as bitsandbytes
// implements it: offset = mean(absmax); (absmax − offset) coded blockwise (256) with the signed dynamic
// 8-bit map, one f32 absmax per block. Deviation: the map is built in double then rounded to f32 (torch
// builds it in f32; values may differ by one ulp).
#include "compress/quant/nf4_double_quant.h"

#include <algorithm>
#include <cmath>

namespace lmp {

// bitsandbytes create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for exponent
// i = 0..6, 2^i linear fractions (midpoints of a linspace(0.1, 1) of 2^i + 1 points) times 10^(i−6),
// both signs; plus 0 and 1.
const std::vector<float>& dynamic_map_signed() {
  static const std::vector<float> map = [] {
    std::vector<float> v;
    for (int i = 0; i < 7; ++i) {
      const int k = (1 << i) + 1;
      const double scale = std::pow(10.0, i - 6);
      for (int j = 0; j + 1 < k; ++j) {
        const double a = 0.1 + 0.9 * j / (k - 1), b = 0.1 + 0.9 * (j + 1) / (k - 1);
        const float m = float(scale * float(0.5 * (a + b)));
        v.push_back(m);
        v.push_back(-m);
      }
    }
    v.push_back(0.0f);
    v.push_back(1.0f);
    std::sort(v.begin(), v.end());
    return v;
  }();
  return map;
}

uint8_t dynamic_map_code(const std::vector<float>& map, float x) {
  const auto it = std::lower_bound(map.begin(), map.end(), x);
  if (it == map.begin()) return 0;
  if (it == map.end()) return uint8_t(map.size() - 1);
  const size_t hi = size_t(it - map.begin()), lo = hi - 1;
  return uint8_t((x - map[lo] <= map[hi] - x) ? lo : hi);
}

void double_quantize_absmax(CodebookGrid& grid) {
  const int64_t n = grid.absmax.numel(), blk = grid.absmax_block;
  const int64_t n_blocks = (n + blk - 1) / blk;
  float* a = grid.absmax.f32();
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += a[i];
  grid.double_quant = true;
  grid.absmax_offset = n > 0 ? float(sum / double(n)) : 0.0f;
  grid.absmax_map = dynamic_map_signed();
  grid.absmax_codes = Tensor::zeros(DType::U8, {n});
  grid.absmax_scales = Tensor::zeros(DType::F32, {n_blocks});
  uint8_t* codes = static_cast<uint8_t*>(grid.absmax_codes.mutable_data());
  float* scales = grid.absmax_scales.f32();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t i0 = b * blk, i1 = std::min(n, i0 + blk);
    float m = 0.0f;
    for (int64_t i = i0; i < i1; ++i) m = std::max(m, std::fabs(a[i] - grid.absmax_offset));
    scales[b] = m;
    const float inv = m > 0 ? 1.0f / m : 0.0f;
    for (int64_t i = i0; i < i1; ++i) {
      codes[i] = dynamic_map_code(grid.absmax_map, (a[i] - grid.absmax_offset) * inv);
      a[i] = grid.absmax_map[codes[i]] * m + grid.absmax_offset;
    }
  }
}

}  // namespace lmp
