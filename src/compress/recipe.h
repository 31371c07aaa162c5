// Recipe: how the linears of a model are compressed — an ordered chain of stages (registered methods
// and their fields), the block sequencing, and per-layer overrides. Read from a JSON file
// (docs/compression.md, "Recipes"; examples/recipes/):
//
//   {
//     "description": "SparseGPT 50% then GPTQ 4-bit of the survivors; 8 bits for down_proj",
//     "stages": [ {"method": "sparsegpt", "sparsity": 0.5},
//                 {"method": "gptq", "bits": 4, "group": 128, "act_order": true} ],
//     "sequential": "block",
//     "overrides": [ {"match": "mlp\\.down_proj", "set": {"bits": 8}},
//                    {"match": "layers\\.0\\.self_attn", "stages": [{"method": "rtn", "bits": 8}]},
//                    {"match": "layers\\.5\\.mlp", "skip": true} ]
//   }
//
// - stages: stage 0 compresses the weight, stage k+1 what stage k produced (method_chain.h); a field a
//   stage's method does not take is an error (registry.h, method_fields). Fields: bits, group, sym, mse,
//   act_order, static_groups, damp, block_size, sparsity, nm ("2:4"), double_quant.
// - sequential: "linear" | "block"; default: "block" when stage 0 is a pruner, else "linear".
// - overrides: `match` is an ECMAScript regex searched (not fully matched) in the canonical tensor name
//   (`model.layers.3.mlp.down_proj.weight`). Each override does exactly one of:
//     set     patch fields of the chain: each field goes to every stage whose method takes it, or only to
//             stage `stage` (an index) when given; setting `sparsity` clears `nm` and vice versa;
//     stages  replace the chain;
//     skip    (true) keep the linear as it is.
//   Overrides do not combine: for each linear the LAST override that matches decides, the stages apply
//   when none does. So write general rules first and exceptions after them.
// Every override resolves, when the recipe is read, to a complete chain or a skip, and every chain is
// built then (MethodChain), so a recipe that loads is valid for every linear: errors name the file and
// the JSON path with its value ("recipe.json: stages[1].bits: 9 out of range 2-8") before any model work.
//
// `lmpress compress --method M --bits ...` is the one-stage recipe recipe_from_method(), and `--ignore R`
// appends the override {"match": R, "skip": true}: one code path for both.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "compress/linear_method.h"

namespace lmp {

struct RecipeOverride {
  std::string match;               // the regex as written
  std::regex re;                   // ECMAScript, searched in the canonical name
  bool skip = false;               // keep matching linears as they are
  std::vector<MethodSpec> stages;  // the chain of matching linears (`set` already applied), unless skip
  std::string origin;              // "overrides[2]" or "--ignore": for reports and errors
};

struct Recipe {
  std::string source;              // the file (prefix of every error), or "" for --method
  std::vector<MethodSpec> stages;
  std::string sequential;          // "linear" | "block" | "" = default_sequential(stages[0].method)
  std::vector<RecipeOverride> overrides;
};

// Parses and validates a recipe; `source` (the file name) prefixes every error.
Recipe parse_recipe(const std::string& json_text, const std::string& source);
// Reads `path` and parses it.
Recipe load_recipe(const std::string& path);
// The one-stage recipe of `lmpress compress --method ...` (not validated here: MethodChain does it).
Recipe recipe_from_method(const MethodSpec& spec, const std::string& sequential = "");
// Appends {"match": R, "skip": true} for each --ignore R (origin "--ignore").
void add_ignore(Recipe& recipe, const std::vector<std::string>& ignore);

// "sparsegpt+gptq": the stages' method names joined by '+'.
std::string chain_name(const std::vector<MethodSpec>& stages);

// Builds every chain of the recipe (MethodChain: the methods validate their fields, each stage must take
// what the one before produces), so errors come before any model work; returns the union of the
// statistics (StatFlags) the chains need.
uint32_t check_recipe(const Recipe& recipe);

// The index of the last override whose regex is found in `name`; -1 when none matches.
int match_override(const Recipe& recipe, const std::string& name);
// The stages that apply to `name` (nullptr when an override skips it).
const std::vector<MethodSpec>* stages_for(const Recipe& recipe, const std::string& name);

// The sequencing a method uses by default: "linear" for gptq/rtn/nf4, "block" for pruning methods.
std::string default_sequential(const std::string& method);
// recipe.sequential, or the default of its first stage.
std::string recipe_sequential(const Recipe& recipe);
// Calls f on every stage of every chain (the stages, then each override's).
void for_each_stage(Recipe& recipe, const std::function<void(MethodSpec&)>& f);

// {"method": ..., and the fields the method takes}: the form parse_recipe reads.
nlohmann::json stage_json(const MethodSpec& spec);
// The whole recipe, `set` overrides written as their resolved `stages`; parse_recipe reads it back.
nlohmann::json recipe_json(const Recipe& recipe);

}  // namespace lmp
