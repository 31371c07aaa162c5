// Scalar reference quantizers for ggml's Q8_0 and Q4_0 blocks (public GGUF spec, ggml docs/gguf.md and
// the block layouts in gguf_quant.h). Q8_0: d = absmax / 127, q = round(x / d). Q4_0: m = the value of
// largest magnitude (signed), d = m / −8, q = min(15, trunc(x / d + 8.5)). Division is done as a
// multiplication by 1/d (0 when d is 0), as ggml's reference quantizers do, so blocks match llama.cpp's.
#pragma once
#include <cstddef>

#include "io/gguf_quant.h"

namespace lmp {

// Quantizes `n` floats (a multiple of 32) into n/32 blocks at `dst`.
void quantize_q8_0(const float* src, BlockQ8_0* dst, size_t n);
void quantize_q4_0(const float* src, BlockQ4_0* dst, size_t n);

}  // namespace lmp
