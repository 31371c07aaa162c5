// Low-rank factorization methods: each linear W [out, in] becomes two factors A [out, k] · B [k, in]
// (CompressedLinear::Kind::LowRank), k from --rank or --ratio (lowrank_rank.h).
//   svd      truncated SVD of W (Eckart–Young: the best rank-k W' in ‖W − W'‖_F).
//   svd-llm  SVD-LLM (Wang et al., "SVD-LLM: Truncation-aware Singular Value Decomposition for Large
//            Language Model Compression", ICLR 2025): whiten by S = chol(XᵀX), truncate W·S, un-whiten —
//            the best W' in ‖X Wᵀ − X W'ᵀ‖_F. X is the ORIGINAL model's input, as the AA-SVD reference
//            runs it (its obj2).
//   aa-svd   AA-SVD (Sinha & Fleuret, "AA-SVD: Anchored and Adaptive SVD for Large Language Model
//            Compression", arXiv 2604.02119, obj4): the best W' in ‖X Wᵀ − X̂ W'ᵀ‖_F, X the original
//            model's input, X̂ the input the compressed model produces: with L = chol(X̂ᵀX̂),
//            W' = [W·XᵀX̂·L⁻ᵀ]_k · L⁻¹.
// Gram matrices are running means (sum / rows) as in the reference, so its damping (1e-3 − λ_min on the
// diagonal, only when Cholesky fails) means the same; everything is f64 (the reference: f32).
#pragma once
#include <memory>

#include "compress/linear_method.h"

namespace lmp {

std::unique_ptr<LinearMethod> make_svd_method(const MethodSpec& spec);
std::unique_ptr<LinearMethod> make_svd_llm_method(const MethodSpec& spec);
std::unique_ptr<LinearMethod> make_aa_svd_method(const MethodSpec& spec);

// A LowRank CompressedLinear from its factors (weight = A·B).
CompressedLinear lowrank_linear(LowRankFactors f);

}  // namespace lmp
