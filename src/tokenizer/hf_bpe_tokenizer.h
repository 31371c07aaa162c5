// HfBpeTokenizer: an HF tokenizer.json with a BPE model, applied as HF tokenizers 0.23 does:
//   text -> split at non-normalized added tokens -> normalizer -> split at normalized added tokens
//        -> pre-tokenizer -> BPE per word -> post-processor prefix (BOS).
// Words are cached per encode() call and, when BpeModel::find_cuts allows it, cut into parts that no
// merge can span (for LLaMA's vocabulary: before each "▁" that follows another character, around
// newlines, ...), which gives the same ids as encoding the whole word (tested on heldout_dev).
// Decoding skips the special tokens that HF transformers skips (skip_special_tokens=True): those that
// tokenizer_config.json names (bos/eos/unk/pad/sep/cls/mask_token, additional/extra_special_tokens,
// added_tokens_decoder entries marked special); without a tokenizer_config.json none are skipped, as
// transformers 5 does (shared/reference/tokenizer_parity_gpt2.json keeps "<|endoftext|>").
// Then it runs the decoder chain. Words are cached per encode() call, and
// when the vocabulary allows it (BpeModel::pieces_only_lead_with) long Metaspace words are cut before
// each "▁" that follows another character, which provably does not change the ids (see .cpp).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace lmp {

class JsonView;

struct HfTokenizerOptions {
  bool split_words = true;   // cut words where no merge can span the cut (off: reference path)
  bool cache_words = true;   // per-call word cache
  bool read_config = true;   // read tokenizer_config.json beside the file
};

class HfBpeTokenizer : public Tokenizer {
 public:
  static std::unique_ptr<HfBpeTokenizer> load(const std::string& path, const HfTokenizerOptions& opts = {});

  std::vector<int32_t> encode(std::string_view text, bool add_bos = true) const override;
  // The session holds the word cache, so it persists across calls (bounded, see word_cache.h).
  std::unique_ptr<EncodeSession> new_session() const override;
  std::vector<int32_t> encode_in(EncodeSession* session, std::string_view text, bool add_bos = true) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  std::string piece(int32_t id) const override;
  bool is_special(int32_t id) const override;
  int32_t bos_id() const override { return prefix_.empty() ? -1 : prefix_[0]; }
  int32_t eos_id() const override { return eos_id_; }
  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }
  std::string description() const override;

  // Id of a piece (added tokens first, then the model vocabulary), -1 if absent.
  int32_t token_id(std::string_view piece) const;
  bool cuts_words() const { return opts_.split_words; }

 private:
  struct EncodeState;
  std::vector<int32_t> encode_with(EncodeState& st, std::string_view text, bool add_bos) const;
  void encode_segment(std::string_view text, bool at_start, EncodeState& st, std::vector<int32_t>& out) const;
  void encode_word(std::string_view word, EncodeState& st, std::vector<int32_t>& out) const;
  void encode_cached(std::string_view word, EncodeState& st, std::vector<int32_t>& out) const;
  void read_config(const std::string& path);
  void mark_skipped(const JsonView& cfg);

  std::string path_;
  BpeModel model_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_;
  std::unique_ptr<Decoder> decoder_;
  AddedTokenMatcher raw_tokens_, normalized_tokens_;
  std::vector<std::string> pieces_;   // by id: added tokens over the model vocabulary
  std::vector<char> special_;         // by id: added tokens marked special
  std::vector<char> skip_;            // by id: skipped by decode()
  std::vector<int32_t> prefix_;       // post-processor tokens before the sequence (BOS)
  int32_t eos_id_ = -1;
  HfTokenizerOptions opts_;
};

// load_hf_tokenizer with options (the plain overload in tokenizer.h uses the defaults).
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& tokenizer_json_path, const HfTokenizerOptions& opts);

}  // namespace lmp
