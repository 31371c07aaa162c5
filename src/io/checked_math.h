// Overflow-checked size arithmetic for parsers: every size computed from a file's header goes through
// these, so a hostile header yields a clear error instead of a wrapped-around allocation.
#pragma once
#include <cstdint>
#include <optional>

namespace lmp {

// a * b, or nullopt on overflow.
inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// a + b, or nullopt on overflow.
inline std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

}  // namespace lmp
