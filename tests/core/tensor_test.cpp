// Tensor buffers: f32_buffer hands back a tensor it may overwrite only when nothing else shares it.
#include "core/tensor.h"

#include <gtest/gtest.h>

namespace lmp {
namespace {

TEST(Tensor, F32BufferReusesOnlyASoleOwnerOfTheSameShape) {
  Tensor a = Tensor::zeros(DType::F32, {4, 8});
  const void* pa = a.data();
  EXPECT_EQ(Tensor::f32_buffer({4, 8}, std::move(a)).data(), pa);  // reused
  Tensor b = Tensor::zeros(DType::F32, {4, 8});
  const Tensor shared = b;  // a copy shares the buffer: overwriting it would change `shared`
  EXPECT_NE(Tensor::f32_buffer({4, 8}, b).data(), shared.data());
  Tensor c = Tensor::zeros(DType::F32, {4, 8});
  const void* pc = c.data();
  const Tensor other = Tensor::f32_buffer({8, 4}, std::move(c));  // another shape: a new buffer
  EXPECT_NE(other.data(), pc);
  EXPECT_EQ(other.shape(), Shape({8, 4}));
  Tensor bf = Tensor::zeros(DType::BF16, {4, 8});
  EXPECT_EQ(Tensor::f32_buffer({4, 8}, std::move(bf)).dtype(), DType::F32);
  float x = 0;
  EXPECT_NE(Tensor::f32_buffer({1}, Tensor::view(DType::F32, {1}, &x, nullptr)).data(), &x);  // views: never
}

}  // namespace
}  // namespace lmp
