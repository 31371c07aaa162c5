// A small SentencePiece vocabulary for tokenizer tests: <unk> <s> </s>, the given pieces with their
// scores, then (optionally) the 256 byte-fallback pieces <0x00>..<0xFF>.
#pragma once
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "io/checkpoint.h"

namespace lmp::test {

inline SpmVocab small_spm_vocab(const std::vector<std::pair<std::string, float>>& pieces, bool bytes = true) {
  SpmVocab v;
  v.pieces = {"<unk>", "<s>", "</s>"};
  v.scores = {0, 0, 0};
  for (const auto& [p, s] : pieces) {
    v.pieces.push_back(p);
    v.scores.push_back(s);
  }
  for (int b = 0; bytes && b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    v.pieces.push_back(name);
    v.scores.push_back(0);
  }
  return v;
}

}  // namespace lmp::test
