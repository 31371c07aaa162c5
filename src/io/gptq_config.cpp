// GPTQ quantization_config (see gptq_config.h).
#include "io/gptq_config.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "io/gptq_bits.h"
#include "io/mapped_file.h"
#include "io/printable.h"

namespace lmp {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

json read_json_object(const std::string& path) {
  const auto file = MappedFile::open(path);
  json j = json::parse(file->data(), file->data() + file->size(), nullptr, /*allow_exceptions=*/false);
  LMP_CHECK(!j.is_discarded() && j.is_object(), "config ", path, ": not a valid JSON object");
  return j;
}

// A field of the quantization object `q` read from `path`; `key` is how messages name the object.
struct QuantFields {
  const json& q;
  const std::string& path;
  const std::string& key;

  const json* get(const char* k) const { return q.contains(k) && !q[k].is_null() ? &q[k] : nullptr; }
  std::string where(const char* k) const { return "config " + path + ": " + key + k; }
  int64_t integer_or(const char* k, int64_t def) const {
    const json* v = get(k);
    if (!v) return def;
    LMP_CHECK(v->is_number_integer(), where(k), ": expected an integer, found ", printable(v->dump(), 60));
    return v->get<int64_t>();
  }
  bool flag_or(const char* k, bool def) const {
    const json* v = get(k);
    if (!v) return def;
    LMP_CHECK(v->is_boolean(), where(k), ": expected true or false, found ", printable(v->dump(), 60));
    return v->get<bool>();
  }
  std::string text_or(const char* k, const std::string& def) const {
    const json* v = get(k);
    if (!v) return def;
    LMP_CHECK(v->is_string(), where(k), ": expected a string, found ", printable(v->dump(), 60));
    return v->get<std::string>();
  }
};

GptqConfig parse(const QuantFields& f, const std::string& default_method) {
  const std::string method = f.text_or("quant_method", default_method);
  LMP_CHECK(method == "gptq", f.where("quant_method"), ": \"", printable(method),
            "\" checkpoints are not supported (expected gptq)");
  LMP_CHECK(f.get("bits"), f.where("bits"), ": missing");
  GptqConfig c;
  c.source = f.path;
  const int64_t bits = f.integer_or("bits", 0);
  LMP_CHECK(gptq_bits_supported(int(bits)), f.where("bits"), ": expected 2, 4 or 8, found ", bits,
            bits == 3 ? " (3-bit GPTQ packs values across int32 words and is not supported)" : "");
  c.bits = int(bits);
  c.group_size = f.integer_or("group_size", 128);
  LMP_CHECK(c.group_size == -1 || c.group_size > 0, f.where("group_size"),
            ": expected -1 or a positive integer, found ", c.group_size);
  c.desc_act = f.flag_or("desc_act", false);
  c.sym = f.flag_or("sym", true);
  c.checkpoint_format = f.text_or("checkpoint_format", "gptq");
  LMP_CHECK(c.checkpoint_format == "gptq" || c.checkpoint_format == "gptq_v2", f.where("checkpoint_format"),
            ": expected gptq or gptq_v2, found \"", printable(c.checkpoint_format), "\"");
  return c;
}

}  // namespace

std::string GptqConfig::describe() const {
  std::ostringstream s;
  s << "gptq " << bits << "-bit, ";
  if (group_size > 0) s << "group " << group_size;
  else s << "one group per row";
  s << (desc_act ? ", desc_act" : "") << (sym ? ", sym" : ", asym") << " (checkpoint_format " << checkpoint_format
    << ")";
  return s.str();
}

std::optional<GptqConfig> read_gptq_config(const std::string& dir) {
  const std::string cfg_path = (fs::path(dir) / "config.json").string();
  const json cfg = read_json_object(cfg_path);
  if (cfg.contains("quantization_config") && !cfg["quantization_config"].is_null()) {
    const json& q = cfg["quantization_config"];
    LMP_CHECK(q.is_object(), "config ", cfg_path, ": quantization_config: expected an object, found ",
              printable(q.dump(), 60));
    const std::string key = "quantization_config.";
    return parse(QuantFields{q, cfg_path, key}, "");
  }
  const fs::path legacy = fs::path(dir) / "quantize_config.json";  // AutoGPTQ before transformers' field
  std::error_code ec;
  if (!fs::is_regular_file(legacy, ec)) return std::nullopt;
  const std::string legacy_path = legacy.string(), top_level = "";
  const json q = read_json_object(legacy_path);
  return parse(QuantFields{q, legacy_path, top_level}, "gptq");
}

}  // namespace lmp
