// What every format reader produces before validation: config, tokenizer source, metadata and the
// canonical name -> stored bytes table. Internal to io/.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "io/checkpoint.h"
#include "io/mapped_file.h"

namespace lmp {

struct TensorEntry {
  TensorInfo info;
  const uint8_t* data = nullptr;              // into owner's mapping
  std::shared_ptr<const MappedFile> owner;
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
