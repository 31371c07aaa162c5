// GPTQ (Frantar et al., ICLR 2023), Algorithm 1 with lazy batch updates (§4 step 2) and the Cholesky
// inverse (step 3), following IST-DASLab/gptq fasterquant: dead columns, damp, act-order, dynamic or
// static groups. Deviations: H and its factor in f64 (compress/inverse_hessian.h); act-order ties keep
// column order (stable sort; torch.argsort is unstable, ties are measure-zero in real Hessians).
// With a mask (a recipe's pruner before GPTQ): masked weights are quantized to exactly 0 in the sweep,
// as SparseGPT's joint sparsification & quantization does (Frantar & Alistarh 2023, §"Joint
// Sparsification & Quantization": q = quant(w · mask) inside the OBS sweep). The difference: there the
// mask is chosen and the weights quantized in one sweep; here the mask comes from a complete pruning
// sweep before, and a second sweep quantizes with the mask fixed, feeding the error of every column
// (quantized survivors and re-zeroed pruned weights alike) to the later columns.
#include "compress/quant/gptq.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "compress/inverse_hessian.h"
#include "compress/quant/quant_grid.h"
#include "core/error.h"
#include "linalg/gemm.h"

namespace lmp {

namespace {

// Columns that never saw a non-zero input: W[:, j] = 0 (as the reference; their H_jj is 1).
void zero_dead_columns(const std::vector<uint8_t>& dead, float* w, int64_t out, int64_t in) {
  for (int64_t j = 0; j < in; ++j)
    if (dead[size_t(j)])
      for (int64_t r = 0; r < out; ++r) w[r * in + j] = 0.0f;
}

// Columns by decreasing diag(H) under act-order (stable: ties keep column order), else as they are.
std::vector<int64_t> act_order_perm(const std::string& where, const LinearStats& stats, int64_t in,
                                    double scale, bool act_order) {
  std::vector<int64_t> perm(static_cast<size_t>(in));
  std::iota(perm.begin(), perm.end(), 0);
  if (!act_order) return perm;
  const std::vector<double> d = prepared_diagonal(where, stats, in, scale);
  std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) { return d[size_t(a)] > d[size_t(b)]; });
  return perm;
}

// Row by row: w[r, j] <- w[r, perm[j]] (to the permuted order), or w[r, perm[j]] <- w[r, j] (`back`).
void permute_columns(float* w, int64_t out, int64_t in, const std::vector<int64_t>& perm, bool back = false) {
  std::vector<float> row(static_cast<size_t>(in));
  for (int64_t r = 0; r < out; ++r) {
    float* wr = w + r * in;
    for (int64_t j = 0; j < in; ++j) {
      if (back) row[size_t(perm[size_t(j)])] = wr[j];
      else row[size_t(j)] = wr[perm[size_t(j)]];
    }
    std::copy(row.begin(), row.end(), wr);
  }
}

// The state of one run, in permuted column order.
struct GptqRun {
  const GptqOptions& opt;
  int64_t out, in;
  Tensor weight;                         // [out, in] f32: updated block by block; each finished block
  float* w;                              // holds its dequantized values (the result, once un-permuted)
  InverseHessian factor;                 // upper factor of H⁻¹, permuted
  std::vector<int64_t> perm;
  QuantGrid grid;                        // codes written in the original column order
  std::vector<QuantParams> row_params;   // group -1: from the original W
  std::vector<std::vector<QuantParams>> static_params;
  std::vector<QuantParams> dyn_params;
  std::vector<uint8_t> keep;             // [out, in], permuted, 1 = kept; empty = no mask
  std::vector<float> masked;             // scratch: one group with the pruned weights at 0

  // Dynamic group params of columns [c0, c1): from w, pruned weights counted as the 0 they will be.
  void find_group_params(int64_t c0, int64_t c1) {
    if (keep.empty()) return find_params_rows(w, out, in, c0, c1, opt.cfg, dyn_params);
    const int64_t width = c1 - c0;
    masked.resize(size_t(out * width));
    for (int64_t r = 0; r < out; ++r)
      for (int64_t j = 0; j < width; ++j) {
        const size_t k = size_t(r * in + c0 + j);
        masked[size_t(r * width + j)] = keep[k] ? w[k] : 0.0f;
      }
    find_params_rows(masked.data(), out, width, 0, width, opt.cfg, dyn_params);
  }

  // The params of the column at permuted position `pos`; recomputes dynamic groups at their start from
  // the weights as updated up to the current block (as the reference reads W, not its block copy).
  const std::vector<QuantParams>& params_at(int64_t pos) {
    if (opt.group <= 0) return row_params;
    if (opt.static_groups) return static_params[size_t(perm[size_t(pos)] / opt.group)];
    if (pos % opt.group == 0) {
      find_group_params(pos, std::min(in, pos + opt.group));
      for (int64_t r = 0; r < out; ++r) set_grid_params(grid, r, pos / opt.group, dyn_params[size_t(r)]);
    }
    grid.g_idx[size_t(perm[size_t(pos)])] = int32_t(pos / opt.group);
    return dyn_params;
  }

  // Quantizes column `pos` (col [out]): its codes into the grid, its dequantized values into deq [out].
  void quantize_column(int64_t pos, const float* col, float* deq, float* err) {
    const std::vector<QuantParams>& p = params_at(pos);
    const float d = factor.u(pos, pos);
    const int maxq = opt.cfg.maxq();
    uint8_t* codes = static_cast<uint8_t*>(grid.codes.mutable_data()) + perm[size_t(pos)];
    for (int64_t r = 0; r < out; ++r) {
      const bool pruned = !keep.empty() && !keep[size_t(r * in + pos)];
      const float q = pruned ? p[size_t(r)].zero : quantize_code(col[r], p[size_t(r)], maxq);
      const float v = pruned ? 0.0f : dequantize_code(q, p[size_t(r)]);
      codes[r * in] = uint8_t(q);
      deq[r] = v;
      err[r] = (col[r] - v) / d;
    }
  }

  // One lazy block [i1, i2): columns transposed to rows of w1t [count, out] for contiguous updates.
  // The block's dequantized columns go back into w once the block is done (d1t [count, out]).
  void run_block(int64_t i1, int64_t i2, std::vector<float>& w1t, std::vector<float>& e1t,
                 std::vector<float>& d1t) {
    const int64_t count = i2 - i1;
    for (int64_t i = 0; i < count; ++i)
      for (int64_t r = 0; r < out; ++r) w1t[size_t(i * out + r)] = w[r * in + i1 + i];
    for (int64_t i = 0; i < count; ++i) {
      float* err = e1t.data() + i * out;
      quantize_column(i1 + i, w1t.data() + i * out, d1t.data() + i * out, err);
      for (int64_t j = i + 1; j < count; ++j) {
        const float h = factor.u(i1 + i, i1 + j);
        float* cj = w1t.data() + j * out;
        for (int64_t r = 0; r < out; ++r) cj[r] -= h * err[r];
      }
    }
    if (i2 < in)  // W[:, i2:] -= Err1 · Hinv[i1:i2, i2:]
      gemm_tn(out, in - i2, count, e1t.data(), out, factor.u() + i1 * in + i2, in, w + i2, in, -1.0f, 1.0f);
    for (int64_t i = 0; i < count; ++i)
      for (int64_t r = 0; r < out; ++r) w[r * in + i1 + i] = d1t[size_t(i * out + r)];
  }

  void run() {
    const int64_t bs = opt.block_size;
    std::vector<float> w1t(size_t(bs * out)), e1t(size_t(bs * out)), d1t(size_t(bs * out));
    for (int64_t i1 = 0; i1 < in; i1 += bs) run_block(i1, std::min(in, i1 + bs), w1t, e1t, d1t);
  }
};

// keep[r, pos] = mask[r, perm[pos]] (empty without a mask).
std::vector<uint8_t> permuted_mask(const std::string& name, const Tensor& mask, int64_t out, int64_t in,
                                   const std::vector<int64_t>& perm) {
  if (mask.empty()) return {};
  LMP_CHECK(mask.dtype() == DType::U8 && mask.shape() == Shape({out, in}), "gptq: ", name,
            ": mask: expected U8 [", out, ", ", in, "], found ", dtype_name(mask.dtype()), " ",
            shape_str(mask.shape()));
  const auto* m = static_cast<const uint8_t*>(mask.data());
  std::vector<uint8_t> keep(size_t(out * in));
  for (int64_t r = 0; r < out; ++r)
    for (int64_t pos = 0; pos < in; ++pos) keep[size_t(r * in + pos)] = m[r * in + perm[size_t(pos)]];
  return keep;
}

// The dequantized weight in the original column order, with the grid.
CompressedLinear finish(GptqRun& run) {
  if (run.opt.act_order) permute_columns(run.w, run.out, run.in, run.perm, true);
  CompressedLinear c;
  c.kind = CompressedLinear::Kind::Quantized;
  c.weight = std::move(run.weight);
  c.quant = std::move(run.grid);
  return c;
}

// `handed_over`: null, or `stats` itself, whose Hessian becomes the factor's buffer.
CompressedLinear quantize(const std::string& name, const Tensor& w, const LinearStats& stats,
                          LinearStats* handed_over, const GptqOptions& opt, const Tensor& mask) {
  const int64_t out = w.dim(0), in = w.dim(1);
  Tensor work = Tensor::zeros(DType::F32, {out, in});
  std::memcpy(work.f32(), w.f32(), w.nbytes());
  GptqRun run{opt, out, in, std::move(work), nullptr, {}, {},
              make_quant_grid(out, in, opt.cfg.bits, opt.group, opt.cfg.sym), {}, {}, {}, {}, {}};
  run.w = run.weight.f32();
  if (opt.group <= 0) {  // the reference finds per-row params before zeroing dead columns
    find_params_rows(run.w, out, in, 0, in, opt.cfg, run.row_params);
    for (int64_t r = 0; r < out; ++r) set_grid_params(run.grid, r, 0, run.row_params[size_t(r)]);
  }
  LMP_CHECK(stats.rows > 0, "gptq: ", name, ": Hessian accumulated from 0 rows, expected > 0");
  // H = 2/n Σ xᵀx as the reference accumulates it (n = rows here, sequences there: the scale only moves
  // the weight of the unit diagonal given to dead columns in mean(diag H); damping is relative).
  const std::string where = "gptq: " + name;
  InverseHessianSpec hs;
  hs.scale = 2.0 / double(stats.rows);
  hs.damp = opt.damp;
  run.perm = act_order_perm(where, stats, in, hs.scale, opt.act_order);
  if (opt.act_order) hs.order = run.perm;
  run.factor = handed_over ? inverse_hessian(where, std::move(handed_over->hessian), in, hs)
                           : inverse_hessian(where, stats, in, hs);
  zero_dead_columns(run.factor.dead(), run.w, out, in);
  if (opt.group > 0 && opt.static_groups) {
    for (int64_t c0 = 0, g = 0; c0 < in; c0 += opt.group, ++g) {
      run.static_params.emplace_back();
      find_params_rows(run.w, out, in, c0, std::min(in, c0 + opt.group), opt.cfg,
                       run.static_params.back());
      for (int64_t r = 0; r < out; ++r) set_grid_params(run.grid, r, g, run.static_params.back()[size_t(r)]);
    }
  }
  if (opt.act_order) permute_columns(run.w, out, in, run.perm);
  run.keep = permuted_mask(name, mask, out, in, run.perm);
  run.run();
  CompressedLinear c = finish(run);
  c.mask = mask;  // the sweep held the pruned weights at the zero point's code
  return c;
}

}  // namespace

CompressedLinear gptq_quantize(const std::string& name, const Tensor& w, const LinearStats& stats,
                               const GptqOptions& opt, const Tensor& mask) {
  return quantize(name, w, stats, nullptr, opt, mask);
}

CompressedLinear gptq_quantize(const std::string& name, const Tensor& w, LinearStats&& stats,
                               const GptqOptions& opt, const Tensor& mask) {
  return quantize(name, w, stats, &stats, opt, mask);
}

}  // namespace lmp
