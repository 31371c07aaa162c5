// lmp checkpoints read back (docs/lmp-format.md): an HF directory whose config.json declares
// quantization_config {quant_method lmpress, format lmp, format_version 1} and whose model.safetensors
// holds, for every coded linear X, a record "lmp:X" in __metadata__ (io/lmp_record.h) and the tensors
// X.codes (a rANS stream, codec/rans.h), X.scales, and X.zeros / X.g_idx / X.codebook as its codes need.
// Each X becomes one canonical f32 X [out, in] whose load_f32() decodes the stream and dequantizes
// (io/lmp_dequant.h), on demand: opening decodes nothing. Every other tensor stays as it is stored.
#pragma once
#include <string>

#include "io/checkpoint_impl.h"
#include "io/safetensors.h"

namespace lmp {

// True when DIR/config.json's quantization_config has quant_method "lmpress"; then its "format" must be
// "lmp" and its "format_version" 1 (errors name config.json and the field). False for any other config
// (a malformed one is left to the config and GPTQ readers to report).
bool declares_lmp(const std::string& dir);

// Errors when `st` (a shard of the checkpoint DIR, whose config.json does not declare lmp) carries lmp
// metadata: its tensors would be read as unrelated raw bytes.
void reject_undeclared_lmp(const SafetensorsFile& st, const std::string& dir);

// Replaces the parts of every coded linear of `c` by a derived X entry and returns how many. Errors (one
// line naming DIR, model.safetensors, the record or tensor, expected vs found): a sharded checkpoint, a
// __metadata__ without format lmp / lmp_version 1, a malformed record, a missing part or one with the
// wrong dtype or shape, a stream whose header disagrees with the record, a g_idx entry out of range, a
// part without a record. Decoding errors (corrupt stream, out-of-range or NaN codes, non-finite scales)
// come from load_f32(). `description` (optional) receives the summary for inspect:
// "lmp v1: 42 coded linears (42 rtn int3 g128), 2.95 bpw".
int64_t attach_lmp_linears(LoadedCheckpoint& c, const std::string& dir, std::string* description = nullptr);

}  // namespace lmp
