// Bits per weight of each representation (definitions in compressed_linear.cpp) and sparsity.
#include <gtest/gtest.h>

#include <random>

#include "compress/compressed_linear.h"
#include "compress/quant/gptq.h"
#include "compress/quant/nf4.h"
#include "compress/quant/rtn.h"
#include "test_util.h"

namespace lmp {
namespace {

using test::random_weight;

TEST(BitsPerWeight, Dense) {
  CompressedLinear c;
  c.weight = random_weight(4, 8, 1);
  const BitsPerWeight b = bits_per_weight(c);
  EXPECT_EQ(b.codes, 32.0);
  EXPECT_EQ(b.total, 32.0);
  EXPECT_EQ(c.sparsity(), 0.0);
}

TEST(BitsPerWeight, SparseStoresKeptValuesPlusMask) {
  CompressedLinear c;
  c.kind = CompressedLinear::Kind::Sparse;
  c.weight = Tensor::from_f32({1, 4}, {0.0f, 1.0f, 0.0f, 2.0f});
  c.mask = Tensor::zeros(DType::U8, {1, 4});
  static_cast<uint8_t*>(c.mask.mutable_data())[1] = 1;
  static_cast<uint8_t*>(c.mask.mutable_data())[3] = 1;
  EXPECT_EQ(c.sparsity(), 0.5);
  const BitsPerWeight b = bits_per_weight(c);
  EXPECT_EQ(b.codes, 16.0);
  EXPECT_EQ(b.total, 17.0);
}

TEST(BitsPerWeight, QuantizedGroupsAndGIdx) {
  CompressedLinear c = rtn_quantize(random_weight(8, 256, 2), {4, false}, 128);
  BitsPerWeight b = bits_per_weight(c);
  EXPECT_EQ(b.codes, 4.0);
  EXPECT_DOUBLE_EQ(b.total, 4.0 + 32.0 * 2 / 256);  // f16 scale + zero per 128 columns
  CompressedLinear row = rtn_quantize(random_weight(8, 256, 2), {2, false}, -1);
  EXPECT_DOUBLE_EQ(bits_per_weight(row).total, 2.0 + 32.0 / 256);
  // a non-trivial g_idx costs 32 bits per input column, amortized over the rows
  std::reverse(c.quant->g_idx.begin(), c.quant->g_idx.end());
  EXPECT_DOUBLE_EQ(bits_per_weight(c).total, 4.0 + 32.0 * 2 / 256 + 32.0 / 8);
}

TEST(BitsPerWeight, Nf4WithAndWithoutDoubleQuant) {
  const Tensor w = random_weight(64, 1024, 3);
  EXPECT_DOUBLE_EQ(bits_per_weight(nf4_quantize(w, 64, false)).total, 4.5);
  const BitsPerWeight b = bits_per_weight(nf4_quantize(w, 64, true));
  EXPECT_EQ(b.codes, 4.0);
  EXPECT_DOUBLE_EQ(b.total, 4.0 + (8.0 * 1024 + 32.0 * 4 + 32.0) / (64.0 * 1024));
}

}  // namespace
}  // namespace lmp
