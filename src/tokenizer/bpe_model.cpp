#include "tokenizer/bpe_model.h"

#include <cstdio>

#include "core/error.h"
#include "tokenizer/json_view.h"
#include "tokenizer/utf8.h"

namespace lmp {
namespace {

constexpr int64_t kMaxVocab = int64_t(1) << 24;  // ids beyond this are treated as corrupt input

void parse_vocab(const JsonView& v, std::unordered_map<std::string, int32_t>& vocab, std::vector<std::string>& pieces) {
  if (!v.is_object()) v.expected("object mapping piece -> id");
  vocab.reserve(v.size());
  for (const auto& [piece, idj] : v.raw().items()) {
    const JsonView idv(idj, v.file(), v.path() + "[\"" + piece + "\"]");
    const int64_t id = idv.integer();
    if (id < 0 || id >= kMaxVocab)
      idv.fail_here("expected an id in [0, " + std::to_string(kMaxVocab) + "), found " + std::to_string(id));
    vocab[piece] = static_cast<int32_t>(id);
    if (static_cast<size_t>(id) >= pieces.size()) pieces.resize(id + 1);
    pieces[id] = piece;
  }
}

// One merge: "a b" (tokenizers < 0.20) or ["a", "b"].
std::pair<std::string, std::string> parse_merge(const JsonView& m) {
  if (m.is_string()) {
    const std::string s = m.str();
    const size_t sp = s.find(' ', 1);
    if (sp == std::string::npos) m.fail_here("expected \"left right\", found \"" + s + "\"");
    return {s.substr(0, sp), s.substr(sp + 1)};
  }
  if (m.is_array() && m.size() == 2) return {m.at(size_t(0)).str(), m.at(size_t(1)).str()};
  m.expected("\"left right\" string or array of 2 strings");
}

bool byte_piece(const std::string& p) { return p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>'; }

}  // namespace

BpeModel BpeModel::parse(const JsonView& model) {
  BpeModel b;
  const std::string type = model.has("type") ? model.at("type").str() : "BPE";
  if (type != "BPE")
    model.at("type").fail_here("expected \"BPE\", found \"" + type + "\" (only BPE models are supported)");
  if (model.has("dropout") && model.at("dropout").number() != 0.0)
    model.at("dropout").fail_here("BPE dropout is not supported at inference");
  for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.has(k) && !model.at(k).str().empty()) model.at(k).fail_here("not supported (expected null)");
  parse_vocab(model.at("vocab"), b.vocab_, b.pieces_);
  b.byte_fallback_ = model.bool_or("byte_fallback", false);
  b.fuse_unk_ = model.bool_or("fuse_unk", false);
  b.ignore_merges_ = model.bool_or("ignore_merges", false);
  if (model.has("unk_token")) {
    const JsonView u = model.at("unk_token");
    b.unk_id_ = b.id_of(u.str());
    if (b.unk_id_ < 0) u.fail_here("unk token \"" + u.str() + "\" is not in model.vocab");
  }

  const JsonView merges = model.at("merges");
  const size_t n = merges.size();
  for (size_t i = 0; i < n; ++i) {
    const JsonView m = merges.at(i);
    const auto [l, r] = parse_merge(m);
    const int32_t li = b.id_of(l), ri = b.id_of(r), res = b.id_of(l + r);
    if (li < 0 || ri < 0 || res < 0)
      m.fail_here("merge \"" + l + "\" + \"" + r + "\": \"" + (li < 0 ? l : ri < 0 ? r : l + r) +
                  "\" is not in model.vocab");
    b.merges_.insert(li, ri, MergeRule{static_cast<int32_t>(i), res});
    b.byte_merges_ = b.byte_merges_ || byte_piece(l) || byte_piece(r);
  }

  b.bmp_ids_.assign(0x10000, -1);
  for (const auto& [piece, id] : b.vocab_) {
    char32_t cp;
    if (piece.empty() || utf8::decode(piece, 0, &cp) != int(piece.size())) continue;
    if (cp < 0x10000) b.bmp_ids_[cp] = id;
    else b.astral_ids_[cp] = id;
  }
  for (int v = 0; v < 256; ++v) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", v);
    b.byte_ids_[v] = b.id_of(name);
  }
  b.build_cut_tables();
  return b;
}

int32_t BpeModel::id_of(std::string_view piece) const {
  auto it = vocab_.find(std::string(piece));
  return it == vocab_.end() ? -1 : it->second;
}

void BpeModel::build_cut_tables() {
  for (const auto& [piece, id] : vocab_) {
    char32_t prev = 0;
    for (size_t i = 0; i < piece.size();) {
      char32_t cp;
      const int len = utf8::decode(piece, i, &cp);
      if (i > 0) {
        if (prev < 128 && cp < 128) ascii_pairs_[prev] |= static_cast<unsigned __int128>(1) << cp;
        else char_pairs_.insert(int32_t(prev), int32_t(cp), MergeRule{0, 0});
      }
      prev = cp;
      i += len;
    }
  }
  // Characters outside the vocabulary become byte pieces; cutting next to them is exact when every
  // byte has a piece and no merge takes a byte piece as an operand.
  bool all_bytes = byte_fallback_;
  for (int32_t b : byte_ids_) all_bytes = all_bytes && b >= 0;
  unknown_cuts_ = all_bytes && !byte_merges_;
}

void BpeModel::find_cuts(std::string_view word, std::vector<size_t>& cuts) const {
  char32_t prev = 0;
  bool prev_known = false;
  for (size_t i = 0; i < word.size();) {
    char32_t cp = static_cast<unsigned char>(word[i]);
    const int len = cp < 0x80 ? 1 : utf8::decode(word, i, &cp);  // ASCII without the call
    const bool known = char_id(cp) >= 0;
    if (i > 0 && ((prev_known && known) ? !pair_in_pieces(prev, cp) : unknown_cuts_)) cuts.push_back(i);
    prev = cp;
    prev_known = known;
    i += len;
  }
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out, MergeScratch& scratch,
                           std::vector<int32_t>& symbols, bool whole_word) const {
  if (whole_word && ignore_merges_) {
    const int32_t whole = id_of(word);
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  symbols.clear();
  bool prev_unk = false;
  for (size_t i = 0; i < word.size();) {
    char32_t cp;
    const int len = utf8::decode(word, i, &cp);
    const int32_t id = char_id(cp);
    if (id >= 0) {
      symbols.push_back(id);
      prev_unk = false;
    } else {
      bool all_bytes = byte_fallback_;
      for (int k = 0; all_bytes && k < len; ++k) all_bytes = byte_ids_[static_cast<uint8_t>(word[i + k])] >= 0;
      if (all_bytes) {
        for (int k = 0; k < len; ++k) symbols.push_back(byte_ids_[static_cast<uint8_t>(word[i + k])]);
        prev_unk = false;
      } else if (unk_id_ >= 0) {
        if (!(fuse_unk_ && prev_unk)) symbols.push_back(unk_id_);
        prev_unk = true;
      }  // no unk token: HF drops the character
    }
    i += len;
  }
  merge_symbols(symbols, merges_, scratch);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

}  // namespace lmp
