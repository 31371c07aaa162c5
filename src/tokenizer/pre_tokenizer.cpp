#include "tokenizer/pre_tokenizer.h"

#include <algorithm>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/json_view.h"
#include "tokenizer/pattern.h"

namespace lmp {

const char* const kGpt2SplitRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

void split_at_matches(size_t size, const std::vector<std::pair<size_t, size_t>>& matches, SplitBehavior behavior,
                      bool invert, std::vector<std::pair<size_t, size_t>>& pieces) {
  struct Part { size_t b, e; bool match; };
  std::vector<Part> parts;
  size_t pos = 0;
  for (auto [b, e] : matches) {
    if (b > pos) parts.push_back({pos, b, invert});
    parts.push_back({b, e, !invert});
    pos = e;
  }
  if (pos < size) parts.push_back({pos, size, invert});

  std::vector<Part> out;
  bool prev_match = false;
  switch (behavior) {
    case SplitBehavior::Removed:
      for (const Part& p : parts)
        if (!p.match) out.push_back(p);
      break;
    case SplitBehavior::Isolated:
      out = parts;
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const Part& p : parts) {
        if (p.match && !prev_match && !out.empty()) out.back().e = p.e;
        else out.push_back(p);
        prev_match = p.match;
      }
      break;
    case SplitBehavior::MergedWithNext:
      for (size_t k = parts.size(); k-- > 0;) {
        const Part& p = parts[k];
        if (p.match && !prev_match && !out.empty()) out.back().b = p.b;
        else out.push_back(p);
        prev_match = p.match;
      }
      std::reverse(out.begin(), out.end());
      break;
    case SplitBehavior::Contiguous:
      for (const Part& p : parts) {
        if (p.match == prev_match && !out.empty()) out.back().e = p.e;
        else out.push_back(p);
        prev_match = p.match;
      }
      break;
  }
  pieces.clear();
  for (const Part& p : out)
    if (p.e > p.b) pieces.emplace_back(p.b, p.e);
}

namespace {

// Replaces each split by the pieces `cut` makes of it; only the first piece keeps at_start.
template <typename Cut>
void resplit(std::vector<PreSplit>& splits, Cut cut) {
  std::vector<PreSplit> out;
  out.reserve(splits.size());
  std::vector<std::pair<size_t, size_t>> pieces;
  for (PreSplit& s : splits) {
    cut(s, pieces);
    for (size_t k = 0; k < pieces.size(); ++k)
      out.push_back({s.text.substr(pieces[k].first, pieces[k].second - pieces[k].first), s.at_start && k == 0 &&
                                                                                            pieces[k].first == 0});
  }
  splits = std::move(out);
}

class MetaspacePre : public PreTokenizer {
 public:
  MetaspacePre(std::string rep, PrependScheme scheme, bool split)
      : rep_(std::move(rep)), scheme_(scheme), split_(split) {}
  void apply(std::vector<PreSplit>& splits) const override {
    for (PreSplit& s : splits) {
      std::string t;
      t.reserve(s.text.size() + rep_.size() * 4);
      const bool starts = s.text.compare(0, 1, " ") == 0 || s.text.compare(0, rep_.size(), rep_) == 0;
      if (!starts && (scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && s.at_start)))
        t += rep_;
      for (size_t i = 0; i < s.text.size();) {  // copy runs between spaces, each space becomes rep_
        const size_t sp = s.text.find(' ', i);
        if (sp == std::string::npos) {
          t.append(s.text, i, std::string::npos);
          break;
        }
        t.append(s.text, i, sp - i);
        t += rep_;
        i = sp + 1;
      }
      s.text = std::move(t);
    }
    if (!split_) return;
    const Pattern p = Pattern::literal(rep_);
    std::vector<std::pair<size_t, size_t>> m;
    resplit(splits, [&](const PreSplit& s, std::vector<std::pair<size_t, size_t>>& pieces) {
      p.find_matches(s.text, m);
      split_at_matches(s.text.size(), m, SplitBehavior::MergedWithNext, false, pieces);
    });
  }
  std::string name() const override { return "Metaspace"; }
  const std::string& replacement() const { return rep_; }

 private:
  std::string rep_;
  PrependScheme scheme_;
  bool split_;
};

class ByteLevelPre : public PreTokenizer {
 public:
  ByteLevelPre(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_unique<Pattern>(Pattern::regex(kGpt2SplitRegex, "ByteLevel"));
  }
  void apply(std::vector<PreSplit>& splits) const override {
    if (add_prefix_space_)
      for (PreSplit& s : splits)
        if (s.text.empty() || s.text[0] != ' ') s.text.insert(0, 1, ' ');
    if (regex_) {
      std::vector<std::pair<size_t, size_t>> m;
      resplit(splits, [&](const PreSplit& s, std::vector<std::pair<size_t, size_t>>& pieces) {
        regex_->find_matches(s.text, m);
        split_at_matches(s.text.size(), m, SplitBehavior::Isolated, false, pieces);
      });
    }
    for (PreSplit& s : splits) {
      std::string t;
      t.reserve(s.text.size() * 2);
      byte_level::encode_bytes(s.text, t);
      s.text = std::move(t);
    }
  }
  std::string name() const override { return "ByteLevel"; }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Pattern> regex_;
};

class SplitPre : public PreTokenizer {
 public:
  SplitPre(Pattern p, SplitBehavior b, bool invert) : pattern_(std::move(p)), behavior_(b), invert_(invert) {}
  void apply(std::vector<PreSplit>& splits) const override {
    std::vector<std::pair<size_t, size_t>> m;
    resplit(splits, [&](const PreSplit& s, std::vector<std::pair<size_t, size_t>>& pieces) {
      pattern_.find_matches(s.text, m);
      split_at_matches(s.text.size(), m, behavior_, invert_, pieces);
    });
  }
  std::string name() const override { return "Split"; }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class SequencePre : public PreTokenizer {
 public:
  explicit SequencePre(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void apply(std::vector<PreSplit>& splits) const override {
    for (const auto& p : steps_) p->apply(splits);
  }
  std::string name() const override {
    std::string n = "Sequence[";
    for (size_t i = 0; i < steps_.size(); ++i) n += (i ? ", " : "") + steps_[i]->name();
    return n + "]";
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

SplitBehavior parse_behavior(const JsonView& j) {
  const std::string b = j.str();
  if (b == "Removed") return SplitBehavior::Removed;
  if (b == "Isolated") return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (b == "Contiguous") return SplitBehavior::Contiguous;
  j.fail_here("expected one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous, found \"" + b + "\"");
}

}  // namespace

PrependScheme parse_prepend_scheme(const JsonView& j) {
  if (j.has("prepend_scheme")) {
    const std::string s = j.at("prepend_scheme").str();
    if (s == "always") return PrependScheme::Always;
    if (s == "first") return PrependScheme::First;
    if (s == "never") return PrependScheme::Never;
    j.at("prepend_scheme").fail_here("expected \"always\", \"first\" or \"never\", found \"" + s + "\"");
  }
  return j.bool_or("add_prefix_space", true) ? PrependScheme::Always : PrependScheme::Never;
}

std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const JsonView& j) {
  if (j.is_null()) return nullptr;
  const std::string type = j.at("type").str();
  if (type == "Metaspace") {
    const std::string rep = j.str_or("replacement", "\xE2\x96\x81");
    if (rep.empty()) j.at("replacement").fail_here("expected a non-empty string");
    return std::make_unique<MetaspacePre>(rep, parse_prepend_scheme(j), j.bool_or("split", true));
  }
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelPre>(j.bool_or("add_prefix_space", true), j.bool_or("use_regex", true));
  if (type == "Split")
    return std::make_unique<SplitPre>(Pattern::from_json(j.at("pattern")), parse_behavior(j.at("behavior")),
                                      j.bool_or("invert", false));
  if (type == "Sequence") {
    const JsonView list = j.at("pretokenizers");
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (size_t i = 0; i < list.size(); ++i)
      if (auto p = parse_pre_tokenizer(list.at(i))) steps.push_back(std::move(p));
    return std::make_unique<SequencePre>(std::move(steps));
  }
  j.at("type").fail_here("unsupported pre_tokenizer type \"" + type +
                         "\" (supported: Metaspace, ByteLevel, Split, Sequence)");
}

}  // namespace lmp
