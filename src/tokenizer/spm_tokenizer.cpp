#include "tokenizer/spm_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/decoder.h"
#include "tokenizer/utf8.h"

namespace lmp {
namespace {

const std::string kMeta = "\xE2\x96\x81";

SpmTokenType derived_type(const SpmVocab& v, int32_t id) {
  if (id == v.unk_id) return SpmTokenType::Unknown;
  if (id == v.bos_id || id == v.eos_id) return SpmTokenType::Control;
  if (byte_piece_value(v.pieces[id]) >= 0) return SpmTokenType::Byte;
  return SpmTokenType::Normal;
}

bool mergeable(SpmTokenType t) { return t == SpmTokenType::Normal || t == SpmTokenType::UserDefined; }

// Start offsets of the characters of `s` (invalid bytes count as one character each).
std::vector<size_t> char_starts(std::string_view s) {
  std::vector<size_t> at;
  for (size_t i = 0; i < s.size();) {
    at.push_back(i);
    char32_t cp;
    i += utf8::decode(s, i, &cp);
  }
  return at;
}

}  // namespace

struct SpmTokenizer::EncodeState {
  MergeScratch scratch;
  std::vector<int32_t> symbols;
  std::vector<std::string_view> symbol_text;
  std::unordered_map<std::string, std::vector<int32_t>> cache;
};

SpmTokenizer::SpmTokenizer(SpmVocab v) : vocab_(std::move(v)) {
  const size_t n = vocab_.pieces.size();
  LMP_CHECK(n > 0, "spm vocab: no pieces");
  LMP_CHECK(n < (size_t(1) << 24), "spm vocab: ", n, " pieces (expected fewer than 2^24)");
  LMP_CHECK(vocab_.scores.empty() || vocab_.scores.size() == n, "spm vocab: scores has ", vocab_.scores.size(),
            " entries, expected ", n, " (one per piece)");
  LMP_CHECK(vocab_.types.empty() || vocab_.types.size() == n, "spm vocab: types has ", vocab_.types.size(),
            " entries, expected ", n, " (one per piece)");
  for (auto [name, id] : {std::pair{"bos_id", vocab_.bos_id}, {"eos_id", vocab_.eos_id}, {"unk_id", vocab_.unk_id}})
    LMP_CHECK(id >= -1 && id < int64_t(n), "spm vocab: ", name, " ", id, " is outside [0, ", n, ")");
  LMP_CHECK(!vocab_.add_bos || vocab_.bos_id >= 0, "spm vocab: add_bos is set but bos_id is -1");
  if (vocab_.scores.empty()) vocab_.scores.assign(n, 0.0f);
  if (vocab_.types.empty()) {
    vocab_.types.resize(n);
    for (size_t i = 0; i < n; ++i) vocab_.types[i] = derived_type(vocab_, int32_t(i));
  }
  for (size_t i = 0; i < n; ++i) {
    const int t = static_cast<int>(vocab_.types[i]);
    LMP_CHECK(t >= 1 && t <= 6, "spm vocab: token ", i, " has type ", t, " (expected 1..6)");
  }
  build_tables();
}

void SpmTokenizer::build_tables() {
  const auto& pieces = vocab_.pieces;
  ids_.reserve(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) ids_.emplace(pieces[i], int32_t(i));  // first id wins
  byte_ids_.assign(256, -1);
  std::vector<AddedToken> specials;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const int32_t id = int32_t(i);
    const SpmTokenType t = vocab_.types[i];
    if (t == SpmTokenType::Byte) {
      const int b = byte_piece_value(pieces[i]);
      if (b >= 0 && byte_ids_[b] < 0) byte_ids_[b] = id;
    }
    if ((t == SpmTokenType::Control || t == SpmTokenType::Unknown || t == SpmTokenType::UserDefined) &&
        !pieces[i].empty() && utf8::find_invalid(pieces[i]) < 0)
      specials.push_back(AddedToken{pieces[i], id, true});
    char32_t cp;
    if (!pieces[i].empty() && utf8::find_invalid(pieces[i]) < 0 &&
        utf8::decode(pieces[i], 0, &cp) == int(pieces[i].size()) && t != SpmTokenType::Byte)
      char_ids_.emplace(cp, id);
  }
  specials_ = AddedTokenMatcher(std::move(specials));

  // Merge priority: rank of the result's score, highest first; equal scores share a rank so the
  // left-most pair wins, as in llama.cpp's bigram queue.
  std::vector<float> sorted(vocab_.scores);
  std::sort(sorted.begin(), sorted.end(), std::greater<float>());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  bool meta_ok = true;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (!mergeable(vocab_.types[i])) continue;
    const std::string& p = pieces[i];
    const auto rank = int32_t(std::lower_bound(sorted.begin(), sorted.end(), vocab_.scores[i], std::greater<float>()) -
                              sorted.begin());
    const std::vector<size_t> at = char_starts(p);
    for (size_t k = 1; k < at.size(); ++k) {
      auto l = ids_.find(p.substr(0, at[k])), r = ids_.find(p.substr(at[k]));
      if (l != ids_.end() && r != ids_.end()) pairs_.insert(l->second, r->second, MergeRule{rank, int32_t(i)});
      if (p.compare(at[k], kMeta.size(), kMeta) == 0 && (at[k] < kMeta.size() || p.compare(at[k] - kMeta.size(), kMeta.size(), kMeta) != 0))
        meta_ok = false;
    }
  }
  split_at_meta_ = meta_ok;
}

int32_t SpmTokenizer::token_id(std::string_view piece) const {
  auto it = ids_.find(std::string(piece));
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int32_t> SpmTokenizer::encode(std::string_view text, bool add_bos) const {
  utf8::validate(text, "tokenizer: encode: input text");
  EncodeState st;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 8);
  if (add_bos && vocab_.add_bos) out.push_back(vocab_.bos_id);
  std::vector<TextPiece> pieces;
  specials_.split(text, pieces);
  for (const TextPiece& p : pieces) {
    if (p.id >= 0) out.push_back(p.id);
    else encode_fragment(p.text, st, out);
  }
  return out;
}

void SpmTokenizer::encode_fragment(std::string_view text, EncodeState& st, std::vector<int32_t>& out) const {
  std::string s;
  s.reserve(text.size() + 16);
  if (vocab_.add_space_prefix && text[0] != ' ') s += kMeta;
  for (char c : text) {
    if (c == ' ') s += kMeta;
    else s.push_back(c);
  }
  if (!split_at_meta_) return encode_word(s, st, out);
  // Cut before each "▁" that follows another character: no mergeable piece spans such a cut.
  const std::string_view w = s;
  size_t begin = 0;
  for (size_t at = w.find(kMeta, 1); at != std::string_view::npos; at = w.find(kMeta, at + kMeta.size())) {
    if (at >= kMeta.size() && w.compare(at - kMeta.size(), kMeta.size(), kMeta) == 0) continue;
    encode_word(w.substr(begin, at - begin), st, out);
    begin = at;
  }
  encode_word(w.substr(begin), st, out);
}

void SpmTokenizer::encode_word(std::string_view word, EncodeState& st, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  const bool cacheable = word.size() <= 256;
  if (cacheable) {
    auto it = st.cache.find(std::string(word));
    if (it != st.cache.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  auto& sym = st.symbols;
  sym.clear();
  std::vector<std::pair<size_t, int>> unknown;  // (offset, length) of characters outside the vocabulary
  for (size_t i = 0; i < word.size();) {
    char32_t cp;
    const int len = utf8::decode(word, i, &cp);
    auto it = char_ids_.find(cp);
    if (it != char_ids_.end()) {
      sym.push_back(it->second);
    } else {
      sym.push_back(-1 - static_cast<int32_t>(unknown.size()));
      unknown.emplace_back(i, len);
    }
    i += len;
  }
  merge_symbols(sym, pairs_, st.scratch);
  const size_t mark = out.size();
  for (int32_t id : sym) {
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    const auto [off, len] = unknown[-1 - id];
    bool bytes = true;
    for (int k = 0; k < len; ++k) bytes = bytes && byte_ids_[static_cast<uint8_t>(word[off + k])] >= 0;
    if (bytes) {
      for (int k = 0; k < len; ++k) out.push_back(byte_ids_[static_cast<uint8_t>(word[off + k])]);
    } else if (vocab_.unk_id >= 0) {
      out.push_back(vocab_.unk_id);
    }
  }
  if (cacheable && st.cache.size() < (size_t(1) << 20))
    st.cache.emplace(std::string(word), std::vector<int32_t>(out.begin() + mark, out.end()));
}

std::string SpmTokenizer::decode(std::span<const int32_t> ids) const {
  std::string text, bytes;
  size_t n_bytes = 0;
  auto flush = [&] {
    if (n_bytes == 0) return;
    if (utf8::find_invalid(bytes) < 0) text += bytes;
    else for (size_t k = 0; k < n_bytes; ++k) text += "\xEF\xBF\xBD";
    bytes.clear();
    n_bytes = 0;
  };
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size() || is_special(id)) continue;
    const std::string& p = vocab_.pieces[id];
    const int b = vocab_.types[id] == SpmTokenType::Byte ? byte_piece_value(p) : -1;
    if (b >= 0) {
      bytes.push_back(static_cast<char>(b));
      ++n_bytes;
      continue;
    }
    flush();
    for (size_t k = 0; k < p.size();) {
      if (p.compare(k, kMeta.size(), kMeta) == 0) { text += ' '; k += kMeta.size(); }
      else text += p[k++];
    }
  }
  flush();
  if (vocab_.add_space_prefix && !text.empty() && text[0] == ' ') text.erase(0, 1);
  return utf8::to_valid_lossy(text);
}

std::string SpmTokenizer::piece(int32_t id) const {
  LMP_CHECK(id >= 0 && id < vocab_size(), "tokenizer: piece: id ", id, " is outside the vocabulary [0, ",
            vocab_size(), ")");
  return vocab_.pieces[id];
}

bool SpmTokenizer::is_special(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return false;
  const SpmTokenType t = vocab_.types[id];
  return t == SpmTokenType::Control || t == SpmTokenType::Unknown;
}

std::string SpmTokenizer::description() const {
  return "SentencePiece BPE (score merging, byte fallback), " + std::to_string(vocab_.pieces.size()) + " tokens";
}

std::unique_ptr<Tokenizer> make_spm_tokenizer(SpmVocab vocab) { return std::make_unique<SpmTokenizer>(std::move(vocab)); }

}  // namespace lmp
