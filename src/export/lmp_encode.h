// One linear in the lmp format (docs/lmp-format.md): its codes rANS-coded (codec/rans.h), its record
// (io/lmp_record.h) and its parameter tensors, in memory, without writing anything — what LmpWriter
// stores and what a size search (the CLI's --target-bpw) measures.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "codec/rans.h"
#include "compress/compressed_linear.h"
#include "core/tensor.h"

namespace lmp {

struct LmpLinear {
  std::string name;                       // canonical: model.layers.0.self_attn.q_proj.weight
  nlohmann::json meta;                    // the record, stored under "lmp:" + name
  std::map<std::string, Tensor> tensors;  // name.codes (U8 stream), name.scales, [.zeros, .g_idx, .codebook];
                                          // lowrank: name.a, name.b
  int64_t weights = 0;                    // out · in
  double ideal_bits = 0;                  // chunked_entropy_bits of the codes (lowrank: the factors' bits)
  // Bytes this linear adds to model.safetensors: its tensors' data plus its record in __metadata__ (the
  // header entries naming its tensors count in the file's size only).
  uint64_t bytes() const;
};

// True for the representations lmp stores as records: Kind::Fp8, Kind::Quantized, Kind::Codebook (coded)
// and Kind::LowRank (two factors). The others
// (dense, sparse without a grid) are stored as plain tensors.
bool lmp_codes(const CompressedLinear& c);

// Codes `c` (lmp_codes(c) must hold). `method` goes into the record's "method" (empty: named after the
// representation: entquant, int, nf4). Checks that the codes and parameters reproduce c.weight bit for
// bit (io/lmp_dequant.h) and fails naming the linear and the first weight that differs otherwise.
LmpLinear encode_lmp_linear(const std::string& name, const CompressedLinear& c, const RansOptions& o,
                            const std::string& method = "");

}  // namespace lmp
