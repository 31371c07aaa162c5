// GPTQ export (see gptq_writer.h).
#include "export/gptq_writer.h"
#include "export/side_files.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "core/error.h"
#include "export/gptq_pack.h"
#include "io/safetensors.h"

namespace fs = std::filesystem;

namespace lmp {

namespace {

bool in_block(const std::string& name) { return name.rfind("model.layers.", 0) == 0; }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_linear_weight(const std::string& name) {
  for (const std::string& leaf : names::block_linears())
    if (ends_with(name, "." + leaf + ".weight")) return true;
  return false;
}

Tensor to_f16(const Tensor& f32) {
  Tensor out = Tensor::zeros(DType::F16, f32.shape());
  auto* dst = static_cast<uint16_t*>(out.mutable_data());
  for (int64_t i = 0; i < f32.numel(); ++i) dst[i] = f32_to_f16(f32.f32()[i]);
  return out;
}

// config.json for inputs that have none (GGUF, llama2.c): the fields transformers needs for LLaMA.

}  // namespace

void check_gptq_exportable(const Checkpoint& input, const MethodSpec& spec) {
  LMP_CHECK(spec.method == "rtn" || spec.method == "gptq", "export gptq: --method ", spec.method,
            " does not produce an integer grid; the GPTQ format needs --method rtn or gptq");
  LMP_CHECK(spec.bits == 2 || spec.bits == 4 || spec.bits == 8, "export gptq: --bits ", spec.bits,
            " cannot be packed; the GPTQ format holds 2, 4 or 8 bits");
  const int64_t per = 32 / spec.bits;
  for (const std::string& name : input.tensor_names()) {
    if (!is_linear_weight(name)) continue;
    const Shape& s = input.info(name).shape;
    LMP_CHECK(s.size() == 2 && s[0] % per == 0 && s[1] % per == 0, "export gptq: ", name, ": ", spec.bits,
              "-bit GPTQ packs ", per, " values per int32 and needs both sizes a multiple of ", per, ", found ",
              shape_str(s));
  }
}

GptqWriter::GptqWriter(const Checkpoint& input, std::string out_dir, const MethodSpec& spec, bool force, bool head)
    : in_(input), out_(std::move(out_dir)), tmp_(out_ + ".tmp"), spec_(spec), head_(head) {
  check_gptq_exportable(input, spec);
  const ModelConfig& c = input.config();
  LMP_CHECK(!head || (c.vocab_size % (32 / spec.bits) == 0 && c.hidden_size % (32 / spec.bits) == 0), "export gptq: ",
            names::lm_head(), ": ", spec.bits, "-bit GPTQ packs ", 32 / spec.bits, " values per int32 and needs both "
            "sizes a multiple of it, found [", c.vocab_size, ", ", c.hidden_size, "]");
  std::error_code ec;
  LMP_CHECK(force || !fs::exists(out_, ec), "export gptq: output '", out_, "' exists (use --force to replace it)");
  fs::remove_all(tmp_, ec);
  fs::create_directories(tmp_, ec);
  LMP_CHECK(!ec, "export gptq: cannot create '", tmp_, "': ", ec.message());
  n_shards_ = input.config().num_layers + 1 + (head ? 1 : 0);
  std::vector<std::pair<std::string, Tensor>> outer;
  for (const std::string& name : input.tensor_names())
    if (!in_block(name) && !(head && name == names::lm_head())) outer.emplace_back(name, to_f16(input.load_f32(name)));
  write_shard(1, std::move(outer));
}

std::string GptqWriter::shard_name(int64_t k) const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05lld-of-%05lld.safetensors", (long long)k, (long long)n_shards_);
  return buf;
}

void GptqWriter::write_shard(int64_t k, std::vector<std::pair<std::string, Tensor>> tensors) {
  const std::string shard = shard_name(k);
  for (const auto& [name, t] : tensors) {
    weight_map_.emplace_back(name, shard);
    total_bytes_ += t.nbytes();
  }
  write_safetensors(tmp_ + "/" + shard, tensors, {{"format", "pt"}});
}

void GptqWriter::add_block(const CompressedBlock& block) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  const std::string prefix = names::layer(block.index, "");
  for (const std::string& name : in_.tensor_names())  // norms and biases
    if (name.rfind(prefix, 0) == 0 && !is_linear_weight(name)) {
      const auto it = block.tensors.find(name);  // a block stage's refined norm or bias
      tensors.emplace_back(name, to_f16(it != block.tensors.end() ? it->second : in_.load_f32(name)));
    }
  for (const std::string& leaf : names::block_linears()) {
    const auto it = block.linears.find(leaf);
    for (auto& t : packed(names::layer(block.index, leaf), it == block.linears.end() ? nullptr : &it->second))
      tensors.push_back(std::move(t));
  }
  write_shard(block.index + 2, std::move(tensors));
  ++blocks_done_;
}

void GptqWriter::add_head(const CompressedLinear& head) {
  LMP_CHECK(head_, "export gptq: add_head() on a writer made without a compressed head");
  write_shard(n_shards_, packed("lm_head", &head));
  head_done_ = true;
}

// <base>.qweight / .qzeros / .scales / .g_idx of one quantized linear.
std::vector<std::pair<std::string, Tensor>> GptqWriter::packed(const std::string& base,
                                                                const CompressedLinear* cl) const {
  LMP_CHECK(cl && cl->quant, "export gptq: ", base,
            ".weight: expected a quantized linear (every linear of a GPTQ checkpoint is packed), found ",
            !cl ? "none (skipped by --ignore?)" : "one without an integer grid");
  GptqPacked p = gptq_pack(base + ".weight", *cl->quant);
  return {{base + ".qweight", std::move(p.qweight)},
          {base + ".qzeros", std::move(p.qzeros)},
          {base + ".scales", std::move(p.scales)},
          {base + ".g_idx", std::move(p.g_idx)}};
}

void GptqWriter::write_config() const {
  nlohmann::json cfg = export_config(in_, "float16");
  cfg.erase("dtype");
  cfg["torch_dtype"] = "float16";
  cfg["quantization_config"] = {{"quant_method", "gptq"}, {"bits", spec_.bits},
                                {"group_size", spec_.group <= 0 ? -1 : spec_.group},
                                {"desc_act", spec_.act_order}, {"sym", spec_.sym},
                                {"static_groups", spec_.static_groups}, {"true_sequential", true},
                                {"damp_percent", spec_.damp}, {"checkpoint_format", "gptq"}};
  if (head_) {
    cfg["quantization_config"]["lm_head"] = true;
    cfg["tie_word_embeddings"] = false;
  }
  std::ofstream(tmp_ + "/config.json") << cfg.dump(2) << "\n";
}

void GptqWriter::copy_side_files() const { copy_tokenizer_files(in_, tmp_, "export gptq"); }

void GptqWriter::finish() {
  LMP_CHECK(blocks_done_ == in_.config().num_layers, "export gptq: ", blocks_done_, " of ",
            in_.config().num_layers, " blocks were written");
  LMP_CHECK(head_done_ || !head_, "export gptq: lm_head was to be packed but never arrived");
  nlohmann::json index;
  for (const auto& [name, shard] : weight_map_) index["weight_map"][name] = shard;
  index["metadata"] = {{"total_size", total_bytes_}};
  std::ofstream(tmp_ + "/model.safetensors.index.json") << index.dump(2) << "\n";
  write_config();
  copy_side_files();
  std::error_code ec;
  fs::remove_all(out_, ec);
  fs::rename(tmp_, out_, ec);
  LMP_CHECK(!ec, "export gptq: cannot rename ", tmp_, " to ", out_, ": ", ec.message());
}

}  // namespace lmp
