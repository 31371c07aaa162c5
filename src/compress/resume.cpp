// The resume state of `compress` (see resume.h).
#include "compress/resume.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compress/block_record.h"
#include "core/error.h"
#include "io/safetensors.h"

namespace lmp {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "lmpress-resume";
constexpr int kVersion = 1;

std::string numbered(const char* stem, int64_t k) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%05lld.safetensors", stem, static_cast<long long>(k));
  return buf;
}

// The first difference between two fingerprints, as "/calib/ids_xxh64: saved 12, now 34".
std::string first_difference(const nlohmann::json& saved, const nlohmann::json& now) {
  const nlohmann::json patch = nlohmann::json::diff(saved, now);
  if (patch.empty()) return "";
  const nlohmann::json& op = patch.front();
  const std::string where = op.value("path", std::string("/"));
  const nlohmann::json::json_pointer ptr(where);
  const std::string was = saved.contains(ptr) ? saved.at(ptr).dump() : "(absent)";
  const std::string is = now.contains(ptr) ? now.at(ptr).dump() : "(absent)";
  return where + ": saved " + was + ", now " + is;
}

nlohmann::json refine_json(const BlockRefineSummary& s) {
  return {{"block", s.block}, {"mse_before", s.mse_before}, {"mse_after", s.mse_after}, {"seconds", s.seconds},
          {"steps", s.steps}};
}

BlockRefineSummary refine_of(const nlohmann::json& j) {
  return {j.at("block").get<int64_t>(), j.at("mse_before").get<double>(), j.at("mse_after").get<double>(),
          j.at("seconds").get<double>(), j.at("steps").get<int64_t>()};
}

// Testing aid: LMP_KILL_AFTER_BLOCKS=k kills the process (SIGKILL, as `kill -9` would) right after the
// state of the first k blocks is saved — tests/cli/resume_cli_test.cpp interrupts a run with it.
void kill_if_asked(int64_t done) {
  const char* k = std::getenv("LMP_KILL_AFTER_BLOCKS");
  if (k && std::strtoll(k, nullptr, 10) == done) std::raise(SIGKILL);
}

}  // namespace

std::string block_record_name(int64_t b) { return numbered("block", b); }
std::string stream_name(int64_t blocks_done) { return numbered("stream", blocks_done); }

ResumeStore::ResumeStore(std::string dir, nlohmann::json fingerprint)
    : dir_(std::move(dir)), fingerprint_(std::move(fingerprint)) {}

int64_t ResumeStore::open(int64_t num_layers) {
  done_ = 0;
  stream_.clear();
  refine_.clear();
  const std::string manifest = path("manifest.json");
  std::error_code ec;
  if (!fs::exists(manifest, ec)) return 0;  // save() creates the directory with the first block
  std::ifstream in(manifest);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    fail("compress: ", manifest, " is not JSON (", e.what(), "): delete ", dir_, " or give --no-resume");
  }
  LMP_CHECK(m.value("format", std::string()) == kFormat && m.value("version", 0) == kVersion, "compress: ", manifest,
            " is not an lmpress resume manifest of version ", kVersion, ": delete ", dir_, " or give --no-resume");
  const std::string diff = first_difference(m.at("fingerprint"), fingerprint_);
  LMP_CHECK(diff.empty(), "compress: ", dir_, " holds ", m.value("blocks_done", int64_t(0)),
            " finished blocks of a different run (fingerprint ", diff, "): rerun the command that started it, or "
            "give --no-resume to discard them and start over");
  done_ = m.at("blocks_done").get<int64_t>();
  LMP_CHECK(done_ >= 0 && done_ <= num_layers, "compress: ", manifest, ": blocks_done ", done_, " outside [0, ",
            num_layers, "]");
  stream_ = m.at("stream").get<std::string>();
  for (const nlohmann::json& r : m.at("refine")) refine_.push_back(refine_of(r));
  // Files of a block begun after the manifest was written: rewritten as the run goes on.
  for (const fs::directory_entry& e : fs::directory_iterator(dir_))
    if (e.path().filename().string().rfind("stream-", 0) == 0 && e.path().filename() != stream_) fs::remove(e.path(), ec);
  return done_;
}

CompressedBlock ResumeStore::block(int64_t b) const {
  LMP_CHECK(b >= 0 && b < done_, "compress: block ", b, " is not among the ", done_, " saved in ", dir_);
  CompressedBlock blk = read_block_record(path(block_record_name(b)));
  LMP_CHECK(blk.index == b, "compress: ", path(block_record_name(b)), " holds block ", blk.index, ", expected ", b);
  return blk;
}

void ResumeStore::load_stream(CalibActivations& act) const {
  const std::string p = path(stream_);
  const SafetensorsFile f = read_safetensors(p);
  const auto restore = [&](const char* name, FloatStore& dst) {
    LMP_CHECK(f.find(name), "compress: ", p, " has no tensor ", name);
    const Tensor t = f.tensor(name);
    LMP_CHECK(t.dtype() == DType::F32 && size_t(t.numel()) == dst.size(), "compress: ", p, ": ", name, " holds ",
              t.numel(), " ", dtype_name(t.dtype()), " values, expected ", dst.size(), " F32 (n·seq·hidden)");
    std::memcpy(dst.data(), t.data(), t.nbytes());
    dst.release(0, dst.size());
  };
  restore("x", act.x);
  if (act.tracks_orig()) restore("x_orig", act.x_orig);
}

void ResumeStore::save(const CompressedBlock& block, const CalibActivations& act, const BlockRefineSummary* refine) {
  LMP_CHECK(block.index == done_, "compress: saving block ", block.index, " after ", done_, " finished blocks");
  std::error_code ec;
  fs::create_directories(dir_, ec);
  LMP_CHECK(!ec, "compress: cannot create the resume directory ", dir_, ": ", ec.message());
  write_block_record(path(block_record_name(block.index)), block);
  const int64_t rows = act.n * act.seq, hidden = rows ? int64_t(act.x.size()) / rows : 0;
  const auto view = [&](const FloatStore& v) {
    return Tensor::view(DType::F32, {rows, hidden}, v.data(), nullptr);
  };
  std::vector<std::pair<std::string, Tensor>> stream = {{"x", view(act.x)}};
  if (act.tracks_orig()) stream.emplace_back("x_orig", view(act.x_orig));
  const std::string next = stream_name(done_ + 1);
  write_safetensors(path(next), stream, {{"blocks_done", std::to_string(done_ + 1)}});
  act.release_rows(0, act.n * act.seq);
  if (refine) refine_.push_back(*refine);
  write_manifest(next);
  if (!stream_.empty()) fs::remove(path(stream_), ec);
  stream_ = next;
  ++done_;
  kill_if_asked(done_);
}

void ResumeStore::write_manifest(const std::string& stream) const {
  nlohmann::json refine = nlohmann::json::array();
  for (const BlockRefineSummary& s : refine_) refine.push_back(refine_json(s));
  const nlohmann::json m = {{"format", kFormat}, {"version", kVersion}, {"fingerprint", fingerprint_},
                            {"blocks_done", done_ + 1}, {"stream", stream}, {"refine", refine}};
  const std::string tmp = path("manifest.json.tmp");
  {
    std::ofstream out(tmp);
    out << m.dump(1) << "\n";
    LMP_CHECK(out.good(), "compress: cannot write ", tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path("manifest.json"), ec);
  LMP_CHECK(!ec, "compress: cannot rename ", tmp, ": ", ec.message());
}

void ResumeStore::remove() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  done_ = 0;
  stream_.clear();
  refine_.clear();
}

}  // namespace lmp
