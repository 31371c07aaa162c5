// BpeModel: the "model" of an HF tokenizer.json of type BPE: vocabulary, merge ranks, byte fallback
// (<0xNN> pieces for characters outside the vocabulary), unk / fuse_unk, ignore_merges. Encodes one
// pre-tokenized word: characters -> initial symbols -> merge_symbols (bpe_merges.h).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe_merges.h"

namespace lmp {

class JsonView;

class BpeModel {
 public:
  // Parses tokenizer.json's "model" object. Fails on other model types and on merges that name
  // pieces outside the vocabulary.
  static BpeModel parse(const JsonView& model);

  // Appends the ids of one word (valid UTF-8, non-empty).
  void encode_word(std::string_view word, std::vector<int32_t>& out, MergeScratch& scratch,
                   std::vector<int32_t>& symbols) const;

  int32_t id_of(std::string_view piece) const;  // -1 if absent
  // Largest id + 1 of the model vocabulary; pieces indexed by id ("" for unused ids).
  const std::vector<std::string>& pieces() const { return pieces_; }
  bool byte_fallback() const { return byte_fallback_; }
  // True when no piece contains the character `c` after a different character: a word may then be
  // cut before every `c` that follows another character without changing its encoding.
  bool pieces_only_lead_with(std::string_view c) const;

 private:
  int32_t char_id(char32_t cp, std::string_view utf8_char) const;
  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> pieces_;
  PairTable merges_;
  std::vector<int32_t> bmp_ids_;  // id of each single-character piece below U+10000, -1 if none
  std::unordered_map<char32_t, int32_t> astral_ids_;
  std::array<int32_t, 256> byte_ids_{};  // id of <0xNN>, -1 if absent
  int32_t unk_id_ = -1;
  bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
};

}  // namespace lmp
