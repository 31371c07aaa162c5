// CompressedLinear accounting: sparsity and bits per weight of the stored representation.
//
// Definitions (per weight of the linear, out·in weights):
//  Dense      codes = total = 32 (f32 values).
//  Sparse     codes = 32 · kept fraction (only kept values are stored); total = codes + 1 (a 1-bit mask).
//  Quantized  codes = bits; total = codes + 2 · 16 · n_groups / in (scale and zero, f16 each, per row and
//             group) + 32 / out when g_idx is not the default j / group (act-order without static
//             groups: one i32 per input column, amortized over the rows); a trivial g_idx is implied by
//             the group size and not counted. Sparse-then-quantized: codes = bits · kept + the 1-bit mask
//             in total.
//  Codebook   codes = log2(codebook size) (4 for NF4); total adds one f32 absmax per block (32 / 64), or,
//             double-quantized, one 8-bit code per block + one f32 per 256 blocks + the f32 offset.
//             Sparse-then-NF4: codes = log2(size) · kept + the 1-bit mask in total, as for grids.
//  Fp8        codes = 8 (raw E4M3 bytes); total adds one f32 scale per row. Entropy-coded sizes are not
//             idealized here: the lmp writer reports the bytes it wrote.
//  LowRank    codes = total = 32 · k·(out + in) / (out·in): the f32 values of both factors.
#include "compress/compressed_linear.h"

#include <cmath>

#include "compress/quant/quant_grid.h"

namespace lmp {

const char* kind_name(CompressedLinear::Kind kind) {
  switch (kind) {
    case CompressedLinear::Kind::Dense: return "dense";
    case CompressedLinear::Kind::Quantized: return "quantized";
    case CompressedLinear::Kind::Codebook: return "codebook";
    case CompressedLinear::Kind::Sparse: return "sparse";
    case CompressedLinear::Kind::Fp8: return "fp8";
    case CompressedLinear::Kind::LowRank: return "lowrank";
  }
  return "unknown";
}

// The fraction the mask prunes: weights a quantizer happens to round to 0 are not sparsity.
double CompressedLinear::sparsity() const {
  if (mask.empty() || mask.numel() == 0) return 0.0;
  const auto* m = static_cast<const uint8_t*>(mask.data());
  int64_t pruned = 0;
  for (int64_t i = 0; i < mask.numel(); ++i) pruned += (m[i] == 0);
  return double(pruned) / double(mask.numel());
}

namespace {

double kept_fraction(const CompressedLinear& c) {
  if (c.mask.empty() || c.mask.numel() == 0) return 1.0;
  const uint8_t* m = static_cast<const uint8_t*>(c.mask.data());
  int64_t kept = 0;
  for (int64_t i = 0; i < c.mask.numel(); ++i) kept += (m[i] != 0);
  return double(kept) / double(c.mask.numel());
}

BitsPerWeight quant_bits(const QuantGrid& g, double kept) {
  const double out = double(g.codes.dim(0)), in = double(g.codes.dim(1));
  BitsPerWeight b;
  b.codes = g.bits * kept;
  b.total = b.codes + 2.0 * 16.0 * double(g.n_groups()) / in;
  if (g_idx_is_permuted(g)) b.total += 32.0 / out;
  return b;
}

BitsPerWeight codebook_bits(const CodebookGrid& g, double kept) {
  const double n = double(g.codes.numel());
  const double n_absmax = double(g.absmax.numel());
  BitsPerWeight b;
  b.codes = std::log2(double(g.codebook.size())) * kept;
  if (g.double_quant) {
    b.total = b.codes + (8.0 * n_absmax + 32.0 * double(g.absmax_scales.numel()) + 32.0) / n;
  } else {
    b.total = b.codes + 32.0 * n_absmax / n;
  }
  return b;
}

}  // namespace

BitsPerWeight bits_per_weight(const CompressedLinear& c) {
  const bool masked = !c.mask.empty() && c.mask.numel() > 0;
  const double kept = kept_fraction(c);
  BitsPerWeight b;
  if (c.quant) {
    b = quant_bits(*c.quant, kept);
  } else if (c.codebook) {
    b = codebook_bits(*c.codebook, kept);
  } else if (c.lowrank) {
    const double out = double(c.weight.dim(0)), in = double(c.weight.dim(1));
    b.codes = b.total = 32.0 * double(c.lowrank->rank()) * (out + in) / (out * in);
  } else if (c.fp8) {
    b.codes = 8.0;  // before entropy coding: the measured size comes from the writer (export/lmp_writer.h)
    b.total = 8.0 + 32.0 / double(c.fp8->codes.dim(1));
  } else {
    b.codes = b.total = 32.0 * kept;
  }
  if (masked) b.total += 1.0;
  return b;
}

}  // namespace lmp
