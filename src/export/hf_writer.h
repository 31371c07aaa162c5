// HF dense export: a checkpoint directory transformers loads as a normal model — config.json (copied
// from an HF input, else written from the ModelConfig), safetensors shards laid out like the input's
// (one model.safetensors for GGUF / llama2.c inputs) with __metadata__ {"format": "pt"}, the tokenizer
// files and generation_config.json. Shards are written as soon as all their tensors are known (block by
// block), into OUT.tmp/, renamed to OUT when complete; until then their converted tensors wait in a
// scratch file (io/spill_file.h), so a single-shard output is not held in memory either.
#pragma once
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "compress/pipeline.h"
#include "io/checkpoint.h"
#include "io/spill_file.h"

namespace lmp {

class HfWriter {
 public:
  // `dtype`: "bf16" | "f16" | "f32" | "" (the input's). `force`: replace an existing OUT.
  // `head`: lm_head.weight comes from add_head() (a compressed head); a head tied to the embeddings is
  // then written as its own tensor (beside the embeddings) and config.json says tie_word_embeddings false.
  HfWriter(const Checkpoint& input, std::string out_dir, std::string dtype, bool force, bool head = false);
  // Takes the compressed linears of one block; writes every shard that became complete.
  void add_block(const CompressedBlock& block);
  void add_head(const CompressedLinear& head);
  // Writes the remaining shards, the index, config and tokenizer files, and renames OUT.tmp → OUT.
  void finish();

 private:
  void put(const std::string& name, Tensor f32);
  void flush_complete_shards();
  void write_shard(const std::string& shard);
  void copy_side_files() const;

  const Checkpoint& in_;
  std::string out_, tmp_;
  DType dtype_;
  std::map<std::string, std::string> shard_of_;             // tensor → output shard file name
  std::map<std::string, std::set<std::string>> missing_;    // shard → tensors not yet known
  std::unique_ptr<SpillFile> spill_;
  std::map<std::string, std::map<std::string, SpillFile::Slot>> pending_;  // shard → converted tensors
  std::vector<std::string> written_;
  bool untie_ = false;  // a compressed head replaces a tied one
};

}  // namespace lmp
