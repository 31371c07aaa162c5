// Bits per weight as bytes on disk: what an export actually wrote, read back from its files (the
// safetensors headers of an HF / GPTQ / lmp directory, the tensor table of a GGUF file), so every bpw
// lmpress reports is measured, not an idealized count of the representation.
#pragma once
#include <cstdint>
#include <set>
#include <string>

namespace lmp {

struct DiskSize {
  uint64_t linear_bytes = 0;   // data bytes of the tensors that store the compressed linears
  uint64_t linear_weights = 0; // weights of those linears
  uint64_t file_bytes = 0;     // every weight file of the export (*.safetensors or the .gguf), headers included
  uint64_t total_weights = 0;  // every parameter of the model
  double bpw_linears() const { return linear_weights ? double(linear_bytes) * 8.0 / double(linear_weights) : 0.0; }
  double bpw_file() const { return total_weights ? double(file_bytes) * 8.0 / double(total_weights) : 0.0; }
};

// `linears`: canonical names (model.layers.3.mlp.down_proj.weight) of the compressed linears; a stored
// tensor belongs to linear X.weight when its (canonical) name starts with "X." (X.weight, X.qweight,
// X.scales, X.weight.codes, ...). `linear_weights` and `total_weights` are the caller's counts.
DiskSize measure_export(const std::string& path, const std::set<std::string>& linears, uint64_t linear_weights,
                        uint64_t total_weights);

}  // namespace lmp
