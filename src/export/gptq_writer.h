// GPTQ export (`checkpoint_format: gptq`, as transformers / vLLM / AutoGPTQ load it): each block linear as
// <name>.qweight / .qzeros / .scales / .g_idx (gptq_pack.h), every other tensor (embeddings, norms,
// lm_head, biases) as f16 — the dtype GPTQ kernels run in; config.json with quantization_config
// {quant_method gptq, bits, group_size, desc_act, sym, static_groups, checkpoint_format gptq}; tokenizer
// files and generation_config.json copied. Streams: shard 1 holds the tensors outside the blocks, shard
// b + 2 block b (model-0000k-of-0000N.safetensors + index), written into OUT.tmp/, renamed to OUT.
#pragma once
#include <string>
#include <vector>

#include "compress/linear_method.h"
#include "compress/pipeline.h"
#include "io/checkpoint.h"

namespace lmp {

// Errors before any work when `spec` or a linear of `input` cannot be stored in the GPTQ format: a
// method without an integer grid, bits other than 2/4/8, input or output sizes not a multiple of 32/bits.
void check_gptq_exportable(const Checkpoint& input, const MethodSpec& spec);

class GptqWriter {
 public:
  // Calls check_gptq_exportable; `force` replaces an existing OUT. `head`: lm_head is packed too, from
  // add_head(), into the last shard (quantization_config "lm_head": true, as GPTQModel and vLLM read it;
  // a head tied to the embeddings is untied).
  GptqWriter(const Checkpoint& input, std::string out_dir, const MethodSpec& spec, bool force, bool head = false);
  // Packs the block's linears (every one must carry a QuantGrid) and writes its shard.
  void add_block(const CompressedBlock& block);
  void add_head(const CompressedLinear& head);
  // Writes the index, config.json and the tokenizer files, and renames OUT.tmp → OUT.
  void finish();

 private:
  std::string shard_name(int64_t k) const;
  void write_shard(int64_t k, std::vector<std::pair<std::string, Tensor>> tensors);
  void write_config() const;
  void copy_side_files() const;
  std::vector<std::pair<std::string, Tensor>> packed(const std::string& base, const CompressedLinear* cl) const;

  const Checkpoint& in_;
  std::string out_, tmp_;
  MethodSpec spec_;
  bool head_ = false, head_done_ = false;
  int64_t n_shards_ = 0, blocks_done_ = 0;
  std::vector<std::pair<std::string, std::string>> weight_map_;  // tensor → shard
  uint64_t total_bytes_ = 0;
};

}  // namespace lmp
