// Fixtures shared by the CLI tests (test_cli links the whole of lmpress).
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "calib/calib_set.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace lmp::test {

// The first 8 sequences of the reference calibration set, cut to 128 tokens: a fast calibration file,
// written once per test process under temp_dir(tag).
inline std::string small_calib(const std::string& tag) {
  const CalibSet full = read_calib_set(shared_path("reference/calib_128x512.safetensors"), 32000);
  Tensor t = Tensor::zeros(DType::I32, {8, 128});
  auto* ids = static_cast<int32_t*>(t.mutable_data());
  for (int64_t r = 0; r < 8; ++r) std::memcpy(ids + r * 128, full.input_ids.data() + r * full.seq, 128 * 4);
  const std::string p = temp_dir(tag) + "/calib.safetensors";
  write_safetensors(p, {{"input_ids", t}}, {});
  return p;
}

}  // namespace lmp::test
