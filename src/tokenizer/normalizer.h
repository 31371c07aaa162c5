// Normalizers of tokenizer.json ("normalizer"), applied to each piece of text between added tokens
// before pre-tokenization: Sequence, Prepend, Replace, NFC/NFD/NFKC/NFKD, Lowercase, Strip.
#pragma once
#include <memory>
#include <string>

namespace lmp {

class JsonView;

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::string apply(std::string s) const = 0;
};

// Parses a "normalizer" value; null gives nullptr. Unknown types fail naming the field and type.
std::unique_ptr<Normalizer> parse_normalizer(const JsonView& j);

}  // namespace lmp
