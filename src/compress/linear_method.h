// LinearMethod: one compression method for one linear layer. It declares the statistics it needs and
// turns a weight plus those statistics into a CompressedLinear. Adding a method = one file in
// compress/<family>/ + one line in compress/registry.cpp + tests.
//
// Chaining (recipes, compress/recipe.h): a chain of stages runs on one linear with one LinearStats (a
// linear's own inputs do not change when its weights do). Stage 0 receives the dense weight, stage k+1
// the CompressedLinear stage k produced, through compress_after(). A method declares what it can follow
// (accepts) and what it produces (produces), so a chain is validated when it is built, before any model
// work (compress/method_chain.h). The contract for a stage that follows another:
//   - it keeps what it does not replace: a quantizer after a pruner keeps the mask (pruned weights stay
//     exactly 0 and it returns the mask beside its grid);
//   - the future low-rank stage (AA-SVD) accepts Dense (or Sparse) and produces its factors;
//   - EntQuant (compress/quant/entquant.cpp) is a quantizer like the others: it accepts Dense and
//     produces an Fp8 grid. Entropy coding is not a method but storage: the lmp writer
//     (export/lmp_writer.h) rANS-codes the byte codes of any grid (FP8, RTN/GPTQ integer codes, NF4).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compress/compressed_linear.h"
#include "compress/linear_stats.h"

namespace lmp {

// Every knob a method may read; methods ignore the ones that do not apply to them (the registry lists
// which fields each method takes: method_fields()).
struct MethodSpec {
  std::string method;          // rtn | nf4 | gptq | entquant | magnitude | wanda | sparsegpt
  int bits = 4;
  int64_t group = 128;         // -1 = one group per output row
  bool sym = false;
  bool act_order = false;
  bool static_groups = false;
  double damp = 0.01;          // fraction of the mean Hessian diagonal added to it
  int64_t block_size = 128;    // GPTQ / SparseGPT lazy-update block
  double sparsity = 0.0;       // unstructured fraction of zeros
  int nm_n = 0, nm_m = 0;      // N:M: N of every M consecutive weights of a row are zeroed (2:4 = 50%)
  bool double_quant = false;   // NF4: quantize the absmax scales too
  bool scales_f16 = false;     // RTN / GPTQ: round scales to f16 before computing codes (GPTQ export)
  bool mse = false;            // RTN / GPTQ: shrink each grid's range to the least Σ|w − q|^2.4 (quantizer.h)
  uint64_t seed = 0;
  // EntQuant: rate weight λ of ‖W − Ŵ‖₁/‖W‖₁ + λ·4·mean|Q| (0 = absmax FP8), and how θ is found.
  double lambda = 14.5;
  std::string optimizer = "lbfgs";  // lbfgs (the paper's; lower perplexity, BENCHMARKS.md) | row-search (exact per-row 1-D search)
  std::vector<std::string> absmax_linears;  // super-weight layers quantized with plain absmax FP8
  // Low-rank (svd, svd-llm, aa-svd): fraction of each linear's parameters the factors keep, or a rank.
  double ratio = 0.8;
  int64_t rank = 0;                  // > 0: this rank for every linear, instead of --ratio
  std::string factor_dtype = "f32";  // f32 | bf16: the factors rounded to bf16 (half the bytes on disk)
  std::string scale_dtype = "bf16";  // EntQuant: bf16 (scales rounded to bf16, half the bytes) | f32
};

class LinearMethod {
 public:
  using Kind = CompressedLinear::Kind;
  virtual ~LinearMethod() = default;
  virtual std::string name() const = 0;
  virtual uint32_t needs() const = 0;  // StatFlags
  // `weight` is f32 [out, in]; `name` is the canonical tensor name, for error messages.
  virtual CompressedLinear compress(const std::string& name, const Tensor& weight,
                                    const LinearStats& stats) const = 0;

  // The representation compress() returns.
  virtual Kind produces() const = 0;
  // The most memory compress() holds at once for one [out, in] linear beyond its input weight and
  // statistics, its result included (compress/memory_plan.h). Default: the f32 result and byte codes.
  virtual double scratch_bytes(int64_t out, int64_t in) const { return double(out) * double(in) * 5; }
  // Whether this method can take the output of a stage that produced `prev` (default: Dense only, i.e.
  // the method can only open a chain).
  virtual bool accepts(Kind prev) const { return prev == Kind::Dense; }
  // Compresses the output of the previous stage (a Dense `prev` holds the original weight). The default
  // compresses a Dense prev with compress() and refuses anything else; methods that accept more override.
  virtual CompressedLinear compress_after(const std::string& name, const CompressedLinear& prev,
                                          const LinearStats& stats) const;
  // As compress_after, with `stats` handed over: the caller reads them no more (the last linear of its
  // input group), so a method may take their buffers instead of copying them. Default: compress_after.
  virtual CompressedLinear compress_consuming(const std::string& name, const CompressedLinear& prev,
                                              LinearStats&& stats) const {
    return compress_after(name, prev, stats);
  }
  // The part of scratch_bytes(out, in) that compress_consuming takes from the statistics instead of
  // allocating (GPTQ and SparseGPT factorize the Hessian in its own buffer: in² × 8 bytes).
  virtual double handover_bytes(int64_t /*in*/) const { return 0; }
};

}  // namespace lmp
