#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace lmp {
namespace {

// Word characters for single_word: ASCII alphanumerics, '_', and every non-ASCII character
// (an approximation of Unicode alphanumerics that is exact for ASCII text).
bool is_word_char(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (c >= 0x80 && !utf8::is_whitespace(c));
}

char32_t char_before(std::string_view s, size_t pos, size_t* start) {
  size_t k = pos - 1;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  char32_t cp;
  utf8::decode(s, k, &cp);
  *start = k;
  return cp;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) {
  for (auto& t : tokens)
    if (!t.content.empty()) tokens_.push_back(std::move(t));
  std::stable_sort(tokens_.begin(), tokens_.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  for (size_t i = 0; i < tokens_.size(); ++i)
    by_first_byte_[static_cast<unsigned char>(tokens_[i].content[0])].push_back(static_cast<int>(i));
}

int AddedTokenMatcher::match_at(std::string_view text, size_t pos) const {
  for (int i : by_first_byte_[static_cast<unsigned char>(text[pos])]) {
    const std::string& c = tokens_[i].content;
    if (text.compare(pos, c.size(), c) != 0) continue;
    if (tokens_[i].single_word) {
      size_t s;
      char32_t cp;
      if (pos > 0 && is_word_char(char_before(text, pos, &s))) continue;
      const size_t end = pos + c.size();
      if (end < text.size() && (utf8::decode(text, end, &cp), is_word_char(cp))) continue;
    }
    return i;
  }
  return -1;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<TextPiece>& out) const {
  out.clear();
  size_t done = 0;  // text before this offset is already emitted
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (by_first_byte_[static_cast<unsigned char>(text[pos])].empty()) continue;
    const int i = match_at(text, pos);
    if (i < 0) continue;
    const AddedToken& t = tokens_[i];
    size_t b = pos, e = pos + t.content.size();
    if (t.lstrip) {
      size_t s;
      while (b > done && utf8::is_whitespace(char_before(text, b, &s))) b = s;
    }
    if (t.rstrip) {
      char32_t cp;
      while (e < text.size()) {
        const int len = utf8::decode(text, e, &cp);
        if (!utf8::is_whitespace(cp)) break;
        e += len;
      }
    }
    if (b > done) out.push_back({text.substr(done, b - done), -1, done});
    out.push_back({text.substr(b, e - b), t.id, b});
    done = e;
    pos = e - 1;
  }
  if (done < text.size()) out.push_back({text.substr(done), -1, done});
}

}  // namespace lmp
