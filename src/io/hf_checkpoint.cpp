#include "io/hf_checkpoint.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "core/error.h"
#include "io/gptq_checkpoint.h"
#include "io/gptq_config.h"
#include "io/hf_config.h"
#include "io/lmp_checkpoint.h"
#include "io/safetensors.h"
#include "io/printable.h"

namespace lmp {

namespace fs = std::filesystem;

namespace {

using json = nlohmann::json;

// is_regular_file without throwing (a name too long for the OS is simply not a file).
bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// weight_map of model.safetensors.index.json: tensor name -> shard file name.
std::map<std::string, std::string> read_weight_map(const std::string& index_path) {
  std::ifstream in(index_path, std::ios::binary);
  LMP_CHECK(in, "checkpoint ", index_path, ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  const json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  LMP_CHECK(!j.is_discarded() && j.is_object(), "checkpoint ", index_path, ": not a valid JSON object");
  LMP_CHECK(j.contains("weight_map") && j["weight_map"].is_object(), "checkpoint ", index_path,
            ": weight_map: expected an object of tensor name -> shard file");
  std::map<std::string, std::string> out;
  for (const auto& [name, shard] : j["weight_map"].items()) {
    LMP_CHECK(shard.is_string(), "checkpoint ", index_path, ": weight_map.", printable(name), ": expected a file name, found ",
              shard.dump());
    const std::string s = shard.get<std::string>();
    LMP_CHECK(!s.empty() && s.find('/') == std::string::npos && s != "..", "checkpoint ", index_path, ": weight_map.",
              name, ": expected a file name in the same directory, found \"", printable(s), "\"");
    out[name] = s;
  }
  LMP_CHECK(!out.empty(), "checkpoint ", index_path, ": weight_map is empty");
  return out;
}

// `lmp`: config.json declares an lmp checkpoint (else a shard with lmp metadata is an error).
void add_shard(LoadedCheckpoint& c, const SafetensorsFile& st, bool lmp, const std::string& dir) {
  if (!lmp) reject_undeclared_lmp(st, dir);
  for (const SafetensorsEntry& e : st.entries) {
    TensorEntry t;
    t.info = TensorInfo{e.name, e.name, e.dtype, e.shape, st.path(), e.offset, e.nbytes, 0};
    t.data = st.file->data() + e.offset;
    t.owner = st.file;
    c.add(std::move(t), "checkpoint " + st.path());
  }
}

// Opens every shard named by the index and checks each tensor is where the index says.
int load_sharded(LoadedCheckpoint& c, const fs::path& dir, const std::string& index_path, bool lmp) {
  const auto weight_map = read_weight_map(index_path);
  std::set<std::string> shards;
  for (const auto& [name, shard] : weight_map) shards.insert(shard);
  for (const std::string& shard : shards) {
    const fs::path p = dir / shard;
    LMP_CHECK(is_file(p), "checkpoint ", index_path, ": shard ", printable(shard), " does not exist in ",
              dir.string());
    add_shard(c, read_safetensors(p.string()), lmp, dir.string());
  }
  for (const auto& [name, shard] : weight_map) {
    auto it = c.tensors.find(name);
    LMP_CHECK(it != c.tensors.end() && fs::path(it->second.info.file).filename() == shard, "checkpoint ",
              index_path, ": weight_map puts ", printable(name), " in ", printable(shard), ", which does not hold it");
  }
  return int(shards.size());
}

}  // namespace

LoadedCheckpoint open_hf_checkpoint(const std::string& dir_str) {
  const fs::path dir(dir_str);
  const fs::path cfg = dir / "config.json";
  LMP_CHECK(is_file(cfg), "checkpoint ", dir_str,
            ": no config.json (expected a Hugging Face model directory)");
  LoadedCheckpoint c;
  c.format = CheckpointFormat::HF;
  c.config_source = "config.json";
  c.config = read_hf_config(cfg.string());
  const fs::path index = dir / "model.safetensors.index.json";
  const fs::path single = dir / "model.safetensors";
  const bool lmp = declares_lmp(dir_str);
  int shards = 1;
  if (is_file(index)) {
    shards = load_sharded(c, dir, index.string(), lmp);
  } else {
    LMP_CHECK(is_file(single), "checkpoint ", dir_str,
              ": no model.safetensors or model.safetensors.index.json (only safetensors checkpoints are supported)");
    add_shard(c, read_safetensors(single.string()), lmp, dir_str);
  }
  std::string lmp_summary;
  if (lmp) attach_lmp_linears(c, dir_str, &lmp_summary);
  const std::optional<GptqConfig> quant = lmp ? std::nullopt : read_gptq_config(dir_str);
  const int64_t packed = quant ? attach_gptq_linears(c, *quant, dir_str) : 0;
  for (const auto& [name, entry] : c.tensors)
    LMP_CHECK(name.size() < 8 || name.compare(name.size() - 8, 8, ".qweight") != 0, "checkpoint ", dir_str, ": ",
              printable(name),
              ": a packed tensor, but config.json has no quantization_config (expected quant_method gptq)");
  if (is_file(dir / "tokenizer.json")) {
    c.tokenizer.kind = TokenizerSource::Kind::HfJson;
    c.tokenizer.json_path = (dir / "tokenizer.json").string();
    c.tokenizer.origin = c.tokenizer.json_path;
  }
  c.metadata = config_metadata(c.config);
  c.metadata["shards"] = std::to_string(shards);
  c.metadata["tokenizer"] = c.tokenizer.kind == TokenizerSource::Kind::HfJson ? "tokenizer.json" : "none";
  if (packed > 0) c.metadata["quantization"] = quant->describe();
  if (lmp) c.metadata["quantization"] = lmp_summary;
  return c;
}

}  // namespace lmp
