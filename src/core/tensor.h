// Tensor: a dtype, a shape and bytes that are either owned or a view into memory someone else keeps
// alive (a memory-mapped file). Row-major, contiguous.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace lmp {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& s);  // "[4096, 11008]"
int64_t shape_numel(const Shape& s);

class Tensor {
 public:
  Tensor() = default;
  // An owning, zero-filled tensor.
  static Tensor zeros(DType dtype, Shape shape);
  // An owning tensor whose bytes are left as they are: for buffers the caller overwrites in full.
  static Tensor uninitialized(DType dtype, Shape shape);
  // A buffer to overwrite in full with f32 values of `shape`: `reuse` itself when it is an f32 tensor of
  // that shape whose buffer nothing else shares (its pages already faulted in), else a new one.
  static Tensor f32_buffer(Shape shape, Tensor reuse);
  // An owning f32 tensor holding `values` (size must equal the shape's element count).
  static Tensor from_f32(Shape shape, std::vector<float> values);
  // A read-only view; `owner` keeps the bytes alive (may be null for static memory).
  static Tensor view(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> owner);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  size_t ndim() const { return shape_.size(); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return dtype_nbytes(dtype_, size_t(numel())); }
  bool empty() const { return data_ == nullptr; }
  bool is_view() const { return !owned_; }

  const void* data() const { return data_; }
  void* mutable_data();
  // Typed f32 access; throws unless dtype is F32.
  const float* f32() const;
  float* f32();

  // A copy converted to f32 (scalar float types only; block-quantized types are dequantized by io/).
  Tensor to_f32() const;
  // Same bytes, new shape with the same element count.
  Tensor reshaped(Shape shape) const;

 private:
  static Tensor allocate(DType dtype, Shape shape, bool zero);

  DType dtype_ = DType::F32;
  Shape shape_;
  const void* data_ = nullptr;
  bool owned_ = false;
  std::shared_ptr<const void> keep_;  // owned buffer or the owner of a view
};

}  // namespace lmp
