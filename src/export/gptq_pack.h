// The GPTQ checkpoint format (`checkpoint_format: gptq`, as AutoGPTQ / transformers / vLLM read it) for
// one linear: integer codes packed into int32 along the input dimension, zeros − 1 packed along the
// output dimension, f16 scales, the group of each input column.
#pragma once
#include <cstdint>
#include <string>

#include "compress/compressed_linear.h"

namespace lmp {

struct GptqPacked {
  int bits = 4;
  int64_t group = 128;  // group_size of quantization_config (-1: one group per row)
  Tensor qweight;       // I32 [in·bits/32, out]: input rows k·(32/bits) + i at bits i·bits.. (low first)
  Tensor qzeros;        // I32 [n_groups, out·bits/32]: (zero − 1) mod 2^bits, outputs packed likewise
  Tensor scales;        // F16 [n_groups, out]
  Tensor g_idx;         // I32 [in]
};

// Packs a grid (bits 2, 4 or 8). `name` names the tensor in errors: bits the format cannot hold, in or
// out not a multiple of 32/bits, a scale that is not exactly an f16 (quantize with scales_f16), a zero
// outside [0, 2^bits − 1]. A zero of 0 is stored as 2^bits − 1 (the format's zero − 1 wraps): readers
// that add 1 without wrapping (GPTQ v1 kernels) see 2^bits there, lmpress's reader 0 (io/gptq_bits.h);
// gptq_zero_underflows counts them.
GptqPacked gptq_pack(const std::string& name, const QuantGrid& grid);
// The grid back: codes, scales (f16 → f32), zeros ((stored + 1) mod 2^bits), g_idx.
QuantGrid gptq_unpack(const std::string& name, const GptqPacked& packed, bool sym);
// Groups whose zero is 0 (see gptq_pack).
int64_t gptq_zero_underflows(const QuantGrid& grid);

}  // namespace lmp
