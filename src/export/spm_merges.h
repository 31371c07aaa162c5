// BPE merges of a SentencePiece vocabulary, for an HF tokenizer.json (transformers' LlamaConverter /
// generate_merges): a merge (a, b) for every piece t = a + b whose halves a and b are both pieces,
// ranked by t's score, highest first; equal scores put the longer a first, then the longer b (in
// characters), then piece-id order (Python's stable sort over the vocabulary). Replaying the merges in
// that order is SentencePiece's highest-score-first merging, exactly so when merge results have
// distinct scores (equal-score results merge left-most first there, by list order here).
// Deviation from transformers: only Normal / UserDefined pieces are merge results, as in SpmTokenizer —
// sentencepiece never builds control, unknown, byte or unused pieces by merging.
#pragma once
#include <string>
#include <vector>

#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/spm_vocab.h"

namespace lmp {

struct SpmMerge {
  std::string left, right;
};

// Merges of `vocab` in rank order. `tok` is the SpmTokenizer over the same vocabulary (resolved token
// types, first-id-wins piece lookup).
std::vector<SpmMerge> spm_merges(const SpmVocab& vocab, const SpmTokenizer& tok);

}  // namespace lmp
