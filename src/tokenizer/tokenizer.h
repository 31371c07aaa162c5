// Tokenizer: text <-> token ids. Two implementations: HF tokenizer.json BPE (hf_bpe_tokenizer.h,
// SentencePiece-style Metaspace and byte-level) and SentencePiece-semantics score merging over an
// SpmVocab (spm_tokenizer.h) for GGUF-embedded and llama2.c vocabularies.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/spm_vocab.h"

namespace lmp {

// State that one thread may carry across many encode_in() calls (a word cache); opaque to callers.
class EncodeSession {
 public:
  virtual ~EncodeSession() = default;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Token ids of `text`; BOS is prepended when `add_bos` and the tokenizer defines one.
  // Throws lmp::Error on text that is not valid UTF-8.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos = true) const = 0;
  // A session for encode_in(); null when the tokenizer keeps no state between calls.
  virtual std::unique_ptr<EncodeSession> new_session() const { return nullptr; }
  // encode() reusing `session` (from new_session(), one thread at a time; null allowed): same ids,
  // faster over many texts that share words (calibration pools).
  virtual std::vector<int32_t> encode_in(EncodeSession* session, std::string_view text, bool add_bos = true) const {
    return encode(text, add_bos);
  }
  // Text of `ids`, special tokens skipped (HF skip_special_tokens=True).
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  // The raw vocabulary entry of one id ("▁the", "Ġthe", "<0x0A>").
  virtual std::string piece(int32_t id) const = 0;
  virtual bool is_special(int32_t id) const = 0;
  virtual int32_t bos_id() const = 0;  // -1 when the tokenizer adds no BOS
  virtual int32_t eos_id() const = 0;  // -1 when none
  virtual int64_t vocab_size() const = 0;
  virtual std::string description() const = 0;  // "HF BPE (Metaspace, byte fallback), 32000 tokens"
};

// Loads an HF tokenizer.json (BPE model). tokenizer_config.json beside it, when present, is read for
// add_bos_token. Errors name the file and the JSON field.
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& tokenizer_json_path);
// Builds a score-merging tokenizer (sentencepiece / llama.cpp semantics) over an embedded vocabulary.
std::unique_ptr<Tokenizer> make_spm_tokenizer(SpmVocab vocab);

}  // namespace lmp
