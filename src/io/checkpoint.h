// Checkpoint: a model on disk opened read-only, whatever its format (HF directory of safetensors,
// GGUF file, llama2.c .bin), presented with canonical HF tensor names and [out, in] shapes.
// Tensors stay memory-mapped; load_f32() converts (and dequantizes, and undoes llama.cpp's Q/K row
// permutation) one tensor when asked.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/model_config.h"
#include "tokenizer/spm_vocab.h"

namespace lmp {

enum class CheckpointFormat { HF, GGUF, Llama2c };
std::string format_name(CheckpointFormat f);  // "hf-safetensors", "gguf", "llama2c"

// Where the tokenizer of a checkpoint comes from.
struct TokenizerSource {
  enum class Kind { None, HfJson, Spm } kind = Kind::None;
  std::string json_path;  // Kind::HfJson: path of tokenizer.json
  SpmVocab spm;           // Kind::Spm: vocabulary embedded in GGUF or read from a llama2.c tok*.bin
  std::string origin;     // file it was read from, for messages
};

struct TensorInfo {
  std::string name;       // canonical: model.layers.3.self_attn.q_proj.weight
  std::string file_name;  // name inside the file (blk.3.attn_q.weight for GGUF)
  DType dtype;            // stored dtype
  Shape shape;            // canonical shape: [out, in] for linears, [n] for norms
  std::string file;       // path of the file that holds it
  uint64_t offset = 0;    // byte offset of its data in `file`
  uint64_t nbytes = 0;    // stored bytes
  // > 0: Q/K rows (weight or bias) are stored in the interleaved RoPE order of Meta / llama.cpp (GGUF
  // arch llama, llama2.c) for this many heads; raw() returns them so, load_f32() in HF order.
  int64_t interleaved_heads = 0;
};

struct OpenOptions {
  std::string tokenizer_path;  // llama2.c: explicit tokenizer .bin (else tok*.bin / tokenizer.bin beside)
};

class CheckpointImpl;  // format-specific storage

class Checkpoint {
 public:
  // Opens a directory (config.json + *.safetensors, sharded via model.safetensors.index.json), a .gguf
  // or a llama2.c .bin. Validates that every tensor the config implies exists with the implied shape.
  static Checkpoint open(const std::string& path, const OpenOptions& opts = {});

  const std::string& path() const { return path_; }
  CheckpointFormat format() const { return format_; }
  const ModelConfig& config() const { return config_; }
  const TokenizerSource& tokenizer_source() const { return tokenizer_; }

  bool has(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // throws naming the tensor if absent
  std::vector<std::string> tensor_names() const;           // sorted canonical names
  // How a tensor stored across several is packed ("gptq 4-bit" for a GPTQ linear, whose info() then
  // gives the dtype, file and offset of its qweight and the bytes of all its parts); "" otherwise.
  std::string packing(const std::string& name) const;
  // The stored bytes, unconverted (a view into the mapped file), with the canonical shape. Throws for
  // packed tensors, which have no such bytes.
  Tensor raw(const std::string& name) const;
  // The tensor as f32 in canonical (HF) layout; converted into `reuse` when it fits (Tensor::f32_buffer).
  Tensor load_f32(const std::string& name, Tensor reuse = Tensor()) const;
  // For a linear stored as two factors W = A·B (lmp lowrank): sets a [out, rank] and b [rank, in] (f32)
  // and returns true; false for every other tensor.
  bool load_factors(const std::string& name, Tensor& a, Tensor& b) const;
  // Free-form metadata for `inspect` (GGUF key/values, config.json fields, llama2.c header).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  Checkpoint();
  ~Checkpoint();
  Checkpoint(Checkpoint&&) noexcept;
  Checkpoint& operator=(Checkpoint&&) noexcept;

 private:
  std::string path_;
  CheckpointFormat format_ = CheckpointFormat::HF;
  ModelConfig config_;
  TokenizerSource tokenizer_;
  std::map<std::string, std::string> metadata_;
  std::unique_ptr<CheckpointImpl> impl_;
  friend class CheckpointImpl;
  friend struct CheckpointBuilder;
};

// Canonical tensor names of a LLaMA-family model.
namespace names {
std::string embed();                                   // model.embed_tokens.weight
std::string final_norm();                              // model.norm.weight
std::string lm_head();                                 // lm_head.weight
std::string layer(int64_t b, const std::string& leaf);  // model.layers.<b>.<leaf>
// The seven linears of a block, in the order {q,k,v,o,gate,up,down}: "self_attn.q_proj" ...
const std::vector<std::string>& block_linears();
}  // namespace names

}  // namespace lmp
