// UTF-8 helpers for the tokenizers: strict validation (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF) with the byte offset of the first bad byte, code point decoding and encoding, and a
// lossy conversion that replaces each maximal invalid subsequence by U+FFFD (as Rust's from_utf8_lossy).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lmp::utf8 {

// Byte offset of the first byte that does not start a valid sequence, or -1 when `s` is valid UTF-8.
int64_t find_invalid(std::string_view s);
// Throws lmp::Error "<what>: invalid UTF-8 at byte N (0xXX)" unless `s` is valid.
void validate(std::string_view s, std::string_view what);
// Length in bytes of a valid sequence starting with `lead` (1 for anything that is not a lead byte).
inline int seq_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}
// Decodes the code point starting at s[i] of a string already known to be valid; returns its length.
int decode(std::string_view s, size_t i, char32_t* cp);
// Appends the UTF-8 encoding of `cp` (must be a Unicode scalar value).
void append(std::string& out, char32_t cp);
// Valid UTF-8 of `bytes`: each maximal invalid subsequence becomes U+FFFD.
std::string to_valid_lossy(std::string_view bytes);
// Number of code points of a valid string.
size_t count_chars(std::string_view s);

}  // namespace lmp::utf8

namespace lmp::utf8 {
// Unicode White_Space property (what Rust's char::is_whitespace tests).
inline bool is_whitespace(char32_t c) {
  if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return true;
  if (c < 0x85) return false;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}
}  // namespace lmp::utf8
