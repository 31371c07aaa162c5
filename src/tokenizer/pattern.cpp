#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pattern.h"

#include <pcre2.h>

#include "core/error.h"
#include "tokenizer/json_view.h"
#include "tokenizer/utf8.h"

namespace lmp {

Pattern Pattern::literal(std::string text) {
  Pattern p;
  p.text_ = std::move(text);
  return p;
}

Pattern Pattern::regex(const std::string& expr, const std::string& where) {
  int err = 0;
  PCRE2_SIZE err_off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(expr.data()), expr.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &err_off, nullptr);
  if (!code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    fail(where, ": cannot compile regex: ", reinterpret_cast<const char*>(msg), " at offset ", err_off);
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
  Pattern p;
  p.text_ = expr;
  p.code_ = std::shared_ptr<void>(code, [](void* c) { pcre2_code_free(static_cast<pcre2_code*>(c)); });
  return p;
}

Pattern Pattern::from_json(const JsonView& j) {
  if (j.has("String")) return literal(j.at("String").str());
  if (j.has("Regex")) return regex(j.at("Regex").str(), j.file() + ": field '" + j.path() + ".Regex'");
  j.fail_here("expected {\"String\": ...} or {\"Regex\": ...}");
}

void Pattern::find_matches(std::string_view s, std::vector<std::pair<size_t, size_t>>& out) const {
  out.clear();
  if (!code_) {
    if (text_.empty()) return;
    for (size_t at = s.find(text_); at != std::string_view::npos; at = s.find(text_, at + text_.size()))
      out.emplace_back(at, at + text_.size());
    return;
  }
  auto* code = static_cast<pcre2_code*>(code_.get());
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(s.data());
  size_t start = 0;
  while (start <= s.size()) {
    const int rc = pcre2_match(code, subject, s.size(), start, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) break;  // no match (or a match-limit error: the rest stays unsplit)
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    if (ov[1] > ov[0]) {
      out.emplace_back(ov[0], ov[1]);
      start = ov[1];
    } else {  // an empty match: step over one character
      if (ov[0] >= s.size()) break;
      start = ov[0] + utf8::seq_len(static_cast<unsigned char>(s[ov[0]]));
    }
  }
  pcre2_match_data_free(md);
}

std::string Pattern::replace_all(std::string_view s, std::string_view with) const {
  std::vector<std::pair<size_t, size_t>> m;
  find_matches(s, m);
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (auto [b, e] : m) {
    out.append(s.substr(pos, b - pos));
    out.append(with);
    pos = e;
  }
  out.append(s.substr(pos));
  return out;
}

}  // namespace lmp
