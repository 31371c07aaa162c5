// Calibration sets on disk: safetensors with `input_ids` (I32 [N, L]) and "__metadata__" keys method,
// seed, n, seq, tokenizer, source_indices (a JSON list; -1 for generated or packed samples). The reader
// also takes files without metadata (shared/reference/calib_128x512.safetensors).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "calib/selection.h"

namespace lmp {

struct CalibSet {
  int64_t n = 0, seq = 0;
  std::vector<int32_t> input_ids;                // row-major [n, seq]
  std::vector<int64_t> source_indices;           // empty when the file has none
  std::map<std::string, std::string> metadata;
};

// Writes `sel` atomically (path.tmp, then renamed). `extra` metadata is added to the standard keys.
void write_calib_set(const std::string& path, const Selection& sel, const SelectOptions& opts,
                     const std::string& tokenizer, const std::map<std::string, std::string>& extra = {});

// Loads and checks a calibration set: input_ids of integer dtype (I32, or I64 within int32), rank 2,
// every id in [0, vocab_size) (vocab_size <= 0: unchecked). Errors name the file, row, column and id.
CalibSet read_calib_set(const std::string& path, int64_t vocab_size);

}  // namespace lmp
