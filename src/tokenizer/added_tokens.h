// Added tokens (tokenizer.json "added_tokens"): literal strings such as <s>, </s>, <|endoftext|> that
// are cut out of the text before normalization / pre-tokenization and become their id directly.
// Matching is left-most, longest first (HF uses Aho-Corasick LeftmostLongest); lstrip / rstrip absorb
// the whitespace on that side; a single_word token only matches between non-word characters.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lmp {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool lstrip = false, rstrip = false, single_word = false, normalized = false;
};

// A piece of the text: ordinary text (id < 0) or one matched added token.
struct TextPiece {
  std::string_view text;
  int32_t id = -1;
  size_t offset = 0;  // byte offset of `text` in the string that was split
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);
  bool empty() const { return tokens_.empty(); }
  // Splits `text` (valid UTF-8) into ordinary pieces and tokens; empty ordinary pieces are omitted.
  void split(std::string_view text, std::vector<TextPiece>& out) const;

 private:
  // Index of the longest token matching at `pos`, or -1.
  int match_at(std::string_view text, size_t pos) const;
  std::vector<AddedToken> tokens_;  // longest first
  std::array<std::vector<int>, 256> by_first_byte_;
};

}  // namespace lmp
