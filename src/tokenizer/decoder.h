// Decoders of tokenizer.json ("decoder"), HF semantics: each rewrites the list of token strings
// (decode_chain) and the result is concatenated. Replace, ByteFallback, Fuse, Strip, ByteLevel,
// Metaspace, Sequence.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace lmp {

class JsonView;

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void apply(std::vector<std::string>& tokens) const = 0;
};

// Parses a "decoder" value; null gives nullptr (tokens are then joined with spaces, as HF does).
std::unique_ptr<Decoder> parse_decoder(const JsonView& j);

// The value of a byte-fallback piece "<0xNN>" (exactly six characters, two hex digits), or -1.
int byte_piece_value(const std::string& piece);

}  // namespace lmp
