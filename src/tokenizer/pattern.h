// Pattern: a literal string or a PCRE2 regular expression (UTF + UCP, JIT when available), as the
// "pattern": {"String": ...} / {"Regex": ...} objects of tokenizer.json. HF uses Oniguruma; the
// expressions tokenizers ship (GPT-2, LLaMA-3, Qwen2 splits) mean the same in PCRE2.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lmp {

class JsonView;

class Pattern {
 public:
  static Pattern literal(std::string text);
  // Throws lmp::Error "<where>: cannot compile regex ...: <PCRE2 message> at offset N".
  static Pattern regex(const std::string& expr, const std::string& where);
  // From {"String": s} or {"Regex": r}.
  static Pattern from_json(const JsonView& j);

  // Non-overlapping, non-empty matches in `s` (valid UTF-8), left to right, as [begin, end) offsets.
  void find_matches(std::string_view s, std::vector<std::pair<size_t, size_t>>& out) const;
  // `s` with every match replaced by `with`.
  std::string replace_all(std::string_view s, std::string_view with) const;
  bool is_literal() const { return !code_; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::shared_ptr<void> code_;  // pcre2_code_8*, freed with pcre2_code_free_8
};

}  // namespace lmp
