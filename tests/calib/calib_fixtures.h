// Shared helpers of the calib/ tests: the lm-s tokenizer (loaded once) and a small pool cut from
// shared/data/corpus/heldout_dev.jsonl.
#pragma once
#include <fstream>
#include <memory>
#include <string>

#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace lmp::test {

inline const Tokenizer& lm_s_tokenizer() {
  static std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(shared_path("models/lm-s/tokenizer.json"));
  return *tok;
}

// The first `docs` records of heldout_dev.jsonl, written under a temp dir.
inline std::string heldout_pool(const std::string& tag, int docs) {
  std::ifstream in(shared_path("data/corpus/heldout_dev.jsonl"));
  std::string line, out;
  for (int i = 0; i < docs && std::getline(in, line); ++i) out += line + "\n";
  const std::string path = temp_dir(tag) + "/pool.jsonl";
  write_file(path, out);
  return path;
}

}  // namespace lmp::test
