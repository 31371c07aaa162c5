// lmp export (docs/lmp-format.md, version 1): an HF-style directory — config.json (the input's, plus
// quantization_config {quant_method lmpress, format lmp, format_version 1}), the tokenizer files and
// generation_config.json, and one model.safetensors whose coded linears are rANS streams of their codes
// with their scales / zeros / g_idx / codebook (export/lmp_encode.h), every other tensor as the input
// stores it. Each block is coded as it arrives and its tensors go to a scratch file (io/spill_file.h), so
// the writer holds one block at a time; finish() writes the file into OUT.tmp/, reading each tensor back
// (or from the input) just before it is written, and renames OUT.tmp to OUT.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "codec/rans.h"
#include "compress/pipeline.h"
#include "export/lmp_encode.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "io/spill_file.h"

namespace lmp {

// What the export weighs. Coded linears count in linear_*; plain ones (dense, sparse, skipped) only in
// file_bytes / total_weights.
struct LmpSizes {
  uint64_t linear_weights = 0;  // out · in of the coded linears
  uint64_t linear_bytes = 0;    // their streams, scales, zeros, g_idx, codebooks and metadata records
  uint64_t file_bytes = 0;      // model.safetensors as written (after finish())
  uint64_t total_weights = 0;   // every parameter in the file (coded ones as out · in)
  double ideal_bits = 0;        // Σ chunked_entropy_bits of the coded linears' codes

  double bpw_linears() const { return linear_weights ? double(linear_bytes) * 8 / double(linear_weights) : 0; }
  double bpw_file() const { return total_weights ? double(file_bytes) * 8 / double(total_weights) : 0; }
  double bpw_ideal() const { return linear_weights ? ideal_bits / double(linear_weights) : 0; }  // codes only
};

class LmpWriter {
 public:
  // The record's "method" of a linear (by canonical name): the CLI's --method or recipe chain.
  using MethodLabel = std::function<std::string(const std::string& linear)>;

  // `force`: replace an existing OUT. `head`: lm_head.weight comes from add_head() (a head tied to the
  // embeddings is then stored as its own tensor and config.json says tie_word_embeddings false).
  // `method` empty: records name the representation (entquant, int, nf4).
  LmpWriter(const Checkpoint& input, std::string out_dir, bool force, bool head, RansOptions opts = {},
            MethodLabel method = nullptr);
  // Codes the block's linears; those the pipeline skipped keep the input's tensors.
  void add_block(const CompressedBlock& block);
  void add_head(const CompressedLinear& head);
  // Writes model.safetensors, config.json and the tokenizer files, and renames OUT.tmp → OUT.
  void finish();
  const LmpSizes& sizes() const { return sizes_; }

 private:
  // A coded linear once its parts are in the scratch file.
  struct Coded {
    nlohmann::json meta;
    std::map<std::string, SpillFile::Slot> parts;
    int64_t weights = 0;
    double ideal_bits = 0;
    uint64_t bytes = 0;  // LmpLinear::bytes()
  };
  void put(const std::string& name, const CompressedLinear& c);
  bool stored_as_is(const std::string& name) const;  // the input's bytes fit safetensors as they are
  Tensor stored(const std::string& name) const;       // the input's tensor as the file stores it
  std::vector<SafetensorsSource> file_tensors(std::map<std::string, std::string>& meta);
  void write_config() const;

  const Checkpoint& in_;
  std::string out_, tmp_;
  bool head_ = false, untie_ = false;
  RansOptions opts_;
  MethodLabel method_;
  std::set<std::string> pending_;              // linears (and the head) not yet given
  std::set<std::string> linears_;              // every name that add_block / add_head provides
  std::unique_ptr<SpillFile> spill_;           // the coded parts and changed tensors until finish()
  std::map<std::string, Coded> coded_;
  std::map<std::string, SpillFile::Slot> plain_;  // linears written as plain tensors, changed norms
  LmpSizes sizes_;
  bool finished_ = false;
};

}  // namespace lmp
