#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace lmp::byte_level {
namespace {

struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<int16_t, 512> to_byte{};           // byte characters are all below U+0200
  std::array<std::array<char, 3>, 256> utf8{};  // encoded form: length, then up to 2 bytes
};

bool is_printable(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

Tables build() {
  Tables t;
  t.to_byte.fill(-1);
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = is_printable(b) ? char32_t(b) : char32_t(256 + next++);
    t.to_char[b] = c;
    t.to_byte[c] = static_cast<int16_t>(b);
    std::string s;
    utf8::append(s, c);
    t.utf8[b][0] = static_cast<char>(s.size());
    for (size_t k = 0; k < s.size(); ++k) t.utf8[b][1 + k] = s[k];
  }
  return t;
}

const Tables& tables() {
  static const Tables t = build();
  return t;
}

}  // namespace

char32_t byte_to_char(uint8_t byte) { return tables().to_char[byte]; }

int char_to_byte(char32_t cp) { return cp < 512 ? tables().to_byte[cp] : -1; }

void encode_bytes(std::string_view bytes, std::string& out) {
  const Tables& t = tables();
  for (char c : bytes) {
    const auto& e = t.utf8[static_cast<uint8_t>(c)];
    out.append(&e[1], static_cast<size_t>(e[0]));
  }
}

bool decode_chars(std::string_view text, std::string& out) {
  size_t i = 0;
  while (i < text.size()) {
    char32_t cp;
    i += utf8::decode(text, i, &cp);
    const int b = char_to_byte(cp);
    if (b < 0) return false;
    out.push_back(static_cast<char>(b));
  }
  return true;
}

}  // namespace lmp::byte_level
