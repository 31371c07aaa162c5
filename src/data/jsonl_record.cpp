#include "data/jsonl_record.h"

#include <cstring>

namespace lmp {
namespace {

// A key or character from the input, safe to put in a one-line message: control bytes become '?',
// long keys are cut.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  if (s.size() > 40) out += "...";
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}
  std::string error;

  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
  }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool expect(char c) {
    ws();
    if (peek() == c) {
      ++i_;
      return true;
    }
    return bad(std::string("expected '") + c + "'");
  }
  bool bad(const std::string& what) {
    if (error.empty()) error = what + " at column " + std::to_string(i_ + 1);
    return false;
  }
  bool string(std::string* out);
  bool skip_value(int depth);
  bool object(std::string_view text_key, JsonlRecord& rec);

 private:
  bool hex4(uint32_t& v);
  bool escape(std::string* out);
  std::string_view s_;
  size_t i_ = 0;
};

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {  // lone surrogates land here and stay invalid UTF-8
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

bool Parser::hex4(uint32_t& v) {
  if (i_ + 4 > s_.size()) return bad("truncated \\u escape");
  v = 0;
  for (int k = 0; k < 4; ++k) {
    const char c = s_[i_++];
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return bad("bad hex digit in \\u escape");
    v = v * 16 + uint32_t(d);
  }
  return true;
}

// After a backslash.
bool Parser::escape(std::string* out) {
  if (at_end()) return bad("truncated escape");
  const char c = s_[i_++];
  char lit = 0;
  switch (c) {
    case '"': lit = '"'; break;
    case '\\': lit = '\\'; break;
    case '/': lit = '/'; break;
    case 'b': lit = '\b'; break;
    case 'f': lit = '\f'; break;
    case 'n': lit = '\n'; break;
    case 'r': lit = '\r'; break;
    case 't': lit = '\t'; break;
    case 'u': {
      uint32_t cp;
      if (!hex4(cp)) return false;
      if (cp >= 0xD800 && cp < 0xDC00 && i_ + 6 <= s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
        const size_t save = i_;
        i_ += 2;
        uint32_t lo;
        if (!hex4(lo)) return false;
        if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        else i_ = save;  // not a pair: the high surrogate stays alone
      }
      if (out) append_utf8(*out, cp);
      return true;
    }
    default: return bad("bad escape '\\" + printable(std::string_view(&c, 1)) + "'");
  }
  if (out) out->push_back(lit);
  return true;
}

// At the opening quote; appends the decoded string to *out when out is not null.
bool Parser::string(std::string* out) {
  ws();
  if (peek() != '"') return bad("expected a string");
  ++i_;
  for (;;) {
    size_t j = i_;
    while (j < s_.size() && s_[j] != '"' && s_[j] != '\\') ++j;
    if (out) out->append(s_.data() + i_, j - i_);
    i_ = j;
    if (at_end()) return bad("unterminated string");
    if (s_[i_++] == '"') return true;
    if (!escape(out)) return false;
  }
}

bool Parser::skip_value(int depth) {
  if (depth > 256) return bad("nesting too deep");
  ws();
  const char c = peek();
  if (c == '"') return string(nullptr);
  if (c == '{' || c == '[') {
    const char close = c == '{' ? '}' : ']';
    ++i_;
    ws();
    if (peek() == close) return ++i_, true;
    for (;;) {
      if (c == '{' && !(string(nullptr) && expect(':'))) return false;
      if (!skip_value(depth + 1)) return false;
      ws();
      if (peek() == close) return ++i_, true;
      if (!expect(',')) return false;
    }
  }
  const size_t start = i_;  // number or literal
  while (i_ < s_.size() && std::strchr("+-.0123456789eEtruefalsn", s_[i_])) ++i_;
  const std::string_view tok = s_.substr(start, i_ - start);
  if (tok.empty()) return bad("expected a value");
  if (tok == "true" || tok == "false" || tok == "null") return true;
  if (tok[0] == '-' || (tok[0] >= '0' && tok[0] <= '9')) return true;
  i_ = start;
  return bad("expected a value");
}

bool Parser::object(std::string_view text_key, JsonlRecord& rec) {
  if (!expect('{')) return false;
  ws();
  if (peek() == '}') return ++i_, true;
  std::string key;
  for (;;) {
    key.clear();
    if (!string(&key) || !expect(':')) return false;
    ws();
    const bool is_text = key == text_key, is_source = key == "source";
    if (is_text && peek() != '"') return bad("field '" + printable(key) + "' is not a string");
    if (is_text) {
      rec.text.clear();
      if (!string(&rec.text)) return false;
      rec.has_text = true;
    } else if (is_source && peek() == '"') {
      rec.source.clear();
      if (!string(&rec.source)) return false;
      rec.has_source = true;
    } else if (!skip_value(0)) {
      return false;
    }
    ws();
    if (peek() == '}') return ++i_, true;
    if (!expect(',')) return false;
  }
}

}  // namespace

std::string parse_jsonl_record(std::string_view line, std::string_view text_key, JsonlRecord& out) {
  out.has_text = out.has_source = false;
  out.text.clear();
  out.source.clear();
  Parser p(line);
  p.ws();
  if (p.peek() != '{') return "expected a JSON object";
  if (!p.object(text_key, out)) return p.error;
  p.ws();
  if (!p.at_end()) {
    p.bad("unexpected text after the object");
    return p.error;
  }
  if (!out.has_text) return "no string field '" + printable(text_key) + "'";
  return "";
}

}  // namespace lmp
