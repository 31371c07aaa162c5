// Post-processors of tokenizer.json ("post_processor"), reduced to what a single sequence gets:
// the special-token ids put before and after it (TemplateProcessing "single", Bert/Roberta cls/sep,
// Sequence of those; ByteLevel adds none).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lmp {

class JsonView;

struct SequenceTemplate {
  std::vector<int32_t> prefix;  // e.g. [1] (<s>) for LLaMA
  std::vector<int32_t> suffix;  // e.g. [2] for templates that append </s>
};

// Parses a "post_processor" value (null gives an empty template).
SequenceTemplate parse_post_processor(const JsonView& j);

}  // namespace lmp
