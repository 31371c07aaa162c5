// Pre-tokenizers of tokenizer.json ("pre_tokenizer"): Metaspace, ByteLevel (GPT-2 regex), Split and
// Sequence, with HF's semantics: each one rewrites and splits every piece the previous one produced;
// empty pieces are dropped.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lmp {

class JsonView;

struct PreSplit {
  std::string text;
  bool at_start = false;  // begins at offset 0 of the original input (Metaspace prepend_scheme "first")
};

// HF SplitDelimiterBehavior.
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Cuts s into pieces [begin, end) given the matches of a pattern, following `behavior` (after
// swapping match and non-match when `invert`). Empty pieces are omitted.
void split_at_matches(size_t size, const std::vector<std::pair<size_t, size_t>>& matches, SplitBehavior behavior,
                      bool invert, std::vector<std::pair<size_t, size_t>>& pieces);

// The regex GPT-2's ByteLevel pre-tokenizer splits with.
extern const char* const kGpt2SplitRegex;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void apply(std::vector<PreSplit>& splits) const = 0;
  virtual std::string name() const = 0;  // "Metaspace", "ByteLevel", "Sequence[Split, ByteLevel]"
};

// Parses a "pre_tokenizer" value; null gives nullptr. Unknown types fail naming the field and type.
std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const JsonView& j);

// The parameters of a Metaspace pre-tokenizer (for decoders and the tokenizer's word splitting).
enum class PrependScheme { Always, First, Never };
PrependScheme parse_prepend_scheme(const JsonView& j);  // prepend_scheme or legacy add_prefix_space

}  // namespace lmp
