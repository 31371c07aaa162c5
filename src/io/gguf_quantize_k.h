// Scalar reference quantizer for ggml's Q4_K blocks (layout in gguf_quant.h), after llama.cpp's
// quantize_row_q4_K_ref and make_qkx2_quants (ggml/src/ggml-quants.c, k-quants of PR #1684): per
// sub-block of 32, an asymmetric 4-bit fit x ≈ scale·q − min (min ≥ 0) that minimizes the squared error
// weighted by w = rms(sub-block) + |x|, searched over 21 inverse scales (15 − 1 + 0.1·k)/(max − min),
// each refined by weighted least squares on its codes; then the 8 scales and mins quantized to 6 bits
// against their super-block maxima (d = max scale / 63, dmin = max min / 63, stored as f16), and the
// codes recomputed from the stored (f16-rounded) values. Deviation: NaN inputs code as 0 (ggml: undefined).
#pragma once
#include <cstddef>

#include "io/gguf_quant.h"

namespace lmp {

// Quantizes `n` floats (a multiple of 256) into n/256 blocks at `dst`.
void quantize_q4_k(const float* src, BlockQ4_K* dst, size_t n);

}  // namespace lmp
