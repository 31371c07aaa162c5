// Calibration selection: shared types of the selectors in calib/ (one file each: random, zipcal,
// least_ppl, cola, self_generated). Every selector returns exactly N samples of exactly L tokens.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lmp {

// One pool document that can serve as a sample: its first L tokens (BOS first when the tokenizer has
// one) — or, for `random`, a seeded random window of L tokens of it.
struct Candidate {
  int64_t doc_index = -1;        // index of the document in the pool (-1: generated / packed)
  int32_t source = -1;           // index into the pool's source names (-1: none)
  std::vector<int32_t> tokens;   // exactly L ids
};

struct SelectOptions {
  std::string method = "zipcal";   // random | zipcal | least-ppl | cola | self
  int64_t n = 128;                 // samples
  int64_t seq = 512;               // tokens per sample (L)
  uint64_t seed = 0;
  bool pack = false;               // concatenate documents shorter than L into samples
  int64_t max_candidates = 4096;   // model-based selectors: seeded uniform subset of the candidates
  int64_t zipcal_candidates = 2000;  // ZipCal: candidates sampled per greedy step
  double t_start = 1.5, t_end = 0.8;  // self-calibration temperature schedule (ours; see --help)
  int64_t t_steps = 50;
  std::string text_field = "text";
  int threads = 0;
};

// The chosen samples: tokens row-major [n, seq] and, per sample, the pool document it came from
// (-1 for generated or packed samples).
struct Selection {
  int64_t n = 0, seq = 0;
  std::vector<int32_t> input_ids;
  std::vector<int64_t> source_indices;
  std::vector<int32_t> sources;  // source index per sample (-1: none)
};

}  // namespace lmp
