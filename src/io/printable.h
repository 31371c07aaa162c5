// printable(): a name or value read from a file, made safe for a one-line error message (control bytes
// escaped as \n, \xNN; long strings cut with "...").
#pragma once
#include <string>
#include <string_view>

namespace lmp {

inline std::string printable(std::string_view s, size_t max_len = 160) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < max_len; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') out += "\\n";
    else if (c < 0x20 || c == 0x7f) { out += "\\x"; out += hex[c >> 4]; out += hex[c & 15]; }
    else out += char(c);
  }
  if (out.size() >= max_len && s.size() > max_len) out += "...";
  return out;
}

}  // namespace lmp
