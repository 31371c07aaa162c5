// EntQuant (Putzky, Genzel et al., "Float8@2bits: Entropy Coding Enables Data-Free Model Compression",
// arXiv 2601.22787): FP8 E4M3 codes with one scale per output row, the scales chosen to trade the L1
// reconstruction error against a rate proxy λ·4·mean|Q| (compress/quant/entquant_objective.h), so the
// codes entropy-code well. No calibration data. The codes are Kind::Fp8 (compressed_linear.h).
#pragma once
#include <string>
#include <vector>

#include "compress/compressed_linear.h"
#include "compress/quant/lbfgs.h"

namespace lmp {

// How the per-row scales are stored: Bf16 rounds each (to nearest even, before the codes are chosen), so
// the lmp writer keeps 16 bits per row; F32 keeps them as found.
enum class Fp8ScaleType { Bf16, F32 };

// "bf16" -> Bf16, "f32" -> F32; anything else is an error naming the option.
Fp8ScaleType fp8_scale_type(const std::string& name);

// Codes, scales and dequantized weight of w [out, in] for given per-row scales (> 0), rounded as `type`
// says first.
CompressedLinear fp8_quantize_with_scales(const Tensor& w, std::vector<float> scales,
                                          Fp8ScaleType type = Fp8ScaleType::F32);

// Plain absmax FP8 (the reference's WrappedAbsmaxOptimizer, EntQuant at λ = 0): s_r = max_j |w_rj| / 448
// (1 for an all-zero row). Optimizer "absmax", lambda 0.
CompressedLinear fp8_absmax_quantize(const Tensor& w, Fp8ScaleType type = Fp8ScaleType::F32);

// The L-BFGS settings of the reference for rate weight λ: lr 1.0, or 0.25 from λ = 30 on (its runs use
// 1.0 up to λ = 14.5 and 0.25 from 30); 500 iterations, history 100, strong Wolfe.
LbfgsOptions entquant_lbfgs_options(double lambda);

// The paper's optimizer: L-BFGS on the straight-through gradient from the absmax scales; a NaN loss
// restarts it with half the learning rate (at most 20 times, then the absmax scales are kept).
std::vector<float> entquant_lbfgs_scales(const Tensor& w, double lambda);

// EntQuant with optimizer "row-search" or "lbfgs" (λ > 0), or absmax (λ = 0).
CompressedLinear entquant_quantize(const Tensor& w, double lambda, const std::string& optimizer,
                                   Fp8ScaleType type = Fp8ScaleType::F32);

}  // namespace lmp
