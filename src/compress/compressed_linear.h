// CompressedLinear: what a LinearMethod produces for one linear — a closed set of representations
// (dense, integer-grouped, codebook, sparse / N:M, FP8, low-rank). `weight` always holds the
// materialized dense f32 values [out, in], which evaluation runs on; the representation fields carry
// what writers need to store it compactly.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/block_weights.h"

namespace lmp {

// Integer codes on a per-(row, group) affine grid: w ≈ scale · (q − zero).
struct QuantGrid {
  int bits = 4;
  int64_t group = 128;            // columns per group; -1 = one group per row
  bool sym = false;
  Tensor codes;                   // U8 [out, in], values in [0, 2^bits − 1]
  Tensor scales;                  // F32 [out, n_groups]
  Tensor zeros;                   // F32 [out, n_groups] (integer-valued)
  std::vector<int32_t> g_idx;     // group of each input column (not monotone under act-order)
  int64_t n_groups() const { return scales.empty() ? 0 : scales.dim(1); }
};

// A codebook representation (NF4): w ≈ absmax_block · codebook[code].
struct CodebookGrid {
  std::vector<float> codebook;    // 2^bits values
  int64_t block = 64;             // consecutive weights (row-major) per absmax
  Tensor codes;                   // U8 [out, in]
  Tensor absmax;                  // F32 [ceil(out·in / block)]: the absmax values used (dequantized
                                  // ones when double-quantized)
  // Double quantization (bitsandbytes `compress_statistics`): absmax − offset coded with the signed
  // 8-bit dynamic map in blocks of `absmax_block`, each with its own f32 absmax.
  bool double_quant = false;
  float absmax_offset = 0.0f;     // mean of the absmax values
  int64_t absmax_block = 256;
  std::vector<float> absmax_map;  // 256 values
  Tensor absmax_codes;            // U8 [ceil(out·in / block)]
  Tensor absmax_scales;           // F32 [ceil(n_absmax / absmax_block)]
};

// FP8 E4M3 codes with one power-of-two scale per output row (EntQuant, compress/quant/entquant.cpp):
// w ≈ scales[r] · fp8_e4m3_decode(codes[r][c]). The codes are bytes of the OCP E4M3 format (core/fp8.h);
// 0x7F / 0xFF (NaN) and 0x80 (−0) never occur. How they are stored (entropy-coded or not) is the
// writer's business, not the method's.
struct Fp8Grid {
  Tensor codes;                   // U8 [out, in]
  Tensor scales;                  // F32 [out]: 2^θ_r
  double lambda = 0.0;            // the rate weight the codes were optimized for (0 = absmax)
  std::string optimizer;          // "row-search" | "lbfgs" | "absmax"
  bool fallback = false;          // a super-weight layer quantized with plain absmax FP8
};

// `kind` is the representation of the last stage that produced it; a pruning stage before it leaves its
// `mask` (sparse-then-quantized: Kind::Quantized with `quant` and `mask`, the pruned weights exactly 0
// and their codes the grid's zero point; sparse-then-NF4: Kind::Codebook with `codebook` and `mask`).
struct CompressedLinear {
  enum class Kind { Dense, Quantized, Codebook, Sparse, Fp8, LowRank };
  Kind kind = Kind::Dense;
  Tensor weight;                        // F32 [out, in]: the values the method produced
  std::optional<QuantGrid> quant;       // Kind::Quantized (also set for sparse-then-quantized)
  std::optional<CodebookGrid> codebook; // Kind::Codebook (also set for sparse-then-NF4)
  std::optional<Fp8Grid> fp8;           // Kind::Fp8
  std::optional<LowRankFactors> lowrank; // Kind::LowRank: weight = A·B (compress/lowrank/)
  Tensor mask;                          // U8 [out, in], 1 = kept, when a pruning stage ran; empty otherwise

  const Tensor& materialize() const { return weight; }
  double sparsity() const;              // fraction pruned by `mask` (0 without a mask)
};

// Bits per weight of the stored representation of one linear (definitions in compressed_linear.cpp):
// `codes`: bits of the stored values; `total`: values + scales/zeros (f16) + g_idx (i32) + masks (1 bit).
// "dense", "quantized", "codebook", "sparse", "fp8" (for messages and reports).
const char* kind_name(CompressedLinear::Kind kind);

struct BitsPerWeight {
  double codes = 32, total = 32;
};
BitsPerWeight bits_per_weight(const CompressedLinear& c);

}  // namespace lmp
