#include "core/tensor.h"

#include <cstring>

#include "core/error.h"

namespace lmp {

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Tensor Tensor::allocate(DType dtype, Shape shape, bool zero) {
  for (int64_t d : shape) LMP_CHECK(d >= 0, "tensor: negative dimension in shape ", shape_str(shape));
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  const size_t bytes = std::max<size_t>(t.nbytes(), 1);
  auto buf = std::shared_ptr<uint8_t[]>(zero ? new uint8_t[bytes]() : new uint8_t[bytes]);
  t.data_ = buf.get();
  t.keep_ = std::shared_ptr<const void>(buf, buf.get());
  t.owned_ = true;
  return t;
}

Tensor Tensor::zeros(DType dtype, Shape shape) { return allocate(dtype, std::move(shape), true); }

Tensor Tensor::uninitialized(DType dtype, Shape shape) { return allocate(dtype, std::move(shape), false); }

Tensor Tensor::f32_buffer(Shape shape, Tensor reuse) {
  if (reuse.owned_ && reuse.dtype_ == DType::F32 && reuse.shape_ == shape && reuse.keep_.use_count() == 1)
    return reuse;
  return uninitialized(DType::F32, std::move(shape));
}

Tensor Tensor::from_f32(Shape shape, std::vector<float> values) {
  LMP_CHECK(int64_t(values.size()) == shape_numel(shape), "tensor: ", values.size(),
            " values do not fill shape ", shape_str(shape));
  Tensor t = zeros(DType::F32, std::move(shape));
  if (!values.empty()) std::memcpy(t.mutable_data(), values.data(), values.size() * 4);
  return t;
}

Tensor Tensor::view(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> owner) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = data;
  t.keep_ = std::move(owner);
  t.owned_ = false;
  return t;
}

void* Tensor::mutable_data() {
  LMP_CHECK(owned_, "tensor: cannot write to a read-only view of shape ", shape_str(shape_));
  return const_cast<void*>(data_);
}

const float* Tensor::f32() const {
  LMP_CHECK(dtype_ == DType::F32, "tensor: expected dtype F32, found ", dtype_name(dtype_));
  return static_cast<const float*>(data_);
}

float* Tensor::f32() {
  LMP_CHECK(dtype_ == DType::F32, "tensor: expected dtype F32, found ", dtype_name(dtype_));
  return static_cast<float*>(mutable_data());
}

Tensor Tensor::to_f32() const {
  Tensor out = zeros(DType::F32, shape_);
  convert_to_f32(dtype_, data_, out.f32(), size_t(numel()));
  return out;
}

Tensor Tensor::reshaped(Shape shape) const {
  LMP_CHECK(shape_numel(shape) == numel(), "tensor: cannot reshape ", shape_str(shape_), " to ",
            shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

}  // namespace lmp
