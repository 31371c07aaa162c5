// The E4M3 value table and the checked encoder (core/fp8.h).
#include "core/fp8.h"

#include <array>
#include <cstddef>

namespace lmp {

namespace {
constexpr std::array<float, 256> make_table() {
  std::array<float, 256> t{};
  for (int c = 0; c < 256; ++c) t[std::size_t(c)] = fp8_e4m3_decode_bits(uint8_t(c));
  return t;
}
constexpr std::array<float, 256> kTable = make_table();
static_assert(kTable[0x7E] == 448.0f && kTable[0x01] == 1.0f / 512.0f && kTable[0x08] == 1.0f / 64.0f);
static_assert(kTable[0x38] == 1.0f && kTable[0xB8] == -1.0f);
}  // namespace

const float* fp8_e4m3_table() { return kTable.data(); }

bool fp8_e4m3_try_encode(float x, uint8_t& code) {
  if (x != x) return false;
  code = fp8_e4m3_encode(x);
  return true;
}

}  // namespace lmp
