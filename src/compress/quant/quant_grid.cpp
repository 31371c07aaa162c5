// QuantGrid helpers; the grid semantics are GPTQ's Quantizer (w = scale · (q − zero)).
#include "compress/quant/quant_grid.h"

#include <cmath>

#include "core/error.h"

namespace lmp {

int64_t n_groups_for(int64_t in, int64_t group) { return group <= 0 ? 1 : (in + group - 1) / group; }

int64_t group_width(int64_t in, int64_t group) { return group <= 0 ? in : group; }

QuantGrid make_quant_grid(int64_t out, int64_t in, int bits, int64_t group, bool sym) {
  QuantGrid g;
  g.bits = bits;
  g.group = group;
  g.sym = sym;
  const int64_t ng = n_groups_for(in, group);
  g.codes = Tensor::zeros(DType::U8, {out, in});
  g.scales = Tensor::zeros(DType::F32, {out, ng});
  g.zeros = Tensor::zeros(DType::F32, {out, ng});
  g.g_idx.resize(size_t(in));
  const int64_t w = group_width(in, group);
  for (int64_t j = 0; j < in; ++j) g.g_idx[size_t(j)] = int32_t(j / w);
  return g;
}

void set_grid_params(QuantGrid& grid, int64_t row, int64_t g, QuantParams p) {
  const int64_t ng = grid.scales.dim(1);
  grid.scales.f32()[row * ng + g] = p.scale;
  grid.zeros.f32()[row * ng + g] = p.zero;
}

QuantParams grid_params(const QuantGrid& grid, int64_t row, int64_t g) {
  const int64_t ng = grid.scales.dim(1);
  return {grid.scales.f32()[row * ng + g], grid.zeros.f32()[row * ng + g]};
}

Tensor dequantize_grid(const QuantGrid& grid) {
  const int64_t out = grid.codes.dim(0), in = grid.codes.dim(1), ng = grid.n_groups();
  LMP_CHECK(int64_t(grid.g_idx.size()) == in, "dequantize_grid: g_idx has ", grid.g_idx.size(),
            " entries, expected ", in);
  Tensor w = Tensor::zeros(DType::F32, {out, in});
  const uint8_t* codes = static_cast<const uint8_t*>(grid.codes.data());
  float* dst = w.f32();
  for (int64_t r = 0; r < out; ++r) {
    for (int64_t j = 0; j < in; ++j) {
      const int64_t g = grid.g_idx[size_t(j)];
      LMP_CHECK(g >= 0 && g < ng, "dequantize_grid: g_idx[", j, "] = ", g, ", expected [0, ", ng, ")");
      dst[r * in + j] = dequantize_code(float(codes[r * in + j]), grid_params(grid, r, g));
    }
  }
  return w;
}

bool g_idx_is_permuted(const QuantGrid& grid) {
  const int64_t in = int64_t(grid.g_idx.size());
  const int64_t w = group_width(in, grid.group);
  for (int64_t j = 0; j < in; ++j)
    if (grid.g_idx[size_t(j)] != j / w) return true;
  return false;
}

void keep_mask_on_grid(const std::string& what, CompressedLinear& c, const Tensor& mask) {
  LMP_CHECK(c.quant.has_value(), what, ": expected a quantized linear to carry the mask");
  QuantGrid& g = *c.quant;
  const int64_t out = c.weight.dim(0), in = c.weight.dim(1);
  LMP_CHECK(mask.dtype() == DType::U8 && mask.shape() == c.weight.shape(), what, ": mask: expected U8 ",
            shape_str(c.weight.shape()), ", found ", dtype_name(mask.dtype()), " ", shape_str(mask.shape()));
  const auto* keep = static_cast<const uint8_t*>(mask.data());
  auto* codes = static_cast<uint8_t*>(g.codes.mutable_data());
  float* w = c.weight.f32();
  for (int64_t r = 0; r < out; ++r)
    for (int64_t j = 0; j < in; ++j) {
      if (keep[r * in + j]) continue;
      const float zero = grid_params(g, r, g.g_idx[size_t(j)]).zero;
      LMP_CHECK(zero == std::nearbyint(zero) && zero >= 0 && zero <= float((1 << g.bits) - 1), what,
                ": row ", r, " group ", g.g_idx[size_t(j)], ": zero point ", zero, " is not a code; expected an "
                "integer in [0, ", (1 << g.bits) - 1, "]");
      codes[r * in + j] = uint8_t(zero);
      w[r * in + j] = 0.0f;
    }
  c.mask = mask;
}

}  // namespace lmp
