// GPTQ-packed linears served as f32 weights. Every X.qweight / X.qzeros / X.scales / X.g_idx group of
// an opened HF checkpoint (layout: io/gptq_bits.h) becomes one canonical X.weight [out, in] whose
// load_f32() dequantizes, on demand and from the mapped file,
//   w[o][i] = scale[g_idx[i]][o] · (q[i][o] − zero[g_idx[i]][o]),
// zero = (stored + 1) mod 2^bits for checkpoint_format gptq (gptq_bits.h says why), stored for gptq_v2 —
// the same f32 arithmetic as the quantizers' dequantize_code, so the values are bit-identical to the
// method's. X.bias, when present, stays as it is.
#pragma once
#include <string>

#include "io/checkpoint_impl.h"
#include "io/gptq_config.h"

namespace lmp {

// Replaces the packed groups of `c` by derived X.weight entries and returns how many. Errors name the
// checkpoint `dir`, the shard file and the tensor: a missing qweight / qzeros / scales (or g_idx under
// desc_act), dtypes other than I32 (qweight, qzeros, g_idx) or a float (scales), shapes that disagree
// with each other or with group_size (expected vs found), a g_idx entry outside [0, n_groups).
int64_t attach_gptq_linears(LoadedCheckpoint& c, const GptqConfig& q, const std::string& dir);

}  // namespace lmp
