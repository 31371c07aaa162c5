// Element types of tensors and the scalar conversions between them (f16, bf16 <-> f32).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace lmp {

// Block-quantized GGUF types carry their block layout; `dtype_block_*` describe it.
enum class DType : uint8_t { F32, F16, BF16, F64, I8, I16, I32, I64, U8, BOOL, Q8_0, Q4_0, Q4_K, Q6_K };

std::string_view dtype_name(DType t);
// Number of elements in one storage block (1 for scalar types, 32 for Q8_0 / Q4_0, 256 for Q4_K / Q6_K).
size_t dtype_block_elems(DType t);
// Bytes of one storage block.
size_t dtype_block_bytes(DType t);
// Bytes needed for n elements; n must be a multiple of the block size (checked by callers).
size_t dtype_nbytes(DType t, size_t n);
bool dtype_is_float(DType t);

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round-to-nearest-even, NaN preserved (as PyTorch does).
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

// f rounded to the nearest bf16 / f16 value (ties to even), as f32: what storing it in that type keeps.
inline float round_to_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }
inline float round_to_f16(float f) { return f16_to_f32(f32_to_f16(f)); }

// Converts n elements of a scalar float type (F32, F16, BF16, F64) to f32.
void convert_to_f32(DType t, const void* src, float* dst, size_t n);

}  // namespace lmp
