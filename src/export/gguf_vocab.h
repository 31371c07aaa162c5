// The tokenizer of a GGUF export as tokenizer.ggml.* metadata (model "llama": tokens, scores, token
// types, special ids, add_bos / add_space_prefix). SentencePiece vocabularies (GGUF and llama2.c inputs)
// are written as they are. A tokenizer.json holding a SentencePiece-style BPE (Metaspace "▁", byte
// fallback — what HF converts LLaMA / Mistral tokenizers to) is converted: pieces in id order, the piece
// made by merge r scored −r (so SentencePiece's highest-score-first merging replays the BPE merge order),
// types from added_tokens / "<0xNN>". Any other tokenizer is left out, with a warning on stderr.
#pragma once
#include <optional>
#include <string>

#include "io/checkpoint.h"
#include "io/gguf_writer.h"
#include "tokenizer/spm_vocab.h"

namespace lmp {

// The SentencePiece view of a tokenizer.json, or nullopt with the reason in `why`.
std::optional<SpmVocab> spm_vocab_from_tokenizer_json(const std::string& path, std::string* why);

// Writes the tokenizer.ggml.* keys of `input`'s tokenizer to `f` (or warns that it cannot).
void write_gguf_vocab(const Checkpoint& input, GgufFileWriter& f);

}  // namespace lmp
