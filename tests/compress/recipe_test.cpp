// Recipes (compress/recipe.h): parse errors with their exact one-line messages, override resolution,
// chaining a quantizer after a pruner (mask kept, pruned weights exactly 0, values on the grid), and on
// lm-s: a one-stage recipe is --method bit for bit; SparseGPT 50% → GPTQ 4-bit with a down_proj 8-bit
// override and a skip override.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include "calib/calib_set.h"
#include "compress/method_chain.h"
#include "compress/pipeline.h"
#include "compress/quant/quant_grid.h"
#include "compress/recipe.h"
#include "core/error.h"
#include "test_util.h"

namespace lmp {
namespace {

std::string parse_error(const std::string& text, const std::string& src = "r.json") {
  return test::error_of([&] { parse_recipe(text, src); });
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// ---- parsing ----

TEST(RecipeParse, ReadsStagesSequentialAndOverrides) {
  const Recipe r = parse_recipe(R"({
    // comments are allowed
    "description": "test",
    "stages": [{"method": "sparsegpt", "nm": "2:4", "damp": 0.02},
               {"method": "gptq", "bits": 3, "group": 64, "sym": true, "act_order": true}],
    "sequential": "linear",
    "overrides": [{"match": "down_proj", "set": {"bits": 8}},
                  {"match": "q_proj", "stage": 0, "set": {"sparsity": 0.6}},
                  {"match": "layers\\.1\\.", "stages": [{"method": "rtn", "bits": 2, "group": -1}]},
                  {"match": "layers\\.5\\.mlp", "skip": true}]})", "r.json");
  ASSERT_EQ(r.stages.size(), 2u);
  EXPECT_EQ(r.stages[0].method, "sparsegpt");
  EXPECT_EQ(r.stages[0].nm_n, 2);
  EXPECT_EQ(r.stages[0].nm_m, 4);
  EXPECT_EQ(r.stages[0].damp, 0.02);
  EXPECT_EQ(r.stages[1].bits, 3);
  EXPECT_EQ(r.stages[1].group, 64);
  EXPECT_TRUE(r.stages[1].sym);
  EXPECT_TRUE(r.stages[1].act_order);
  EXPECT_EQ(r.sequential, "linear");
  ASSERT_EQ(r.overrides.size(), 4u);
  // set: bits goes to the stage that takes it; the others are the base chain's
  EXPECT_EQ(r.overrides[0].stages[1].bits, 8);
  EXPECT_EQ(r.overrides[0].stages[1].group, 64);
  EXPECT_EQ(r.overrides[0].stages[0].nm_m, 4);
  // set with "stage": sparsity replaces the N:M pattern of stage 0
  EXPECT_EQ(r.overrides[1].stages[0].sparsity, 0.6);
  EXPECT_EQ(r.overrides[1].stages[0].nm_m, 0);
  EXPECT_EQ(r.overrides[1].stages[1].bits, 3);
  EXPECT_EQ(chain_name(r.overrides[2].stages), "rtn");
  EXPECT_TRUE(r.overrides[3].skip);
  EXPECT_EQ(r.overrides[2].origin, "overrides[2]");
}

TEST(RecipeParse, LastMatchingOverrideWins) {
  const Recipe r = parse_recipe(R"({"stages": [{"method": "rtn"}],
    "overrides": [{"match": "mlp", "set": {"bits": 3}},
                  {"match": "down_proj", "set": {"bits": 8}},
                  {"match": "layers\\.2\\.", "skip": true}]})", "r.json");
  EXPECT_EQ(stages_for(r, "model.layers.0.self_attn.q_proj.weight")->at(0).bits, 4);
  EXPECT_EQ(stages_for(r, "model.layers.0.mlp.up_proj.weight")->at(0).bits, 3);
  EXPECT_EQ(stages_for(r, "model.layers.0.mlp.down_proj.weight")->at(0).bits, 8);
  EXPECT_EQ(stages_for(r, "model.layers.2.mlp.down_proj.weight"), nullptr);
  EXPECT_EQ(match_override(r, "model.layers.1.mlp.down_proj.weight"), 1);
  EXPECT_EQ(match_override(r, "model.layers.1.self_attn.o_proj.weight"), -1);
}

TEST(RecipeParse, JsonRoundTrip) {
  const Recipe r = parse_recipe(R"({"stages": [{"method": "wanda", "sparsity": 0.5}, {"method": "nf4"}],
    "overrides": [{"match": "o_proj", "stages": [{"method": "gptq", "bits": 8}]}, {"match": "k_proj", "skip": true}]})",
                                "r.json");
  const nlohmann::json j = recipe_json(r);
  EXPECT_EQ(recipe_json(parse_recipe(j.dump(), "again.json")), j);
  EXPECT_EQ(j["stages"][0], nlohmann::json({{"method", "wanda"}, {"sparsity", 0.5}}));
}

TEST(RecipeParse, ErrorsNameTheFileThePathAndTheValue) {
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "sparsegpt", "sparsity": 0.5}, {"method": "gptq", "bits": 9}]})",
                        "recipe.json"),
            "recipe.json: stages[1].bits: 9 out of range 2-8");
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "rtn"}], "stage": 1})"),
            "r.json: stage: unknown key (expected description, stages, sequential, overrides)");
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "gtpq"}]})"),
            "r.json: stages[0].method: \"gtpq\" is not a method (known: aa-svd, entquant, gptq, magnitude, nf4, rtn, sparsegpt, svd, svd-llm, wanda)");
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "sparsegpt", "sparsity": 0.5, "bits": 4}]})"),
            "r.json: stages[0].bits: unknown field for sparsegpt (it takes: sparsity, nm, damp, block_size)");
  EXPECT_EQ(parse_error(R"({"stages": []})"), "r.json: stages: empty (expected at least one stage)");
  EXPECT_EQ(parse_error(R"({"sequential": "block"})"), "r.json: stages: missing (expected an array of stages)");
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "rtn", "bits": "4"}]})"),
            "r.json: stages[0].bits: \"4\" is not an integer");
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "rtn", "sym": 1}]})"),
            "r.json: stages[0].sym: 1 is not a boolean (true or false)");
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "wanda", "sparsity": 1.5}]})"),
            "r.json: stages[0].sparsity: 1.5 out of range (0, 1)");
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "wanda", "nm": "4:2"}]})"),
            "r.json: stages[0].nm: \"4:2\" is not N:M with 0 < N < M (e.g. \"2:4\")");
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "rtn", "group": 0}]})"),
            "r.json: stages[0].group: 0 out of range (expected -1 or >= 1)");
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "rtn"}], "sequential": "blocks"})"),
            "r.json: sequential: \"blocks\" is not \"linear\" or \"block\"");
  EXPECT_EQ(parse_error(R"([1, 2])"), "r.json: expected a JSON object with \"stages\", found array");
}

TEST(RecipeParse, BadJsonGivesLineAndColumn) {
  EXPECT_EQ(parse_error("{\"stages\": [\n  {\"method\": \"rtn\",}\n]}"),
            "r.json: invalid JSON: parse error at line 2, column 20: syntax error while parsing object key - "
            "unexpected '}'; expected string literal");
  EXPECT_TRUE(starts_with(parse_error(""), "r.json: invalid JSON: parse error at line 1, column 1:")) << parse_error("");
}

TEST(RecipeParse, OverrideErrors) {
  const std::string base = R"({"stages": [{"method": "sparsegpt", "sparsity": 0.5}, {"method": "gptq"}], "overrides": )";
  const std::string bad_regex = parse_error(base + R"([{"match": "mlp[", "skip": true}]})");
  EXPECT_TRUE(starts_with(bad_regex, "r.json: overrides[0].match: \"mlp[\" is not a valid ECMAScript regex (")) << bad_regex;
  EXPECT_EQ(parse_error(base + R"([{"match": "x", "set": {"bits": 16}}]})"),
            "r.json: overrides[0].set.bits: 16 out of range 2-8");
  EXPECT_EQ(parse_error(base + R"([{"match": "x", "set": {"double_quant": true}}]})"),
            "r.json: overrides[0].set.double_quant: no stage of sparsegpt+gptq takes double_quant");
  EXPECT_EQ(parse_error(base + R"([{"match": "x", "stage": 0, "set": {"bits": 8}}]})"),
            "r.json: overrides[0].set.bits: stage 0 (sparsegpt) does not take bits");
  EXPECT_EQ(parse_error(base + R"([{"match": "x", "stage": 2, "set": {"bits": 8}}]})"),
            "r.json: overrides[0].stage: 2 out of range 0-1");
  EXPECT_EQ(parse_error(base + R"([{"match": "x", "set": {"method": "rtn"}}]})"),
            "r.json: overrides[0].set.method: unknown field (fields: bits, group, sym, mse, act_order, static_groups, damp, "
            "block_size, sparsity, nm, double_quant, lambda, optimizer, scale_dtype, ratio, rank, factor_dtype; use \"stages\" to change methods)");
  EXPECT_EQ(parse_error(base + R"([{"match": "x", "skip": true, "set": {"bits": 8}}]})"),
            "r.json: overrides[0]: expected exactly one of \"set\", \"stages\" or \"skip\", found 2");
  EXPECT_EQ(parse_error(base + R"([{"match": "x", "skip": false}]})"),
            "r.json: overrides[0].skip: false (expected true; remove the override instead)");
  EXPECT_EQ(parse_error(base + R"([{"skip": true}]})"),
            "r.json: overrides[0]: missing \"match\" (an ECMAScript regex searched in tensor names)");
  EXPECT_EQ(parse_error(base + R"([{"match": "x", "skip": true, "regex": "y"}]})"),
            "r.json: overrides[0].regex: unknown key (expected match, set, stage, stages, skip)");
  EXPECT_EQ(parse_error(base + R"([{"match": "x", "stages": [{"method": "rtn", "bits": 1}]}]})"),
            "r.json: overrides[0].stages[0].bits: 1 out of range 2-8");
}

TEST(RecipeParse, ChainsAreBuiltWhenRead) {
  // method-level checks, prefixed with the stage's place
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "sparsegpt"}]})"),
            "r.json: stages[0]: sparsegpt: no sparsity set: expected a sparsity in (0, 1) or N:M with 0 < N < M");
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "nf4", "bits": 3}]})"),
            "r.json: stages[0]: nf4: --bits must be 4, found 3");
  // stage order: a pruner cannot follow a quantizer, a quantizer cannot follow a quantizer
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "gptq"}, {"method": "magnitude", "sparsity": 0.5}]})"),
            "r.json: stages[1].method: magnitude cannot follow gptq (gptq produces a quantized linear, which "
            "magnitude does not take)");
  EXPECT_EQ(parse_error(R"({"stages": [{"method": "rtn"}], "overrides": [{"match": "x", "stages": [{"method": "nf4"},
            {"method": "rtn"}]}]})"),
            "r.json: overrides[0].stages[1].method: rtn cannot follow nf4 (nf4 produces a codebook linear, which rtn "
            "does not take)");
}

TEST(RecipeParse, LoadNamesTheFile) {
  const std::string dir = test::temp_dir("recipe-load");
  EXPECT_EQ(test::error_of([&] { load_recipe(dir + "/none.json"); }),
            dir + "/none.json: cannot read the recipe: not a regular file");
  test::write_file(dir + "/r.json", R"({"stages": [{"method": "rtn", "bits": 12}]})");
  EXPECT_EQ(test::error_of([&] { load_recipe(dir + "/r.json"); }), dir + "/r.json: stages[0].bits: 12 out of range 2-8");
}

TEST(RecipeParse, ExamplesLoad) {
  for (const auto& e : std::filesystem::directory_iterator(std::string(LMP_SOURCE_DIR) + "/examples/recipes")) {
    SCOPED_TRACE(e.path().string());
    const Recipe r = load_recipe(e.path().string());
    EXPECT_FALSE(r.stages.empty());
  }
}

TEST(RecipeParse, MethodFormIsAOneStageRecipe) {
  MethodSpec s;
  s.method = "gptq";
  s.bits = 3;
  Recipe r = recipe_from_method(s);
  add_ignore(r, {"down_proj"});
  EXPECT_EQ(chain_name(r.stages), "gptq");
  EXPECT_EQ(recipe_sequential(r), "linear");
  EXPECT_EQ(stages_for(r, "model.layers.0.mlp.down_proj.weight"), nullptr);
  EXPECT_EQ(r.overrides[0].origin, "--ignore");
  EXPECT_EQ(test::error_of([&] { add_ignore(r, {"("}); }).rfind("compress: --ignore '(' is not a valid regular expression", 0),
            0u);
  s.bits = 9;
  EXPECT_EQ(test::error_of([&] { check_recipe(recipe_from_method(s)); }), "gptq: --bits must be in [2, 8], found 9");
}

// ---- chaining on synthetic weights ----

Tensor random_weight(int64_t out, int64_t in, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> n(0.0f, 0.05f);
  std::vector<float> v(size_t(out * in));
  for (float& x : v) x = n(gen);
  return Tensor::from_f32({out, in}, v);
}

LinearStats random_stats(int64_t in, int64_t rows, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  LinearStats s(in, kStatHessian | kStatColNorms);
  std::vector<float> x(size_t(rows * in));
  for (int64_t r = 0; r < rows; ++r) {
    double carry = 0;
    for (int64_t j = 0; j < in; ++j) {
      carry = 0.7 * carry + n(gen);
      x[size_t(r * in + j)] = float(carry * (1.0 + double(j % 5)));
    }
  }
  s.accumulate(x.data(), rows);
  return s;
}

MethodSpec spec(const std::string& method) {
  MethodSpec s;
  s.method = method;
  return s;
}

// Every pruned weight is exactly 0 with the code of its group's zero point, every value is its code's
// grid value, and the mask is the pruner's.
void expect_masked_grid(const CompressedLinear& c, const Tensor& mask) {
  ASSERT_EQ(c.kind, CompressedLinear::Kind::Quantized);
  ASSERT_TRUE(c.quant.has_value());
  ASSERT_FALSE(c.mask.empty());
  EXPECT_EQ(std::memcmp(c.mask.data(), mask.data(), size_t(mask.numel())), 0);
  const Tensor deq = dequantize_grid(*c.quant);
  EXPECT_EQ(std::memcmp(deq.data(), c.weight.data(), c.weight.nbytes()), 0) << "values off the grid";
  const auto* keep = static_cast<const uint8_t*>(c.mask.data());
  const auto* codes = static_cast<const uint8_t*>(c.quant->codes.data());
  const int64_t in = c.weight.dim(1);
  int64_t bad = 0;
  for (int64_t i = 0; i < c.weight.numel(); ++i) {
    if (keep[i]) continue;
    const QuantParams p = grid_params(*c.quant, i / in, c.quant->g_idx[size_t(i % in)]);
    bad += c.weight.f32()[i] != 0.0f || float(codes[i]) != p.zero;
  }
  EXPECT_EQ(bad, 0) << "pruned weights not held at 0";
}

TEST(RecipeChain, QuantizersAfterAPrunerKeepTheMask) {
  const Tensor w = random_weight(48, 256, 1);
  const LinearStats stats = random_stats(256, 512, 2);
  MethodSpec prune = spec("sparsegpt");
  prune.sparsity = 0.5;
  const CompressedLinear pruned = MethodChain({prune}, "").run("t", w, stats);
  ASSERT_EQ(pruned.sparsity(), 0.5);
  for (const std::string q : {"rtn", "gptq"})
    for (const bool sym : {false, true})
      for (const bool act_order : {false, true}) {
        SCOPED_TRACE(q + (sym ? " sym" : " asym") + (act_order ? " act-order" : ""));
        MethodSpec quant = spec(q);
        quant.sym = sym;
        quant.act_order = act_order && q == "gptq";
        quant.group = 64;
        const MethodChain chain({prune, quant}, "");
        EXPECT_EQ(chain.name(), "sparsegpt+" + q);
        EXPECT_EQ(chain.needs(), uint32_t(kStatHessian));
        const CompressedLinear c = chain.run("t", w, stats);
        expect_masked_grid(c, pruned.mask);
        EXPECT_EQ(c.sparsity(), 0.5);
        // both the grid and the mask are counted: 4 bits per kept weight + f16 scale and zero per group + 1
        const BitsPerWeight b = bits_per_weight(c);
        EXPECT_DOUBLE_EQ(b.codes, 2.0);
        EXPECT_DOUBLE_EQ(b.total, 2.0 + 32.0 * 4 / 256 + 1.0 + (g_idx_is_permuted(*c.quant) ? 32.0 / 48 : 0.0));
      }
}

// GPTQ after a pruner compensates the error of the re-zeroed weights: its output error on the
// calibration inputs is no worse than RTN's on the same mask.
TEST(RecipeChain, GptqAfterPrunerBeatsRtnAfterPruner) {
  const Tensor w = random_weight(64, 256, 3);
  const LinearStats stats = random_stats(256, 1024, 4);
  MethodSpec prune = spec("wanda");
  prune.sparsity = 0.5;
  MethodSpec q = spec("gptq");
  q.bits = 3;
  MethodSpec r = spec("rtn");
  r.bits = 3;
  const auto loss = [&](const Tensor& a) {
    const int64_t out = w.dim(0), in = w.dim(1);
    double l = 0;
    std::vector<double> d(static_cast<size_t>(in));
    for (int64_t o = 0; o < out; ++o) {
      for (int64_t j = 0; j < in; ++j) d[size_t(j)] = double(w.f32()[o * in + j]) - double(a.f32()[o * in + j]);
      for (int64_t i = 0; i < in; ++i)
        for (int64_t j = 0; j < in; ++j) l += d[size_t(i)] * stats.hessian[size_t(i * in + j)] * d[size_t(j)];
    }
    return l;
  };
  const CompressedLinear g = MethodChain({prune, q}, "").run("t", w, stats);
  const CompressedLinear n = MethodChain({prune, r}, "").run("t", w, stats);
  EXPECT_LT(loss(g.weight), loss(n.weight));
  EXPECT_EQ(std::memcmp(g.mask.data(), n.mask.data(), size_t(g.mask.numel())), 0);
}

TEST(RecipeChain, Nf4AfterPrunerKeepsZeros) {
  const Tensor w = random_weight(16, 256, 5);
  MethodSpec prune = spec("magnitude");
  prune.nm_n = 2;
  prune.nm_m = 4;
  const CompressedLinear c = MethodChain({prune, spec("nf4")}, "").run("t", w, LinearStats());
  ASSERT_EQ(c.kind, CompressedLinear::Kind::Codebook);
  ASSERT_FALSE(c.mask.empty());
  const auto* keep = static_cast<const uint8_t*>(c.mask.data());
  for (int64_t i = 0; i < c.weight.numel(); ++i) {
    if (keep[i]) continue;
    ASSERT_EQ(c.weight.f32()[i], 0.0f) << i;
  }
  EXPECT_DOUBLE_EQ(bits_per_weight(c).codes, 2.0);
  EXPECT_DOUBLE_EQ(bits_per_weight(c).total, 2.0 + 0.5 + 1.0);
}

// ---- lm-s, 16 calibration samples ----

struct LmS {
  Model model;
  CalibSet calib;
};

LmS open_lm_s() {
  LmS m{Model::open(test::shared_path("models/lm-s")), {}};
  m.calib = read_calib_set(test::shared_path("reference/calib_128x512.safetensors"), m.model.config().vocab_size);
  m.calib.n = 16;
  m.calib.input_ids.resize(size_t(m.calib.n * m.calib.seq));
  return m;
}

using Linears = std::map<std::string, CompressedLinear>;  // by canonical name

Linears run(LmS& m, const PipelineOptions& po, PipelineReport* report = nullptr) {
  Linears out;
  const PipelineReport r = compress_model(m.model, m.calib.input_ids, m.calib.n, m.calib.seq, po,
                                          [&](const CompressedBlock& b) {
                                            for (const auto& [leaf, cl] : b.linears)
                                              out[names::layer(b.index, leaf + ".weight")] = cl;
                                          });
  if (report) *report = r;
  return out;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.nbytes() == b.nbytes() && std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

TEST(RecipeLmS, OneStageRecipeIsMethodBitForBit) {
  LMP_REQUIRE_SHARED();
  PipelineOptions by_method;
  by_method.spec = spec("gptq");
  by_method.spec.act_order = true;
  PipelineOptions by_recipe;
  by_recipe.recipe = parse_recipe(R"({"stages": [{"method": "gptq", "bits": 4, "group": 128, "act_order": true}]})",
                                  "one.json");
  LmS a = open_lm_s(), b = open_lm_s();
  PipelineReport ra, rb;
  const Linears la = run(a, by_method, &ra), lb = run(b, by_recipe, &rb);
  ASSERT_EQ(la.size(), 42u);
  ASSERT_EQ(lb.size(), 42u);
  for (const auto& [name, cl] : la) {
    SCOPED_TRACE(name);
    const CompressedLinear& other = lb.at(name);
    EXPECT_TRUE(same_bytes(cl.weight, other.weight));
    EXPECT_TRUE(same_bytes(cl.quant->codes, other.quant->codes));
    EXPECT_TRUE(same_bytes(cl.quant->scales, other.quant->scales));
    EXPECT_EQ(cl.quant->g_idx, other.quant->g_idx);
  }
  EXPECT_EQ(ra.method, "gptq");
  EXPECT_EQ(rb.method, "gptq");
  EXPECT_EQ(ra.bpw_total, rb.bpw_total);
}

TEST(RecipeLmS, SparseGptThenGptqWithOverrides) {
  LMP_REQUIRE_SHARED();
  PipelineOptions po;
  po.recipe = parse_recipe(R"({
    "stages": [{"method": "sparsegpt", "sparsity": 0.5}, {"method": "gptq", "bits": 4, "group": 128}],
    "overrides": [{"match": "mlp\\.down_proj", "set": {"bits": 8}},
                  {"match": "layers\\.2\\.self_attn\\.o_proj", "skip": true}]})", "chain.json");
  LmS m = open_lm_s();
  PipelineReport report;
  const Linears got = run(m, po, &report);
  EXPECT_EQ(report.method, "sparsegpt+gptq");
  EXPECT_EQ(report.sequential, "block");
  EXPECT_EQ(report.linears, 41);
  EXPECT_EQ(report.ignored, 1);
  ASSERT_EQ(report.overrides.size(), 2u);
  EXPECT_EQ(report.overrides[0].linears, 6);
  EXPECT_EQ(report.overrides[0].chain, "sparsegpt+gptq");
  EXPECT_EQ(report.overrides[1].linears, 1);
  EXPECT_EQ(report.overrides[1].chain, "skip");
  EXPECT_NEAR(report.sparsity, 0.5, 1e-12);
  ASSERT_EQ(got.size(), 41u);
  for (const auto& [name, cl] : got) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(cl.quant.has_value());
    ASSERT_FALSE(cl.mask.empty());
    // exactly half pruned (SparseGPT: k = numel/2 of every block of 128 columns), held at 0, on the grid
    EXPECT_EQ(cl.sparsity(), 0.5);
    expect_masked_grid(cl, cl.mask);
    const bool down = name.find("down_proj") != std::string::npos;
    EXPECT_EQ(cl.quant->bits, down ? 8 : 4);
    EXPECT_EQ(cl.quant->group, 128);
    EXPECT_DOUBLE_EQ(bits_per_weight(cl).codes, (down ? 8 : 4) * 0.5);
  }
  // the skipped linear is the input, bit for bit
  EXPECT_EQ(got.count("model.layers.2.self_attn.o_proj.weight"), 0u);
  const Model original = Model::open(test::shared_path("models/lm-s"));
  EXPECT_TRUE(same_bytes(m.model.block(2).linear("self_attn.o_proj"), original.block(2).linear("self_attn.o_proj")));
  EXPECT_FALSE(same_bytes(m.model.block(2).linear("self_attn.q_proj"), original.block(2).linear("self_attn.q_proj")));

  // block 0 sees the same inputs with or without the quantization stage: SparseGPT alone picks the same masks
  PipelineOptions prune_only;
  prune_only.spec = spec("sparsegpt");
  prune_only.spec.sparsity = 0.5;
  LmS p = open_lm_s();
  const Linears pruned = run(p, prune_only);
  for (const std::string& leaf : names::block_linears()) {
    const std::string name = names::layer(0, leaf + ".weight");
    EXPECT_TRUE(same_bytes(got.at(name).mask, pruned.at(name).mask)) << name;
  }
}

}  // namespace
}  // namespace lmp
