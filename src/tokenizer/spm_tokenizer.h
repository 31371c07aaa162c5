// SpmTokenizer: SentencePiece BPE semantics over an SpmVocab (GGUF-embedded or llama2.c vocabulary),
// as sentencepiece and llama.cpp (llm_tokenizer_spm) apply them: spaces become "▁", the text gets a
// "▁" prefix (add_space_prefix), adjacent symbols are merged by the highest score of the resulting
// piece (left-most on ties), characters that end up outside the vocabulary become <0xNN> byte pieces
// (else unk). Control / user-defined / unknown pieces written literally in the text become their id,
// as llama.cpp does with parse_special; the "▁" prefix then goes before each text fragment that
// follows such a token, unless the fragment already starts with a space (HF Metaspace "always").
// Deviation from llama.cpp: merges join symbols by id, so a character that is not itself a piece
// never merges (sentencepiece vocabularies contain every character of their pieces).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_merges.h"
#include "tokenizer/tokenizer.h"

namespace lmp {

class SpmTokenizer : public Tokenizer {
 public:
  // Validates the vocabulary (sizes, ids in range); errors start with "spm vocab: ".
  explicit SpmTokenizer(SpmVocab vocab);

  std::vector<int32_t> encode(std::string_view text, bool add_bos = true) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  std::string piece(int32_t id) const override;
  bool is_special(int32_t id) const override;  // Control and Unknown pieces
  int32_t bos_id() const override { return vocab_.add_bos ? vocab_.bos_id : -1; }
  int32_t eos_id() const override { return vocab_.eos_id; }
  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.pieces.size()); }
  std::string description() const override;

  SpmTokenType type(int32_t id) const { return vocab_.types[id]; }
  int32_t token_id(std::string_view piece) const;  // -1 if absent

 private:
  struct EncodeState;
  void encode_fragment(std::string_view text, EncodeState& st, std::vector<int32_t>& out) const;
  void encode_word(std::string_view word, EncodeState& st, std::vector<int32_t>& out) const;
  void build_tables();

  SpmVocab vocab_;
  std::unordered_map<std::string, int32_t> ids_;
  std::unordered_map<char32_t, int32_t> char_ids_;
  std::vector<int32_t> byte_ids_;
  PairTable pairs_;
  AddedTokenMatcher specials_;
  bool split_at_meta_ = false;
};

}  // namespace lmp
