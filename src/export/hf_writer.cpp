#include "export/hf_writer.h"
#include "export/side_files.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/safetensors.h"

namespace fs = std::filesystem;

namespace lmp {

namespace {

DType parse_dtype(const std::string& s, const ModelConfig& c) {
  const std::string d = s.empty() ? c.dtype : s;
  if (d == "bf16" || d == "bfloat16") return DType::BF16;
  if (d == "f16" || d == "float16") return DType::F16;
  if (d == "f32" || d == "float32") return DType::F32;
  fail("export hf: --dtype must be bf16, f16 or f32, found '", d, "'");
}

Tensor convert(const Tensor& f32, DType to) {
  if (to == DType::F32) return f32;
  Tensor out = Tensor::zeros(to, f32.shape());
  auto* dst = static_cast<uint16_t*>(out.mutable_data());
  const float* src = f32.f32();
  for (int64_t i = 0; i < f32.numel(); ++i) dst[i] = to == DType::BF16 ? f32_to_bf16(src[i]) : f32_to_f16(src[i]);
  return out;
}

std::string torch_dtype_name(DType d) {
  return d == DType::BF16 ? "bfloat16" : d == DType::F16 ? "float16" : "float32";
}

}  // namespace

HfWriter::HfWriter(const Checkpoint& input, std::string out_dir, std::string dtype, bool force, bool head)
    : in_(input), out_(std::move(out_dir)), tmp_(out_ + ".tmp"), dtype_(parse_dtype(dtype, input.config())) {
  std::error_code ec;
  LMP_CHECK(force || !fs::exists(out_, ec), "export hf: output '", out_, "' exists (use --force to replace it)");
  fs::remove_all(tmp_, ec);
  fs::create_directories(tmp_, ec);
  LMP_CHECK(!ec, "export hf: cannot create '", tmp_, "': ", ec.message());
  spill_ = std::make_unique<SpillFile>(tmp_ + "/pending.spill", "export hf");
  const bool hf = input.format() == CheckpointFormat::HF;
  for (const std::string& name : input.tensor_names()) {
    const std::string shard = hf ? fs::path(input.info(name).file).filename().string() : "model.safetensors";
    shard_of_[name] = shard;
    missing_[shard].insert(name);
  }
  if (head && !shard_of_.count(names::lm_head())) {  // tied: the head joins the embeddings' shard
    untie_ = true;
    shard_of_[names::lm_head()] = shard_of_.at(names::embed());
    missing_[shard_of_.at(names::embed())].insert(names::lm_head());
  }
  // Everything outside the blocks (but a compressed head) is copied from the input now; a block's
  // tensors come with add_block, which may have changed its norms and biases.
  for (const std::string& name : input.tensor_names()) {
    if (head && name == names::lm_head()) continue;
    if (name.rfind("model.layers.", 0) != 0) put(name, input.load_f32(name));
  }
  flush_complete_shards();
}

void HfWriter::put(const std::string& name, Tensor f32) {
  const auto it = shard_of_.find(name);
  LMP_CHECK(it != shard_of_.end(), "export hf: tensor '", name, "' is not in the input checkpoint");
  pending_[it->second][name] = spill_->append(convert(f32, dtype_));
  missing_[it->second].erase(name);
}

void HfWriter::add_block(const CompressedBlock& block) {
  for (const auto& [leaf, cl] : block.linears) put(names::layer(block.index, leaf + ".weight"), cl.weight);
  // Linears the pipeline skipped (--ignore) keep their input weights.
  for (const std::string& leaf : names::block_linears()) {
    const std::string name = names::layer(block.index, leaf + ".weight");
    if (!block.linears.count(leaf)) put(name, in_.load_f32(name));
  }
  // Norms and biases: as a block stage changed them, else the input's.
  const std::string prefix = names::layer(block.index, "");
  for (const std::string& name : in_.tensor_names()) {
    if (name.rfind(prefix, 0) != 0 || missing_[shard_of_.at(name)].count(name) == 0) continue;
    const auto it = block.tensors.find(name);
    put(name, it != block.tensors.end() ? it->second : in_.load_f32(name));
  }
  for (const auto& [name, t] : block.tensors)
    LMP_CHECK(name.rfind(prefix, 0) == 0 && in_.has(name), "export hf: block ", block.index, " changed '", name,
              "', which is not a tensor of that block in the input");
  flush_complete_shards();
}

void HfWriter::add_head(const CompressedLinear& head) {
  put(names::lm_head(), head.weight);
  flush_complete_shards();
}

void HfWriter::flush_complete_shards() {
  for (auto& [shard, missing] : missing_)
    if (missing.empty() && pending_.count(shard)) write_shard(shard);
}

void HfWriter::write_shard(const std::string& shard) {
  std::vector<SafetensorsSource> tensors;
  for (const auto& [name, slot] : pending_[shard]) tensors.push_back(spill_->source(name, slot));
  write_safetensors_from(tmp_ + "/" + shard, tensors, {{"format", "pt"}});
  for (const auto& [name, slot] : pending_[shard]) spill_->discard(slot);
  pending_.erase(shard);
  written_.push_back(shard);
}

void HfWriter::copy_side_files() const {
  nlohmann::json config = export_config(in_, torch_dtype_name(dtype_));
  if (untie_) config["tie_word_embeddings"] = false;
  std::ofstream(tmp_ + "/config.json") << config.dump(2) << "\n";
  copy_tokenizer_files(in_, tmp_, "export hf");
}

void HfWriter::finish() {
  for (const auto& [shard, missing] : missing_)
    LMP_CHECK(missing.empty(), "export hf: shard ", shard, " is missing ", missing.size(), " tensors (first: ",
              *missing.begin(), ")");
  flush_complete_shards();
  if (written_.size() > 1) {
    nlohmann::json index;
    uint64_t total = 0;
    for (const auto& [name, shard] : shard_of_) {
      index["weight_map"][name] = shard;
      const std::string& stored = name == names::lm_head() && untie_ ? names::embed() : name;  // same shape
      total += uint64_t(shape_numel(in_.info(stored).shape)) * dtype_block_bytes(dtype_);
    }
    index["metadata"] = {{"total_size", total}};
    std::ofstream(tmp_ + "/model.safetensors.index.json") << index.dump(2) << "\n";
  }
  spill_.reset();
  copy_side_files();
  std::error_code ec;
  fs::remove_all(out_, ec);
  fs::rename(tmp_, out_, ec);
  LMP_CHECK(!ec, "export hf: cannot rename ", tmp_, " to ", out_, ": ", ec.message());
}

}  // namespace lmp
