// EntQuant's objective (Putzky, Genzel et al., "Float8@2bits", arXiv 2601.22787, Sec. 3; the reference's
// SymmetricEntropyOptimizer): per output row r a scale s_r = 2^θ_r, Q = fp8(clamp(W_r / s_r, ±448)),
// Ŵ = Q·s_r, and
//     loss(θ) = ‖Ŵ − W‖₁ / (‖W‖₁ + 1e-6) + λ·4·mean|Q|        (mean over all out·in entries).
// The loss is a sum of per-row terms, so rows are evaluated independently (in parallel) and summed in
// row order: the value never depends on the thread count. Sums are taken in double with a fixed lane
// order (Σ|Q| is exact, in integers). Deviation: the reference divides by 2^θ as W·2^-θ; here Q = fp8(W / s) with the
// stored f32 scale s, so the codes are exactly what a reader reproduces from (W, s).
#pragma once
#include <cstdint>
#include <vector>

namespace lmp {

// Sums over one row of n weights quantized with scale s > 0.
struct Fp8RowTerms {
  double err = 0;     // Σ_j |fl(Q_j·s) − w_j|
  double rate = 0;    // Σ_j |Q_j|, in FP8 value units (exact)
  double nz_abs = 0;  // Σ_{j: Q_j ≠ 0} |w_j| (the rate's straight-through gradient)
};
Fp8RowTerms fp8_row_terms(const float* w, int64_t n, float s);
// The same without nz_abs (left 0), faster: for searches that need no gradient.
Fp8RowTerms fp8_row_terms_no_grad(const float* w, int64_t n, float s);

// Quantizes one row with scale s: the E4M3 codes (−0 stored as +0) and the values fl(Q_j·s).
void fp8_quantize_row(const float* w, int64_t n, float s, uint8_t* codes, float* deq);

// The constant weights of a matrix's loss: loss = Σ_r (err_r·inv_norm + rate_weight·rate_r).
struct EntquantLoss {
  double inv_norm = 0;     // 1 / (‖W‖₁ + 1e-6)
  double rate_weight = 0;  // 4λ / (out·in)
  // Out of line: an inline body would be FMA-contracted differently in each including file.
  double row(const Fp8RowTerms& t) const;
};
EntquantLoss entquant_loss_weights(const float* w, int64_t out, int64_t in, double lambda);

// The f32 scale of log-scale θ: 2^θ rounded once.
float scale_of_theta(double theta);
// The absmax initialisation (optimum-quanto's AbsmaxOptimizer): θ_r = log2(max_j |w_rj| / 448); an
// all-zero row gets θ = 0.
std::vector<double> absmax_theta(const float* w, int64_t out, int64_t in);

// The loss at θ (scales scale_of_theta(θ_r)); with `grad`, also its straight-through gradient (rounding
// and clamp passed as identity, |·|' = sign with sign(0) = 0, as torch's autograd):
//   ∂loss/∂θ_r = ln2·( err_r·inv_norm − rate_weight·nz_abs_r / s_r ).
double entquant_loss_grad(const float* w, int64_t out, int64_t in, const EntquantLoss& lw,
                          const std::vector<double>& theta, std::vector<double>* grad);

// The loss of given scales (the true, rounded objective).
double entquant_loss_of_scales(const float* w, int64_t out, int64_t in, const EntquantLoss& lw,
                               const float* scales);

}  // namespace lmp
