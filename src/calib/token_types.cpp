#include "calib/token_types.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <unordered_map>

#include "tokenizer/utf8.h"

namespace lmp {

std::string TypeTable::normalize(std::string_view decoded) {
  const std::string text = utf8::to_valid_lossy(decoded);
  std::string out;
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    i += size_t(utf8::decode(text, i, &cp));
    if (cp == U' ' || cp == U'\u2581' || cp == U'\u0120') continue;  // space, ▁, Ġ
    utf8::append(out, char32_t(u_tolower(UChar32(cp))));
  }
  size_t b = 0, e = out.size();
  while (b < e) {  // strip leading whitespace
    char32_t cp;
    const int n = utf8::decode(out, b, &cp);
    if (!utf8::is_whitespace(cp)) break;
    b += size_t(n);
  }
  while (e > b) {  // strip trailing whitespace: step back to the lead byte
    size_t s = e - 1;
    while (s > b && (static_cast<unsigned char>(out[s]) & 0xC0) == 0x80) --s;
    char32_t cp;
    utf8::decode(out, s, &cp);
    if (!utf8::is_whitespace(cp)) break;
    e = s;
  }
  return out.substr(b, e - b);
}

TypeTable::TypeTable(const Tokenizer& tok) {
  const int64_t v = tok.vocab_size();
  types_.assign(size_t(v), -1);
  std::unordered_map<std::string, int32_t> ids;
  for (int64_t id = 0; id < v; ++id) {
    const int32_t t = int32_t(id);
    if (tok.is_special(t)) continue;
    std::string name = normalize(tok.decode(std::span<const int32_t>(&t, 1)));
    if (name.empty()) continue;
    auto [it, inserted] = ids.try_emplace(name, int32_t(names_.size()));
    if (inserted) names_.push_back(std::move(name));
    types_[size_t(id)] = it->second;
  }
}

std::vector<uint32_t> TypeTable::type_set(std::span<const int32_t> ids) const {
  std::vector<uint32_t> out;
  out.reserve(ids.size());
  for (int32_t id : ids) {
    const int32_t t = type_of(id);
    if (t >= 0) out.push_back(uint32_t(t));
  }
  if (out.size() > 64) {  // counting sort through a bitmap beats sorting for a sample's worth of ids
    std::vector<uint64_t> bits((names_.size() + 63) / 64, 0);
    for (uint32_t t : out) bits[t >> 6] |= uint64_t(1) << (t & 63);
    out.clear();
    for (size_t w = 0; w < bits.size(); ++w)
      for (uint64_t b = bits[w]; b; b &= b - 1) out.push_back(uint32_t(w * 64 + size_t(__builtin_ctzll(b))));
    return out;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void TypeTable::count(std::span<const int32_t> ids, std::vector<int64_t>& counts) const {
  for (int32_t id : ids) {
    const int32_t t = type_of(id);
    if (t >= 0) ++counts[size_t(t)];
  }
}

}  // namespace lmp
