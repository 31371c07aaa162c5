// Resuming a killed `compress` (docs/memory.md, "Resume"): after each block the pipeline saves, in a
// state directory beside the output (the CLI: OUT.resume/),
//   block-<b>.safetensors       the compressed block (compress/block_record.h)
//   stream-<k>.safetensors      the calibration stream(s) after the first k blocks: "x" [n·seq, hidden]
//                               and, when the run carries the original model's stream, "x_orig"
//   manifest.json               {"format": "lmpress-resume", "version": 1, "fingerprint": {...},
//                                "blocks_done": k, "stream": "stream-<k>.safetensors", "refine": [...]}
// each written under a temporary name and renamed, the manifest last, so a process killed at any moment
// leaves a consistent state (a block record or stream written after the last manifest is simply
// rewritten). A rerun with the same fingerprint (what the CLI derives from the model's files, the
// calibration ids, the resolved recipe and the export options) replays the saved blocks into the writer
// and continues from block k with the saved stream: the same bytes as an uninterrupted run. A different
// fingerprint is refused, naming the first field that differs. The state lives until the output is
// complete (remove()).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "compress/block_stats.h"
#include "compress/pipeline.h"

namespace lmp {

class ResumeStore {
 public:
  // `fingerprint`: a JSON object of everything that decides the output.
  ResumeStore(std::string dir, nlohmann::json fingerprint);

  // Reads the saved state of a model with `num_layers` blocks when `dir` holds one and returns the number of finished blocks, 0 for a fresh start. Throws when the saved
  // fingerprint differs from this run's, or the manifest does not parse.
  int64_t open(int64_t num_layers);
  int64_t blocks_done() const { return done_; }
  const std::string& dir() const { return dir_; }

  // Block b < blocks_done() as it was saved.
  CompressedBlock block(int64_t b) const;
  // The refinement summaries of the finished blocks (empty without refinement).
  const std::vector<BlockRefineSummary>& refine() const { return refine_; }
  // Restores act.x (and act.x_orig when act.tracks_orig()) to the stream after blocks_done() blocks;
  // act.n/seq and the vectors' sizes must be this run's.
  void load_stream(CalibActivations& act) const;

  // Saves finished block `block.index` (== blocks_done()), the stream after it, and the manifest
  // (creating `dir` with the first block).
  void save(const CompressedBlock& block, const CalibActivations& act, const BlockRefineSummary* refine);
  // Deletes the state (the output is complete, or the user asked to start over).
  void remove();

 private:
  std::string path(const std::string& file) const { return dir_ + "/" + file; }
  void write_manifest(const std::string& stream) const;

  std::string dir_;
  nlohmann::json fingerprint_;
  int64_t done_ = 0;
  std::string stream_;  // the stream file of blocks_done()
  std::vector<BlockRefineSummary> refine_;
};

// "block-00003.safetensors", "stream-00004.safetensors".
std::string block_record_name(int64_t b);
std::string stream_name(int64_t blocks_done);

}  // namespace lmp
