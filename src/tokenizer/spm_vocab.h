// SpmVocab: a SentencePiece-semantics vocabulary (pieces, scores, token types) as embedded in GGUF files
// and llama2.c tokenizer files. Encoding merges by score (see spm_tokenizer.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lmp {

// SentencePiece / GGUF token types.
enum class SpmTokenType : int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct SpmVocab {
  std::vector<std::string> pieces;   // "▁the", "<0x0A>", "<s>", ...
  std::vector<float> scores;         // merge priority: higher merges first
  std::vector<SpmTokenType> types;   // empty = derive (<0xNN> -> Byte, <s>/</s>/<unk> -> Control/Unknown)
  int32_t bos_id = 1;
  int32_t eos_id = 2;
  int32_t unk_id = 0;
  bool add_bos = true;
  bool add_space_prefix = true;      // prepend "▁" to the text (sentencepiece's add_dummy_prefix)
};

}  // namespace lmp
