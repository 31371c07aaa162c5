// What every format reader produces before validation: config, tokenizer source, metadata and the
// canonical name -> stored bytes table. Internal to io/.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "io/checkpoint.h"
#include "io/mapped_file.h"

namespace lmp {

// A tensor assembled from several stored ones (a GPTQ-packed linear): it has no bytes of its own to
// view, only a way to produce f32 values when asked.
class DerivedTensor {
 public:
  virtual ~DerivedTensor() = default;
  // Canonical shape, f32; into `reuse` when it fits and the loader writes every value (Tensor::f32_buffer).
  virtual Tensor load_f32(Tensor reuse) const = 0;
  // A linear stored as two factors (lmp lowrank): sets a [out, rank], b [rank, in] (f32); false otherwise.
  virtual bool load_factors(Tensor& a, Tensor& b) const { return false; }
  virtual std::string packing() const = 0;  // "gptq 4-bit": for inspect and messages
};

struct TensorEntry {
  TensorInfo info;
  const uint8_t* data = nullptr;              // into owner's mapping
  std::shared_ptr<const MappedFile> owner;
  std::shared_ptr<const DerivedTensor> derived;  // set: served by derived->load_f32(), raw() refused
  // Drops the process's pages of the stored bytes once they have been converted (MappedFile::release),
  // so reading a model block by block does not leave the whole file resident.
  void release_pages() const {
    if (owner && data && !derived) owner->release(data, size_t(info.nbytes));
  }
};

struct LoadedCheckpoint {
  CheckpointFormat format = CheckpointFormat::HF;
  ModelConfig config;
  std::string config_source;                  // "config.json", "the GGUF metadata": for messages
  TokenizerSource tokenizer;
  std::map<std::string, std::string> metadata;
  std::map<std::string, TensorEntry> tensors;

  // Adds a tensor; `what` prefixes the error when the canonical name is already taken.
  void add(TensorEntry e, const std::string& what);
};

class CheckpointImpl {
 public:
  std::map<std::string, TensorEntry> tensors;
};

}  // namespace lmp
