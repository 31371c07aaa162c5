// The lmp writer (see lmp_writer.h). Plain tensors are the input's stored bytes where safetensors can
// hold them as they are (not packed, no RoPE row interleaving, a scalar dtype), else their f32 values.
#include "export/lmp_writer.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "export/side_files.h"
#include "io/lmp_record.h"
#include "io/safetensors.h"

namespace fs = std::filesystem;

namespace lmp {

namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

}  // namespace

LmpWriter::LmpWriter(const Checkpoint& input, std::string out_dir, bool force, bool head, RansOptions opts,
                     MethodLabel method)
    : in_(input), out_(std::move(out_dir)), tmp_(out_ + ".tmp"), head_(head), opts_(opts), method_(std::move(method)) {
  std::error_code ec;
  LMP_CHECK(force || !fs::exists(out_, ec), "export lmp: output '", out_, "' exists (use --force to replace it)");
  fs::remove_all(tmp_, ec);
  fs::create_directories(tmp_, ec);
  LMP_CHECK(!ec, "export lmp: cannot create '", tmp_, "': ", ec.message());
  spill_ = std::make_unique<SpillFile>(tmp_ + "/parts.spill", "export lmp");
  for (int64_t b = 0; b < input.config().num_layers; ++b)
    for (const std::string& leaf : names::block_linears()) linears_.insert(names::layer(b, leaf + ".weight"));
  if (head) {
    linears_.insert(names::lm_head());
    untie_ = !input.has(names::lm_head());
  }
  pending_ = linears_;
}

void LmpWriter::put(const std::string& name, const CompressedLinear& c) {
  LMP_CHECK(linears_.count(name), "export lmp: ", name, " is not a linear of the input checkpoint");
  LMP_CHECK(pending_.erase(name), "export lmp: ", name, " was given twice");
  if (lmp_codes(c)) {
    const LmpLinear l = encode_lmp_linear(name, c, opts_, method_ ? method_(name) : "");
    Coded& k = coded_[name];
    k.meta = l.meta;
    k.weights = l.weights;
    k.ideal_bits = l.ideal_bits;
    k.bytes = l.bytes();
    for (const auto& [part, t] : l.tensors) k.parts.emplace(part, spill_->append(t));
    return;
  }
  // A plain linear: the input's tensor when the method left it as it was (read at finish), else its f32
  // values.
  const bool unchanged = in_.has(name) && same_bits(in_.load_f32(name), c.weight);
  if (!unchanged) plain_[name] = spill_->append(c.weight);
}

void LmpWriter::add_block(const CompressedBlock& block) {
  for (const auto& [leaf, cl] : block.linears) put(names::layer(block.index, leaf + ".weight"), cl);
  for (const std::string& leaf : names::block_linears())  // skipped (--ignore): the input's tensor, at finish
    if (!block.linears.count(leaf)) pending_.erase(names::layer(block.index, leaf + ".weight"));
  for (const auto& [name, t] : block.tensors) {  // refined norms and biases, in f32
    LMP_CHECK(name.rfind(names::layer(block.index, ""), 0) == 0 && in_.has(name), "export lmp: block ", block.index,
              " changed '", name, "', which is not a tensor of that block in the input");
    plain_[name] = spill_->append(t);
  }
}

void LmpWriter::add_head(const CompressedLinear& head) {
  LMP_CHECK(head_, "export lmp: add_head() on a writer made without head");
  put(names::lm_head(), head);
}

bool LmpWriter::stored_as_is(const std::string& name) const {
  const TensorInfo& t = in_.info(name);
  return in_.packing(name).empty() && t.interleaved_heads == 0 && dtype_block_elems(t.dtype) == 1;
}

Tensor LmpWriter::stored(const std::string& name) const {
  return stored_as_is(name) ? in_.raw(name) : in_.load_f32(name);
}

// Every tensor of the file by name (plain ones counted in total_weights, coded ones in linear_* too), each
// read when it is written; their records go into `meta`.
std::vector<SafetensorsSource> LmpWriter::file_tensors(std::map<std::string, std::string>& meta) {
  std::map<std::string, SafetensorsSource> all;
  auto plain = [&](SafetensorsSource s) {
    sizes_.total_weights += uint64_t(shape_numel(s.shape));
    all.emplace(s.name, std::move(s));
  };
  for (const std::string& name : in_.tensor_names()) {
    if (coded_.count(name) || plain_.count(name)) continue;
    const TensorInfo& t = in_.info(name);
    plain({name, stored_as_is(name) ? t.dtype : DType::F32, t.shape, [this, name] { return stored(name); }});
  }
  for (const auto& [name, slot] : plain_) plain(spill_->source(name, slot));
  for (const auto& [name, l] : coded_) {
    meta[kLmpRecordPrefix + name] = l.meta.dump();
    for (const auto& [part, slot] : l.parts) {
      LMP_CHECK(!all.count(part), "export lmp: ", part, " (a part of ", name, ") is also a tensor of the input");
      all.emplace(part, spill_->source(part, slot));
    }
    sizes_.linear_weights += uint64_t(l.weights);
    sizes_.total_weights += uint64_t(l.weights);
    sizes_.linear_bytes += l.bytes;
    sizes_.ideal_bits += l.ideal_bits;
  }
  // Widest elements first (then by name), as the safetensors reference writer orders them: the data
  // section starts 8-aligned, so every tensor is aligned to its element size despite odd-sized streams.
  std::vector<SafetensorsSource> out;
  for (auto& [name, s] : all) out.push_back(std::move(s));
  std::stable_sort(out.begin(), out.end(), [](const SafetensorsSource& a, const SafetensorsSource& b) {
    return dtype_block_bytes(a.dtype) > dtype_block_bytes(b.dtype);
  });
  return out;
}

void LmpWriter::write_config() const {
  nlohmann::json cfg = export_config(in_, in_.config().dtype);
  if (untie_) cfg["tie_word_embeddings"] = false;
  cfg["quantization_config"] = {{"quant_method", "lmpress"}, {"format", "lmp"}, {"format_version", kLmpVersion}};
  std::ofstream f(tmp_ + "/config.json");
  f << cfg.dump(2) << "\n";
  LMP_CHECK(f.good(), "export lmp: cannot write ", tmp_, "/config.json");
}

void LmpWriter::finish() {
  LMP_CHECK(!finished_, "export lmp: finish() called twice");
  LMP_CHECK(pending_.empty(), "export lmp: ", pending_.size(), " linears were never given (first: ", *pending_.begin(),
            "); add every block (and the head) before finish()");
  std::map<std::string, std::string> meta = {{"format", "lmp"}, {"lmp_version", std::to_string(kLmpVersion)}};
  sizes_ = {};
  const std::string file = tmp_ + "/model.safetensors";
  write_safetensors_from(file, file_tensors(meta), meta);
  spill_.reset();  // unlinked already: closing frees its disk space
  std::error_code ec;
  sizes_.file_bytes = fs::file_size(file, ec);
  LMP_CHECK(!ec, "export lmp: cannot stat ", file, ": ", ec.message());
  write_config();
  copy_tokenizer_files(in_, tmp_, "export lmp");
  fs::remove_all(out_, ec);
  fs::rename(tmp_, out_, ec);
  LMP_CHECK(!ec, "export lmp: cannot rename ", tmp_, " to ", out_, ": ", ec.message());
  coded_.clear();
  plain_.clear();
  finished_ = true;
}

}  // namespace lmp
