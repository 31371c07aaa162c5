// Dequantization of one lmp-coded linear (docs/lmp-format.md, "Dequantization"): the one definition of
// what the decoded codes of a record mean, used by the reader (io/lmp_checkpoint.h) and by the writer to
// check, before it writes, that the codes reproduce the method's weights bit for bit. The float
// operations are those of the methods (core/fp8.h; compress/quant/quantizer.h's dequantize_code; NF4's
// codebook · absmax), so the values are bit-identical to theirs.
#pragma once
#include <cstdint>

#include "io/lmp_record.h"

namespace lmp {

// Views of one linear's decoded codes and its parameters.
struct LmpGrid {
  const uint8_t* codes = nullptr;   // [out · in], row-major
  const float* scales = nullptr;    // fp8: [out]; int: [out, n_groups]; nf4: the absmax, [n_blocks]
  const float* zeros = nullptr;     // int: [out, n_groups]
  const int32_t* g_idx = nullptr;   // int: [in], each in [0, n_groups); null = j / group
  const float* codebook = nullptr;  // nf4: [2^bits]
};

// Index of the first code the record does not allow (fp8: the NaN bytes 0x7F / 0xFF; int and nf4: a
// value >= 2^bits), or -1.
int64_t lmp_first_bad_code(const LmpRecord& r, const uint8_t* codes);

// w[r][j] (row-major [out, in]) for every weight:
//   fp8_e4m3: fp8_e4m3_decode(q) · scales[r]
//   int:      scales[r, g] · (float(q) − zeros[r, g]),  g = g_idx[j] (or j / group; 0 for group −1)
//   nf4:      codebook[q] · scales[(r · in + j) / block]
void lmp_dequantize(const LmpRecord& r, const LmpGrid& g, float* out);

// w [out, in] = a [out, k] · b [k, in] (lowrank): each w[r][j] summed over t = 0 .. k−1 in order, in f32,
// so the bits are the same on every CPU and thread count. The one definition of a low-rank linear's dense
// weight: the low-rank methods (compress/lowrank/) materialize theirs with it too.
void lmp_lowrank_product(const float* a, const float* b, int64_t out, int64_t k, int64_t in, float* w);

}  // namespace lmp
