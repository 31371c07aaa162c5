// llama2.c checkpoints (Karpathy's run.c format): the legacy header of 7 int32 (dim, hidden_dim,
// n_layers, n_heads, n_kv_heads, vocab_size — negative when a separate classifier follows —, seq_len)
// followed by f32 arrays, and the version-1 "ak42" f32 export (256-byte header, norms first). Version 2
// (int8) is refused. Q/K rows are in Meta's interleaved RoPE order; load_f32 returns HF order.
#pragma once
#include <string>

#include "io/checkpoint.h"
#include "io/checkpoint_impl.h"

namespace lmp {

struct Llama2cHeader {
  int version = 0;  // 0 = legacy (no magic), 1 = "ak42" version 1
  int64_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0, seq_len = 0;
  bool shared_classifier = true;
  uint64_t header_bytes = 0;
};

// Parses and checks the header (positive sizes, divisible heads).
Llama2cHeader read_llama2c_header(const uint8_t* data, size_t size, const std::string& path);

LoadedCheckpoint open_llama2c_checkpoint(const std::string& path, const OpenOptions& opts);

}  // namespace lmp
