// Recipe helpers: the --method form, --ignore, matching overrides, sequencing, and JSON output
// (parsing is in recipe_parse.cpp).
#include "compress/recipe.h"

#include "compress/method_chain.h"
#include "compress/registry.h"
#include "core/error.h"

namespace lmp {

std::string default_sequential(const std::string& method) {
  return (method == "magnitude" || method == "wanda" || method == "sparsegpt") ? "block" : "linear";
}

Recipe recipe_from_method(const MethodSpec& spec, const std::string& sequential) {
  Recipe r;
  r.stages = {spec};
  r.sequential = sequential;
  return r;
}

void add_ignore(Recipe& recipe, const std::vector<std::string>& ignore) {
  for (const std::string& pat : ignore) {
    RecipeOverride o;
    o.match = pat;
    try {
      o.re = std::regex(pat, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      fail("compress: --ignore '", pat, "' is not a valid regular expression (", e.what(), ")");
    }
    o.skip = true;
    o.origin = "--ignore";
    recipe.overrides.push_back(std::move(o));
  }
}

std::string chain_name(const std::vector<MethodSpec>& stages) {
  std::string s;
  for (const MethodSpec& m : stages) s += (s.empty() ? "" : "+") + m.method;
  return s;
}

uint32_t check_recipe(const Recipe& recipe) {
  const std::string src = recipe.source.empty() ? "" : recipe.source + ": ";
  uint32_t needs = MethodChain(recipe.stages, src.empty() ? "" : src + "stages").needs();
  for (const RecipeOverride& o : recipe.overrides)
    if (!o.skip) needs |= MethodChain(o.stages, src.empty() ? "" : src + o.origin + ".stages").needs();
  return needs;
}

int match_override(const Recipe& recipe, const std::string& name) {
  for (int i = int(recipe.overrides.size()) - 1; i >= 0; --i)
    if (std::regex_search(name, recipe.overrides[size_t(i)].re)) return i;
  return -1;
}

const std::vector<MethodSpec>* stages_for(const Recipe& recipe, const std::string& name) {
  const int i = match_override(recipe, name);
  if (i < 0) return &recipe.stages;
  const RecipeOverride& o = recipe.overrides[size_t(i)];
  return o.skip ? nullptr : &o.stages;
}

std::string recipe_sequential(const Recipe& recipe) {
  if (!recipe.sequential.empty()) return recipe.sequential;
  return recipe.stages.empty() ? "linear" : default_sequential(recipe.stages.front().method);
}

void for_each_stage(Recipe& recipe, const std::function<void(MethodSpec&)>& f) {
  for (MethodSpec& s : recipe.stages) f(s);
  for (RecipeOverride& o : recipe.overrides)
    for (MethodSpec& s : o.stages) f(s);
}

nlohmann::json stage_json(const MethodSpec& s) {
  nlohmann::json j = {{"method", s.method}};
  for (const std::string& f : method_fields(s.method)) {
    if (f == "bits") j[f] = s.bits;
    else if (f == "group") j[f] = s.group;
    else if (f == "sym") j[f] = s.sym;
    else if (f == "mse") j[f] = s.mse;
    else if (f == "act_order") j[f] = s.act_order;
    else if (f == "static_groups") j[f] = s.static_groups;
    else if (f == "damp") j[f] = s.damp;
    else if (f == "block_size") j[f] = s.block_size;
    else if (f == "double_quant") j[f] = s.double_quant;
    else if (f == "lambda") j[f] = s.lambda;
    else if (f == "optimizer") j[f] = s.optimizer;
    else if (f == "scale_dtype") j[f] = s.scale_dtype;
    else if (f == "ratio" && s.rank <= 0) j[f] = s.ratio;
    else if (f == "rank" && s.rank > 0) j[f] = s.rank;
    else if (f == "factor_dtype") j[f] = s.factor_dtype;
    else if (f == "sparsity" && s.sparsity != 0.0) j[f] = s.sparsity;
    else if (f == "nm" && (s.nm_n != 0 || s.nm_m != 0)) j[f] = std::to_string(s.nm_n) + ":" + std::to_string(s.nm_m);
  }
  return j;
}

nlohmann::json recipe_json(const Recipe& recipe) {
  const auto chain = [](const std::vector<MethodSpec>& stages) {
    nlohmann::json a = nlohmann::json::array();
    for (const MethodSpec& s : stages) a.push_back(stage_json(s));
    return a;
  };
  nlohmann::json j = {{"stages", chain(recipe.stages)}};
  if (!recipe.sequential.empty()) j["sequential"] = recipe.sequential;
  if (recipe.overrides.empty()) return j;
  nlohmann::json ov = nlohmann::json::array();
  for (const RecipeOverride& o : recipe.overrides) {
    if (o.skip) ov.push_back({{"match", o.match}, {"skip", true}});
    else ov.push_back({{"match", o.match}, {"stages", chain(o.stages)}});
  }
  j["overrides"] = std::move(ov);
  return j;
}

}  // namespace lmp
