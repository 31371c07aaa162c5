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

  // Appends the ids of one word (valid UTF-8, non-empty). `whole_word` applies ignore_merges (a
  // word that is a piece is that piece); parts of a cut word are encoded with it off.
  void encode_word(std::string_view word, std::vector<int32_t>& out, MergeScratch& scratch,
                   std::vector<int32_t>& symbols, bool whole_word = true) const;
  // Id of the whole word when ignore_merges is set and the word is a piece, else -1.
  int32_t whole_word_id(std::string_view word) const { return ignore_merges_ ? id_of(word) : -1; }

  // Word cutting. A word may be cut between adjacent characters a|b without changing its encoding when
  // no merge can produce a symbol spanning the cut: a and b are both single-character pieces and no
  // piece contains "ab", or one of them is outside the vocabulary and becomes byte-fallback pieces
  // that no merge uses. Appends to `cuts` the offsets (0 < offset < size) where `word` may be cut.
  void find_cuts(std::string_view word, std::vector<size_t>& cuts) const;

  int32_t id_of(std::string_view piece) const;  // -1 if absent
  // Largest id + 1 of the model vocabulary; pieces indexed by id ("" for unused ids).
  const std::vector<std::string>& pieces() const { return pieces_; }
  bool byte_fallback() const { return byte_fallback_; }

 private:
  int32_t char_id(char32_t cp) const {
    if (cp < 0x10000) return bmp_ids_[cp];
    auto it = astral_ids_.find(cp);
    return it == astral_ids_.end() ? -1 : it->second;
  }
  bool pair_in_pieces(char32_t a, char32_t b) const {
    if (a < 128 && b < 128) return (ascii_pairs_[a] >> b) & 1;  // bit b of the 128-bit row a
    return char_pairs_.find(int32_t(a), int32_t(b)) != nullptr;
  }
  void build_cut_tables();
  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> pieces_;
  PairTable merges_;
  std::vector<int32_t> bmp_ids_;  // id of each single-character piece below U+10000, -1 if none
  std::unordered_map<char32_t, int32_t> astral_ids_;
  std::array<int32_t, 256> byte_ids_{};  // id of <0xNN>, -1 if absent
  PairTable char_pairs_;                        // (a, b) adjacent in some piece
  std::array<unsigned __int128, 128> ascii_pairs_{};  // the same for ASCII a, b
  bool unknown_cuts_ = false;                   // cuts next to characters outside the vocabulary
  int32_t unk_id_ = -1;
  bool byte_merges_ = false;  // some merge has a <0xNN> operand
  bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
};

}  // namespace lmp
