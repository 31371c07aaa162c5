// Scalar reference quantizers for ggml's k-quant blocks (layouts in gguf_quant.h), after llama.cpp's
// ggml/src/ggml-quants.c (k-quants of PR #1684).
// Q4_K: quantize_row_q4_K_ref and make_qkx2_quants: per sub-block of 32, an asymmetric 4-bit fit
// x ≈ scale·q − min (min ≥ 0) that minimizes the squared error weighted by w = rms(sub-block) + |x|,
// searched over 21 inverse scales (15 − 1 + 0.1·k)/(max − min), each refined by weighted least squares
// on its codes; then the 8 scales and mins quantized to 6 bits against their super-block maxima
// (d = max scale / 63, dmin = max min / 63, stored as f16), and the codes recomputed from the stored
// (f16-rounded) values.
// Q6_K: quantize_row_q6_K_ref and make_qx_quants(16, 32, x, L, rmse_type 1, no weights): per sub-block
// of 16, a symmetric fit x ≈ s·l, l in −32..31, whose first codes put the largest |x| at l = −32; then 18
// more inverse scales −(32 + 0.1·k)/max (k = ±1..±9), each scored by the least-squares scale of its codes
// under weights x² and kept when it explains more of x. The 16 scales are stored as int8 against the
// one of largest magnitude (it becomes −128; d = −max / 128 as f16), and the codes recomputed from the
// stored scales. A super-block whose scales are all below 1e-15 is stored as zeros.
// Deviation from ggml (where it is undefined): NaN inputs code as 0; a NaN in a Q6_K sub-block makes
// its scale 0.
#pragma once
#include <cstddef>

#include "io/gguf_quant.h"

namespace lmp {

// Quantizes `n` floats (a multiple of 256) into n/256 blocks at `dst`.
void quantize_q4_k(const float* src, BlockQ4_K* dst, size_t n);
void quantize_q6_k(const float* src, BlockQ6_K* dst, size_t n);

}  // namespace lmp
