// Reading a recipe from JSON (format: recipe.h, docs/compression.md "Recipes"). Every error is one line
// "<file>: <JSON path>: <what was found and what was expected>"; every chain is built before returning.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "compress/method_chain.h"
#include "compress/recipe.h"
#include "compress/registry.h"
#include "core/error.h"

namespace lmp {

namespace {

using json = nlohmann::json;

// A position in the file: "recipe.json: overrides[0].set.bits".
struct Where {
  const std::string& src;
  std::string path;
  Where at(const std::string& key) const { return {src, path.empty() ? key : path + "." + key}; }
  Where index(size_t i) const { return {src, path + "[" + std::to_string(i) + "]"}; }
  template <typename... Args>
  [[noreturn]] void fail(Args&&... args) const {
    lmp::fail(src, ": ", path, ": ", std::forward<Args>(args)...);
  }
};

const std::vector<std::string>& all_fields() {
  static const std::vector<std::string> f = {"bits", "group", "sym", "mse", "act_order", "static_groups", "damp",
                                             "block_size", "sparsity", "nm", "double_quant", "lambda",
                                             "optimizer", "scale_dtype", "ratio", "rank",
                                             "factor_dtype"};
  return f;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

int64_t read_int(const Where& w, const json& v) {
  if (!v.is_number_integer()) w.fail(v.dump(), " is not an integer");
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
    w.fail(v.dump(), " out of range (too large)");
  return v.get<int64_t>();
}

double read_number(const Where& w, const json& v) {
  if (!v.is_number()) w.fail(v.dump(), " is not a number");
  return v.get<double>();
}

bool read_bool(const Where& w, const json& v) {
  if (!v.is_boolean()) w.fail(v.dump(), " is not a boolean (true or false)");
  return v.get<bool>();
}

// "N:M" with 0 < N < M.
void read_nm(const Where& w, const json& v, MethodSpec& s) {
  if (!v.is_string()) w.fail(v.dump(), " is not a string like \"2:4\"");
  const std::string t = v.get<std::string>();
  static const std::regex re("^([0-9]{1,4}):([0-9]{1,4})$");
  std::smatch m;
  const bool ok = std::regex_match(t, m, re) && std::stoi(m[1]) > 0 && std::stoi(m[1]) < std::stoi(m[2]);
  if (!ok) w.fail(v.dump(), " is not N:M with 0 < N < M (e.g. \"2:4\")");
  s.nm_n = std::stoi(m[1]);
  s.nm_m = std::stoi(m[2]);
}

// One field of a stage: type and range, named by its JSON path.
void read_field(const Where& w, const std::string& key, const json& v, MethodSpec& s) {
  if (key == "bits") {
    const int64_t b = read_int(w, v);
    if (b < 2 || b > 8) w.fail(b, " out of range 2-8");
    s.bits = int(b);
  } else if (key == "group") {
    s.group = read_int(w, v);
    if (s.group != -1 && s.group < 1) w.fail(s.group, " out of range (expected -1 or >= 1)");
  } else if (key == "block_size") {
    s.block_size = read_int(w, v);
    if (s.block_size < 1) w.fail(s.block_size, " out of range (expected >= 1)");
  } else if (key == "damp") {
    s.damp = read_number(w, v);
    if (!(std::isfinite(s.damp) && s.damp >= 0)) w.fail(v.dump(), " out of range (expected >= 0)");
  } else if (key == "sparsity") {
    s.sparsity = read_number(w, v);
    if (!(s.sparsity > 0 && s.sparsity < 1)) w.fail(v.dump(), " out of range (0, 1)");
  } else if (key == "nm") {
    read_nm(w, v, s);
  } else if (key == "ratio") {
    s.ratio = read_number(w, v);
    if (!(s.ratio > 0 && s.ratio <= 1)) w.fail(v.dump(), " out of range (0, 1]");
  } else if (key == "factor_dtype") {
    if (!v.is_string() || (v.get<std::string>() != "bf16" && v.get<std::string>() != "f32"))
      w.fail(v.dump(), " is not a factor dtype (f32 or bf16)");
    s.factor_dtype = v.get<std::string>();
  } else if (key == "rank") {
    s.rank = read_int(w, v);
    if (s.rank < 1) w.fail(s.rank, " out of range (expected >= 1)");
  } else if (key == "sym") {
    s.sym = read_bool(w, v);
  } else if (key == "mse") {
    s.mse = read_bool(w, v);
  } else if (key == "act_order") {
    s.act_order = read_bool(w, v);
  } else if (key == "static_groups") {
    s.static_groups = read_bool(w, v);
  } else if (key == "double_quant") {
    s.double_quant = read_bool(w, v);
  } else if (key == "lambda") {
    s.lambda = read_number(w, v);
    if (!(std::isfinite(s.lambda) && s.lambda >= 0)) w.fail(v.dump(), " out of range (expected >= 0)");
  } else if (key == "optimizer") {
    if (!v.is_string() || (v.get<std::string>() != "row-search" && v.get<std::string>() != "lbfgs"))
      w.fail(v.dump(), " is not an optimizer (row-search or lbfgs)");
    s.optimizer = v.get<std::string>();
  } else if (key == "scale_dtype") {
    if (!v.is_string() || (v.get<std::string>() != "bf16" && v.get<std::string>() != "f32"))
      w.fail(v.dump(), " is not a scale dtype (bf16 or f32)");
    s.scale_dtype = v.get<std::string>();
  } else {
    w.fail("unknown field (fields: ", join(all_fields()), ")");
  }
}

MethodSpec parse_stage(const Where& w, const json& v) {
  if (!v.is_object()) w.fail("expected an object like {\"method\": \"gptq\", \"bits\": 4}, found ", v.dump());
  if (!v.contains("method")) w.fail("missing \"method\" (one of: ", method_names_list(), ")");
  const json& m = v.at("method");
  if (!m.is_string() || !is_method(m.get<std::string>()))
    w.at("method").fail(m.dump(), " is not a method (known: ", method_names_list(), ")");
  MethodSpec s;
  s.method = m.get<std::string>();
  const std::vector<std::string>& fields = method_fields(s.method);
  for (const auto& [key, val] : v.items()) {
    if (key == "method") continue;
    if (!contains(fields, key)) w.at(key).fail("unknown field for ", s.method, " (it takes: ", join(fields), ")");
    read_field(w.at(key), key, val, s);
  }
  return s;
}

std::vector<MethodSpec> parse_stages(const Where& w, const json& v) {
  if (!v.is_array()) w.fail("expected an array of stages, found ", v.dump());
  if (v.empty()) w.fail("empty (expected at least one stage)");
  std::vector<MethodSpec> stages;
  for (size_t i = 0; i < v.size(); ++i) stages.push_back(parse_stage(w.index(i), v[i]));
  return stages;
}

// `set`: each field patches every stage whose method takes it, or only stage `only` (>= 0).
std::vector<MethodSpec> apply_set(const Where& w, const json& set, int64_t only, std::vector<MethodSpec> chain) {
  if (!set.is_object() || set.empty()) w.fail("expected a non-empty object of fields, found ", set.dump());
  for (const auto& [key, val] : set.items()) {
    const Where wf = w.at(key);
    if (!contains(all_fields(), key))
      wf.fail("unknown field (fields: ", join(all_fields()), "; use \"stages\" to change methods)");
    bool applied = false;
    for (size_t i = 0; i < chain.size(); ++i) {
      if ((only >= 0 && int64_t(i) != only) || !contains(method_fields(chain[i].method), key)) continue;
      read_field(wf, key, val, chain[i]);
      if (key == "sparsity") chain[i].nm_n = chain[i].nm_m = 0;  // one pattern replaces the other
      if (key == "nm") chain[i].sparsity = 0.0;
      applied = true;
    }
    if (!applied && only >= 0) wf.fail("stage ", only, " (", chain[size_t(only)].method, ") does not take ", key);
    if (!applied) wf.fail("no stage of ", chain_name(chain), " takes ", key);
  }
  return chain;
}

std::regex parse_match(const Where& w, const json& v) {
  if (!v.is_string()) w.fail(v.dump(), " is not a string (an ECMAScript regex searched in tensor names)");
  try {
    return std::regex(v.get<std::string>(), std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    w.fail(v.dump(), " is not a valid ECMAScript regex (", e.what(), ")");
  }
}

void check_keys(const Where& w, const json& v, const std::vector<std::string>& known) {
  for (const auto& [key, _] : v.items())
    if (!contains(known, key)) w.at(key).fail("unknown key (expected ", join(known), ")");
}

RecipeOverride parse_override(const Where& w, const json& v, const std::vector<MethodSpec>& base) {
  if (!v.is_object()) w.fail("expected an object like {\"match\": \"down_proj\", \"set\": {\"bits\": 8}}, found ", v.dump());
  check_keys(w, v, {"match", "set", "stage", "stages", "skip"});
  if (!v.contains("match")) w.fail("missing \"match\" (an ECMAScript regex searched in tensor names)");
  RecipeOverride o;
  o.origin = w.path;
  o.re = parse_match(w.at("match"), v.at("match"));
  o.match = v.at("match").get<std::string>();
  const int actions = int(v.contains("set")) + int(v.contains("stages")) + int(v.contains("skip"));
  if (actions != 1) w.fail("expected exactly one of \"set\", \"stages\" or \"skip\", found ", actions);
  if (v.contains("stage") && !v.contains("set")) w.at("stage").fail("only applies with \"set\"");
  if (v.contains("skip")) {
    if (!read_bool(w.at("skip"), v.at("skip"))) w.at("skip").fail("false (expected true; remove the override instead)");
    o.skip = true;
  } else if (v.contains("stages")) {
    o.stages = parse_stages(w.at("stages"), v.at("stages"));
  } else {
    int64_t only = -1;
    if (v.contains("stage")) {
      only = read_int(w.at("stage"), v.at("stage"));
      if (only < 0 || only >= int64_t(base.size()))
        w.at("stage").fail(only, " out of range 0-", base.size() - 1);
    }
    o.stages = apply_set(w.at("set"), v.at("set"), only, base);
  }
  return o;
}

// Builds every chain once so that any method-level error shows now, with its place in the file.
void validate_chains(const Recipe& r, const json& j) {
  MethodChain(r.stages, r.source + ": stages");
  for (size_t i = 0; i < r.overrides.size(); ++i) {
    const RecipeOverride& o = r.overrides[i];
    if (o.skip) continue;
    const bool set = j.at("overrides")[i].contains("set");
    MethodChain(o.stages, r.source + ": " + o.origin + (set ? ".set on stages" : ".stages"));
  }
}

json parse_json(const std::string& text, const std::string& source) {
  try {
    return json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    std::string msg = e.what();  // "[json.exception.parse_error.101] parse error at line 2, column 3: ..."
    const size_t cut = msg.find("] ");
    if (msg.rfind("[json.exception", 0) == 0 && cut != std::string::npos) msg = msg.substr(cut + 2);
    fail(source, ": invalid JSON: ", msg);
  }
}

}  // namespace

Recipe parse_recipe(const std::string& text, const std::string& source) {
  const json j = parse_json(text, source);
  if (!j.is_object()) fail(source, ": expected a JSON object with \"stages\", found ", j.type_name());
  const Where top{source, ""};
  check_keys(top, j, {"description", "stages", "sequential", "overrides"});
  if (!j.contains("stages")) fail(source, ": stages: missing (expected an array of stages)");
  Recipe r;
  r.source = source;
  r.stages = parse_stages(top.at("stages"), j.at("stages"));
  if (j.contains("description") && !j.at("description").is_string())
    top.at("description").fail(j.at("description").dump(), " is not a string");
  if (j.contains("sequential")) {
    const json& s = j.at("sequential");
    if (!s.is_string() || (s.get<std::string>() != "linear" && s.get<std::string>() != "block"))
      top.at("sequential").fail(s.dump(), " is not \"linear\" or \"block\"");
    r.sequential = s.get<std::string>();
  }
  if (j.contains("overrides")) {
    const json& ov = j.at("overrides");
    if (!ov.is_array()) top.at("overrides").fail("expected an array of overrides, found ", ov.dump());
    for (size_t i = 0; i < ov.size(); ++i) r.overrides.push_back(parse_override(top.at("overrides").index(i), ov[i], r.stages));
  }
  validate_chains(r, j);
  return r;
}

Recipe load_recipe(const std::string& path) {
  std::error_code ec;
  LMP_CHECK(std::filesystem::is_regular_file(path, ec), path, ": cannot read the recipe: not a regular file");
  std::ifstream f(path, std::ios::binary);
  LMP_CHECK(f.good(), path, ": cannot read the recipe (", std::strerror(errno), ")");
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_recipe(ss.str(), path);
}

}  // namespace lmp
