// lmpress compress MODEL -o OUT (--method M | --recipe FILE) --calib FILE: block-by-block compression,
// then export. `--method` and its flags are the one-stage recipe (compress/recipe.h).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>

#include "calib/calib_set.h"
#include "cli/commands.h"
#include "compress/pipeline.h"
#include "compress/recipe.h"
#include "compress/registry.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/progress.h"
#include "export/gguf_writer.h"
#include "export/gptq_writer.h"
#include "export/hf_writer.h"
#include "export/disk_size.h"
#include "export/lmp_rate.h"
#include "export/lmp_writer.h"
#include "compress/resume.h"
#include "compress/super_weights.h"
#include <cmath>
#include <filesystem>
#include "codec/rans_checksum.h"
#include "linalg/gemm.h"

namespace lmp::cli {

namespace {
struct CompressArgs {
  CommonOptions common;
  std::string model, out, calib, format = "hf", dtype, sequential, nm, tokenizer, gguf_type = "f16", recipe_file;
  std::string max_memory, scratch_dir;
  std::vector<std::string> ignore;
  MethodSpec spec;
  CLI::Option* method_opt = nullptr;
  std::vector<CLI::Option*> spec_opts;  // the flags that set `spec`: --method only
  int64_t batch_samples = 8;
  RefineOptions refine{0};  // epochs 0: no refinement
  double target_bpw = 0, super_threshold = 50;
  CLI::Option* target_opt = nullptr;
  bool json = false, force = false, include_head = false, no_resume = false;
};

void parse_nm(const std::string& s, MethodSpec& spec) {
  if (s.empty()) return;
  const auto colon = s.find(':');
  LMP_CHECK(colon != std::string::npos, "compress: --nm must look like N:M (e.g. 2:4), found '", s, "'");
  try {
    spec.nm_n = std::stoi(s.substr(0, colon));
    spec.nm_m = std::stoi(s.substr(colon + 1));
  } catch (const std::exception&) {
    fail("compress: --nm must look like N:M (e.g. 2:4), found '", s, "'");
  }
}

// --max-memory: MiB, or a size with a binary unit (900M, 12G, 1.5T); empty or 0: what the machine has.
double memory_budget_mb(const std::string& s) {
  if (s.empty()) return 0;
  size_t used = 0;
  double v = -1;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = s.substr(used);
  const double scale = unit.empty() || unit == "M" || unit == "MB" || unit == "MiB" ? 1
                       : unit == "G" || unit == "GB" || unit == "GiB"            ? 1024
                       : unit == "T" || unit == "TB" || unit == "TiB"            ? 1024 * 1024
                                                                                 : 0;
  LMP_CHECK(used > 0 && scale > 0 && std::isfinite(v) && v >= 0, "compress: --max-memory must be a size such as "
            "900M, 12G or 1.5T (a plain number is MiB), found '", s, "'");
  return v * scale;
}

// The export of one run: its writer behind a sink. Checks what can be checked before any work.
struct Export {
  std::unique_ptr<HfWriter> hf;
  std::unique_ptr<GptqWriter> gptq;
  std::unique_ptr<GgufWriter> gguf;
  std::unique_ptr<LmpWriter> lmp;
  void add_block(const CompressedBlock& b) {
    hf ? hf->add_block(b) : gptq ? gptq->add_block(b) : lmp ? lmp->add_block(b) : gguf->add_block(b);
  }
  void add_head(const CompressedLinear& h) {
    hf ? hf->add_head(h) : gptq ? gptq->add_head(h) : lmp ? lmp->add_head(h) : gguf->add_head(h);
  }
  void finish() { hf ? hf->finish() : gptq ? gptq->finish() : lmp ? lmp->finish() : gguf->finish(); }
};

// "act_order" <-> "--act-order": a recipe field and its method flag.
std::string flag_of_field(std::string field) {
  std::replace(field.begin(), field.end(), '_', '-');
  return "--" + field;
}

// A method flag the method does not read is an error, not silently ignored (e.g. --act-order with rtn).
void check_flags_apply(const CompressArgs& a) {
  if (!is_method(a.spec.method)) return;  // make_method names the unknown method
  const std::vector<std::string>& takes = method_fields(a.spec.method);
  std::vector<std::string> flags;
  std::string list;
  for (const std::string& f : takes) {
    flags.push_back(flag_of_field(f));
    list += (list.empty() ? "" : ", ") + flags.back();
  }
  for (const CLI::Option* o : a.spec_opts)
    LMP_CHECK(o->count() == 0 || std::find(flags.begin(), flags.end(), o->get_name()) != flags.end(), "compress: ",
              o->get_name(), " does not apply to --method ", a.spec.method, " (it takes: ", list, ")");
}

// The recipe of the run: --recipe FILE, or the one-stage recipe of --method and its flags; --sequential
// and --ignore apply to either.
Recipe make_recipe(CompressArgs& a) {
  const bool file = !a.recipe_file.empty(), method = a.method_opt->count() > 0;
  LMP_CHECK(!(file && method), "compress: --method and --recipe are exclusive: give the methods in the recipe "
            "file, or --method without --recipe");
  LMP_CHECK(file || method, "compress: give --method M (rtn, nf4, gptq, entquant, magnitude, wanda, sparsegpt, svd, svd-llm, "
            "aa-svd) or "
            "--recipe FILE (docs/compression.md, \"Recipes\")");
  for (const CLI::Option* o : a.spec_opts)
    LMP_CHECK(!file || o->count() == 0, "compress: ", o->get_name(), " sets a --method field and cannot be used "
              "with --recipe: set it in ", a.recipe_file);
  Recipe r;
  if (file) {
    r = load_recipe(a.recipe_file);
  } else {
    check_flags_apply(a);
    parse_nm(a.nm, a.spec);
    r = recipe_from_method(a.spec);
  }
  if (!a.sequential.empty()) r.sequential = a.sequential;
  add_ignore(r, a.ignore);
  return r;
}

bool is_grid_method(const std::string& m) { return m == "rtn" || m == "gptq"; }

// Format-specific checks and flags, before the model is opened: GPTQ packs f16 scales, so the quantizers
// round their scales to f16 first (unpacking then gives exactly the method's values); likewise for
// Q8_0/Q4_0 GGUF blocks, whose d is an f16 (Q4_K blocks are always re-quantized: nothing to keep exact).
void check_format(const CompressArgs& a, Recipe& r) {
  LMP_CHECK(a.format == "hf" || a.format == "gptq" || a.format == "gguf" || a.format == "lmp",
            "compress: --format must be hf, gptq, gguf or lmp, found '",
            a.format, "'");
  const MethodSpec& last = r.stages.back();
  if (a.format == "gptq") {
    if (r.source.empty()) {
      LMP_CHECK(is_grid_method(last.method), "compress: --format gptq needs --method rtn or gptq (", last.method,
                " does not produce an integer grid)");
      LMP_CHECK(last.bits == 2 || last.bits == 4 || last.bits == 8,
                "compress: --format gptq holds 2, 4 or 8 bits, found --bits ", last.bits);
    }
    LMP_CHECK(is_grid_method(last.method), "compress: --format gptq needs rtn or gptq as the last stage: ",
              r.source, ": stages: ", last.method, " (the last of ", chain_name(r.stages),
              ") does not produce an integer grid");
  }
  const bool f16_grids = a.format == "gptq" || (a.format == "gguf" && (parse_gguf_type(a.gguf_type) == GgmlType::Q4_0 ||
                                                                      parse_gguf_type(a.gguf_type) == GgmlType::Q8_0));
  if (f16_grids)
    for_each_stage(r, [](MethodSpec& s) { s.scales_f16 = s.scales_f16 || is_grid_method(s.method); });
}

// Where the chain of `name` comes from, for messages: "stages", "overrides[1]", "--ignore".
std::string chain_origin(const Recipe& r, const std::string& name) {
  const int i = match_override(r, name);
  return i < 0 ? (r.source.empty() ? std::string("--method") : r.source + ": stages")
               : (r.source.empty() ? "" : r.source + ": ") + r.overrides[size_t(i)].origin;
}

std::string grid_str(const MethodSpec& s) {
  return std::to_string(s.bits) + " bits, group " + std::to_string(s.group) + (s.sym ? ", sym" : ", asym");
}

// --format gptq, once the model's linears are known: every linear ends on a grid of one bits/group/sym.
// Returns the spec the writer describes in quantization_config (the first linear's last stage).
MethodSpec gptq_export_spec(const Recipe& r, const ModelConfig& c, bool head) {
  std::optional<MethodSpec> first;
  std::string first_name;
  std::vector<std::string> linears;
  for (int64_t b = 0; b < c.num_layers; ++b)
    for (const std::string& leaf : names::block_linears()) linears.push_back(names::layer(b, leaf + ".weight"));
  if (head) linears.push_back(names::lm_head());
  for (const std::string& name : linears) {
    const std::vector<MethodSpec>* st = stages_for(r, name);
    LMP_CHECK(st, "compress: --format gptq packs every linear, but ", name, " is skipped (", chain_origin(r, name), ")");
    const MethodSpec& last = st->back();
    LMP_CHECK(is_grid_method(last.method), "compress: --format gptq needs an integer grid for every linear: ", name,
              " ends with ", last.method, " (", chain_origin(r, name), ")");
    if (!first) {
      first = last;
      first_name = name;
      continue;
    }
    LMP_CHECK(last.bits == first->bits && last.group == first->group && last.sym == first->sym,
              "compress: --format gptq needs one bits/group/sym for every linear: ", name, " has ", grid_str(last),
              " (", chain_origin(r, name), "), ", first_name, " has ", grid_str(*first));
  }
  LMP_CHECK(first.has_value(), "compress: --format gptq: the model has no block linears");
  return *first;
}

Export make_export(const CompressArgs& a, const Checkpoint& ck, const Recipe& r) {
  Export e;
  const bool head = a.include_head && stages_for(r, names::lm_head()) != nullptr;  // else kept as it is
  if (a.format == "gptq") e.gptq = std::make_unique<GptqWriter>(ck, a.out, gptq_export_spec(r, ck.config(), head), a.force, head);
  else if (a.format == "gguf") e.gguf = std::make_unique<GgufWriter>(ck, a.out, a.gguf_type, a.force, head);
  else if (a.format == "lmp") {
    // Each record names the chain that produced its linear ("gptq", "aa-svd", "sparsegpt+gptq").
    const LmpWriter::MethodLabel label = [&r](const std::string& name) {
      const std::vector<MethodSpec>* s = stages_for(r, name);
      return s ? chain_name(*s) : std::string();
    };
    e.lmp = std::make_unique<LmpWriter>(ck, a.out, a.force, head, RansOptions{}, label);
  }
  else e.hf = std::make_unique<HfWriter>(ck, a.out, a.dtype, a.force, head);
  return e;
}

bool uses_entquant(const Recipe& recipe) {
  const auto has = [](const std::vector<MethodSpec>& stages) {
    return std::any_of(stages.begin(), stages.end(), [](const MethodSpec& s) { return s.method == "entquant"; });
  };
  return has(recipe.stages) || std::any_of(recipe.overrides.begin(), recipe.overrides.end(),
                                           [&](const RecipeOverride& o) { return has(o.stages); });
}

// EntQuant's fallback (compress/super_weights.h): down_proj layers with super weights get plain absmax.
std::vector<SuperWeightLayer> super_weight_fallback(const CompressArgs& a, const Model& model, Recipe& r) {
  LMP_CHECK(a.super_threshold >= 0, "compress: --super-weight-threshold must be >= 0 (inf = never), found ",
            a.super_threshold);
  if (!uses_entquant(r) || !std::isfinite(a.super_threshold)) return {};
  LMP_CHECK(model.has_tokenizer(), "compress: entquant detects super weights with a forward of \"",
            kSuperWeightPrompt, "\", but ", a.model, " has no tokenizer: give --tokenizer, or "
            "--super-weight-threshold inf to skip the detection");
  const std::vector<SuperWeightLayer> found =
      detect_super_weights(model, model.tokenizer().encode(kSuperWeightPrompt, true), a.super_threshold);
  std::vector<std::string> names;
  for (const SuperWeightLayer& l : found) names.push_back(l.linear);
  for_each_stage(r, [&](MethodSpec& s) {
    if (s.method == "entquant") s.absmax_linears = names;
  });
  return found;
}

std::optional<RateSearch> target_bpw_lambda(const CompressArgs& a, const Model& model, Recipe& r) {
  if (a.target_opt->count() == 0) return std::nullopt;
  LMP_CHECK(a.format == "lmp", "compress: --target-bpw measures the size of the lmp checkpoint: give --format lmp");
  LMP_CHECK(uses_entquant(r), "compress: --target-bpw tunes EntQuant's λ: it needs --method entquant");
  for (const CLI::Option* o : a.spec_opts)
    LMP_CHECK(o->get_name() != "--lambda" || o->count() == 0,
              "compress: --lambda and --target-bpw are exclusive (--target-bpw searches λ)");
  RateOptions ro;
  ro.target_bpw = a.target_bpw;
  ro.include_head = a.include_head && stages_for(r, names::lm_head()) != nullptr;
  RateSearch s = search_lambda(model, r, ro);
  set_entquant_lambda(r, s.lambda);
  return s;
}

// The export's size on disk: the compressed linears' tensors and the whole weight file(s).
DiskSize export_size(const CompressArgs& a, const Model& model, const Recipe& recipe, const PipelineReport& r) {
  std::set<std::string> linears;
  for (int64_t b = 0; b < model.config().num_layers; ++b)
    for (const std::string& leaf : names::block_linears())
      if (stages_for(recipe, names::layer(b, leaf + ".weight"))) linears.insert(names::layer(b, leaf + ".weight"));
  if (a.include_head && stages_for(recipe, names::lm_head())) linears.insert(names::lm_head());
  DiskSize d = measure_export(a.out, linears, uint64_t(r.params), uint64_t(model.weight_bytes_f32() / 4));
  return d;
}

// What EntQuant's extra steps decided: the super-weight layers and the λ search.
struct EntquantRun {
  std::vector<SuperWeightLayer> super_weights;
  std::optional<RateSearch> rate;
};

nlohmann::json entquant_json(const EntquantRun& e) {
  nlohmann::json sw = nlohmann::json::array(), trials = nlohmann::json::array();
  for (const SuperWeightLayer& l : e.super_weights)
    sw.push_back({{"linear", l.linear}, {"row", l.row}, {"col", l.col}, {"input_activation", l.input_activation},
                  {"output_activation", l.output_activation}});
  nlohmann::json j = {{"super_weight_layers", sw}};
  if (e.rate) {
    for (const RateTrial& t : e.rate->trials) trials.push_back({{"lambda", t.lambda}, {"bpw", t.bpw}});
    j["target_bpw"] = {{"lambda", e.rate->lambda}, {"bpw", e.rate->bpw}, {"trials", trials}};
  }
  return j;
}

// Bits per weight are bytes on disk where the writer measures them (lmp); the pipeline's counts of
// the representation are the separately named idealized fields.
nlohmann::json json_report(const CompressArgs& a, const Recipe& recipe, const PipelineReport& r, const Export& w,
                           const DiskSize& disk, const EntquantRun& e) {
  nlohmann::json stages = nlohmann::json::array(), overrides = nlohmann::json::array();
  for (const MethodSpec& s : recipe.stages) stages.push_back(stage_json(s));
  for (const OverrideReport& o : r.overrides)
    overrides.push_back({{"origin", o.origin}, {"match", o.match}, {"chain", o.chain}, {"linears", o.linears}});
  nlohmann::json j = {{"method", r.method}, {"stages", stages}, {"overrides", overrides},
          {"recipe", recipe.source.empty() ? nlohmann::json() : nlohmann::json(recipe.source)},
          {"sequential", r.sequential}, {"bpw_ideal_codes", r.bpw_codes}, {"bpw_ideal_total", r.bpw_total},
          {"sparsity", r.sparsity}, {"linears", r.linears}, {"ignored", r.ignored}, {"params", r.params},
          {"seconds", r.seconds}, {"peak_rss_mb", peak_rss_mb()}, {"memory_plan_mb", r.memory_plan_mb},
          {"spilled_mb", r.spilled_mb},
          {"resumed_blocks", r.resumed_blocks}, {"output", a.out}, {"format", a.format},
          {"threads", num_threads()}, {"blas", blas_description()}};
  j["bpw"] = disk.bpw_linears();  // bytes on disk × 8 / weights of the compressed linears
  j["bpw_file"] = disk.bpw_file();  // the whole weight file(s) × 8 / every parameter
  j["linear_bytes"] = disk.linear_bytes;
  j["file_bytes"] = disk.file_bytes;
  if (w.lmp) {  // the lmp writer also counts each linear's metadata record, and knows the ideal size
    j["bpw"] = w.lmp->sizes().bpw_linears();
    j["linear_bytes"] = w.lmp->sizes().linear_bytes;
    j["bpw_entropy"] = w.lmp->sizes().bpw_ideal();
  }
  if (uses_entquant(recipe)) j["entquant"] = entquant_json(e);
  if (!r.refine.empty()) {
    nlohmann::json blocks = nlohmann::json::array();
    for (const BlockRefineSummary& s : r.refine)
      blocks.push_back({{"block", s.block}, {"mse_before", s.mse_before}, {"mse_after", s.mse_after},
                        {"seconds", s.seconds}, {"steps", s.steps}});
    j["refine"] = {{"epochs", a.refine.epochs}, {"lr", a.refine.lr}, {"batch", a.refine.batch}, {"blocks", blocks}};
  }
  return j;
}

void print_human(const CompressArgs& a, const PipelineReport& r, const Export& w, const DiskSize& disk,
                 const EntquantRun& e) {
  for (const SuperWeightLayer& l : e.super_weights)
    std::printf("super weight in %s (row %lld, col %lld; spikes %.1f in, %.1f out): absmax FP8\n", l.linear.c_str(),
                (long long)l.row, (long long)l.col, l.input_activation, l.output_activation);
  if (e.rate)
    std::printf("--target-bpw: λ = %.4g gives %.4f bits/weight (%zu trials)\n", e.rate->lambda, e.rate->bpw,
                e.rate->trials.size());
  std::printf("compressed %lld linears (%lld params) with %s in %.1f s", (long long)r.linears, (long long)r.params,
              r.method.c_str(), r.seconds);
  std::printf(": %.3f bits/weight on disk (linears), %.3f whole file", w.lmp ? w.lmp->sizes().bpw_linears()
              : disk.bpw_linears(), disk.bpw_file());
  if (w.lmp) std::printf(", %.3f ideal entropy", w.lmp->sizes().bpw_ideal());
  std::printf(", sparsity %.3f -> %s\n", r.sparsity, a.out.c_str());
  for (const BlockRefineSummary& s : r.refine)
    std::printf("refined block %lld: MSE %.4g -> %.4g (%lld steps, %.1f s)\n", (long long)s.block, s.mse_before,
                s.mse_after, (long long)s.steps, s.seconds);
}

// What the writer holds for one block before it is on disk, for the memory plan: the block's linears in
// the output's representation (hf: the --dtype; gptq: packed codes; gguf / lmp: about a byte a weight,
// the lmp writer's rANS buffers included) and its norms.
double writer_block_bytes(const CompressArgs& a, const ModelConfig& c) {
  const double params = double(c.block_linear_params());
  if (a.format == "gptq") return params * (double(a.spec.bits) / 8 + 0.05);
  if (a.format == "hf") return params * (a.dtype == "f32" || a.dtype == "float32" ? 4 : 2);
  return params * 1.1;
}

// The model's files as they are on disk: name, size and modification time of each (a directory's
// regular files; a single-file model's file; the --tokenizer).
nlohmann::json files_fingerprint(const CompressArgs& a) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  if (fs::is_directory(a.model)) {
    for (const fs::directory_entry& e : fs::directory_iterator(a.model))
      if (e.is_regular_file()) files.push_back(e.path());
  } else {
    files.push_back(a.model);
  }
  if (!a.tokenizer.empty()) files.push_back(a.tokenizer);
  std::sort(files.begin(), files.end());
  nlohmann::json j = nlohmann::json::array();
  for (const fs::path& f : files)
    j.push_back({{"name", f.filename().string()}, {"bytes", fs::file_size(f)},
                 {"mtime", fs::last_write_time(f).time_since_epoch().count()}});
  return j;
}

// What decides the output of a run, for resume (compress/resume.h): the model's files, the calibration
// ids, the resolved recipe (super-weight layers and a searched λ included) and the export options.
nlohmann::json resume_fingerprint(const CompressArgs& a, const CalibSet& calib, const Recipe& recipe,
                                  const EntquantRun& eq) {
  nlohmann::json super = nlohmann::json::array();
  for (const SuperWeightLayer& l : eq.super_weights) super.push_back(l.linear);
  const auto* ids = reinterpret_cast<const uint8_t*>(calib.input_ids.data());
  return {{"lmpress", LMP_VERSION},
          {"model", files_fingerprint(a)},
          {"calib", {{"n", calib.n}, {"seq", calib.seq},
                     {"ids_xxh64", xxh64(ids, calib.input_ids.size() * sizeof(int32_t))}}},
          {"recipe", recipe_json(recipe)},
          {"super_weights", super},
          {"export", {{"format", a.format}, {"dtype", a.dtype}, {"gguf_type", a.gguf_type},
                      {"include_head", a.include_head}, {"batch_samples", a.batch_samples},
                      {"refine", {{"epochs", a.refine.epochs}, {"lr", a.refine.lr}, {"batch", a.refine.batch}}}}}};
}

// The resume state of the run, OUT.resume/ (nullptr with --no-resume, which discards a saved one).
std::unique_ptr<ResumeStore> make_resume(const CompressArgs& a, nlohmann::json fingerprint) {
  const std::string dir = a.out + ".resume";
  if (!a.no_resume) return std::make_unique<ResumeStore>(dir, std::move(fingerprint));
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    if (Progress::enabled()) std::fprintf(stderr, "compress: --no-resume: discarding %s\n", dir.c_str());
    std::filesystem::remove_all(dir, ec);
  }
  return nullptr;
}

int run_compress(CompressArgs& a) {
  apply_common_options(a.common);
  Recipe recipe = make_recipe(a);
  check_format(a, recipe);
  const uint32_t needs = check_recipe(recipe);  // builds every chain: errors before any work
  OpenOptions oo;
  oo.tokenizer_path = a.tokenizer;
  Model model = Model::open(a.model, oo);
  LMP_CHECK(!a.calib.empty() || needs == 0, "compress: ",
            recipe.source.empty() ? "--method " + chain_name(recipe.stages)
                                  : recipe.source + " (" + chain_name(recipe.stages) + ")",
            " needs calibration data: give --calib FILE (from `lmpress select`)");
  LMP_CHECK(a.refine.epochs >= 0, "compress: --refine-epochs must be >= 0, found ", a.refine.epochs);
  LMP_CHECK(a.refine.epochs == 0 || !a.calib.empty(), "compress: --refine-epochs needs calibration data: give "
            "--calib FILE (from `lmpress select`)");
  LMP_CHECK(a.refine.epochs == 0 || (std::isfinite(a.refine.lr) && a.refine.lr > 0), "compress: --refine-lr must be "
            "a finite number > 0, found ", a.refine.lr);
  LMP_CHECK(a.refine.epochs == 0 || a.refine.batch >= 1, "compress: --refine-batch must be >= 1, found ",
            a.refine.batch);
  LMP_CHECK(a.refine.epochs == 0 || a.format != "gguf", "compress: --refine-epochs changes the norms, which the gguf "
            "export does not write yet: use --format hf or lmp");
  const double budget_mb = memory_budget_mb(a.max_memory);
  LMP_CHECK(a.scratch_dir.empty() || std::filesystem::is_directory(a.scratch_dir), "compress: --scratch-dir '",
            a.scratch_dir, "' is not a directory");
  CalibSet calib;
  if (!a.calib.empty()) calib = read_calib_set(a.calib, model.config().vocab_size);
  else calib = CalibSet{1, 1, {model.config().bos_token_id >= 0 ? model.config().bos_token_id : 0}, {}, {}};
  EntquantRun eq;
  eq.super_weights = super_weight_fallback(a, model, recipe);
  eq.rate = target_bpw_lambda(a, model, recipe);
  Export writer = make_export(a, model.checkpoint(), recipe);
  PipelineOptions po;
  po.recipe = recipe;
  po.batch_samples = a.batch_samples;
  po.include_head = a.include_head;
  po.keep_compressed = false;  // the writer has each block; nothing after needs it
  po.sink_block_bytes = writer_block_bytes(a, model.config());
  po.max_memory_mb = budget_mb;
  po.spill_dir = !a.scratch_dir.empty() ? a.scratch_dir
                                        : std::filesystem::absolute(std::filesystem::path(a.out)).parent_path().string();
  if (a.refine.epochs > 0) po.refine = a.refine;
  const std::unique_ptr<ResumeStore> resume = make_resume(a, resume_fingerprint(a, calib, recipe, eq));
  po.resume = resume.get();
  const PipelineReport r = compress_model(model, calib.input_ids, calib.n, calib.seq, po,
                                          [&](const CompressedBlock& b) { writer.add_block(b); },
                                          [&](const CompressedLinear& h) { writer.add_head(h); });
  writer.finish();
  if (resume) resume->remove();  // the output is complete
  const DiskSize disk = export_size(a, model, recipe, r);
  if (a.json) {
    std::printf("%s\n", json_report(a, recipe, r, writer, disk, eq).dump(1).c_str());
  } else {
    print_human(a, r, writer, disk, eq);
  }
  return 0;
}
}  // namespace

Runner add_compress_command(CLI::App& app) {
  auto a = std::make_shared<CompressArgs>();
  CLI::App* cmd = app.add_subcommand("compress", "Compress every linear of every block (quantize, prune or "
                                                 "factorize), "
                                                 "block by block, and export the result");
  cmd->add_option("model", a->model, "Model: HF directory, .gguf, or llama2.c .bin")->required();
  cmd->add_option("-o,--output", a->out, "Output directory")->required();
  a->method_opt = cmd->add_option("--method", a->spec.method, "rtn | nf4 | gptq | entquant | magnitude | wanda | "
                                  "sparsegpt | svd | svd-llm | aa-svd (or --recipe)");
  cmd->add_option("--recipe", a->recipe_file, "JSON recipe: a chain of methods and per-layer overrides "
                  "(instead of --method and its flags; see below)");
  cmd->add_option("--calib", a->calib, "Calibration set (safetensors input_ids [N, L], from `lmpress select`)");
  cmd->add_option("--format", a->format, "Export format: hf | gptq (packed int32, rtn/gptq only) | gguf (one .gguf file) | lmp "
                  "(lmpress's entropy-coded checkpoint: EntQuant FP8 or rtn/gptq/nf4 codes, docs/lmp-format.md)")
      ->capture_default_str();
  cmd->add_option("--gguf-type", a->gguf_type, "gguf export: tensor type of the linears: f32 | f16 | q8_0 | q4_0 | q4_k "
                  "| q6_k | q4_k_m (llama.cpp's mix: Q4_K, Q6_K for some v_proj/down_proj); k-quants: Q8_0 for "
                  "linears whose input size is not a multiple of 256")
      ->capture_default_str();
  cmd->add_option("--dtype", a->dtype, "hf export dtype: bf16 | f16 | f32 (default: the input's)");
  a->spec_opts = {
      cmd->add_option("--bits", a->spec.bits, "Quantization bits (2-8)")->capture_default_str(),
      cmd->add_option("--group", a->spec.group, "Columns per quantization group; -1 = one group per row")
          ->capture_default_str(),
      cmd->add_flag("--sym", a->spec.sym, "Symmetric quantization grid (default: asymmetric min-max incl. 0)"),
      cmd->add_flag("--mse", a->spec.mse, "RTN/GPTQ: shrink each grid's range to the one of least sum |w - q|^2.4 "
                    "(GPTQ's Quantizer mse=True; default: plain min-max, as the reference)"),
      cmd->add_flag("--act-order", a->spec.act_order, "GPTQ: quantize columns by decreasing Hessian diagonal"),
      cmd->add_flag("--static-groups", a->spec.static_groups, "GPTQ: group grids fixed up front from the original weights"),
      cmd->add_option("--damp", a->spec.damp, "GPTQ/SparseGPT: dampening, fraction of the mean Hessian diagonal")
          ->capture_default_str(),
      cmd->add_option("--block-size", a->spec.block_size, "GPTQ/SparseGPT: lazy-update block")->capture_default_str(),
      cmd->add_option("--sparsity", a->spec.sparsity, "Pruning: unstructured fraction of zeros in (0, 1)"),
      cmd->add_option("--nm", a->nm, "Pruning: N:M structured sparsity, N of every M consecutive weights zeroed (2:4)"),
      cmd->add_flag("--double-quant", a->spec.double_quant, "NF4: quantize the absmax scales too"),
      cmd->add_option("--lambda", a->spec.lambda, "EntQuant: rate weight λ of |W - W^|/|W| + λ·4·mean|Q| (paper "
                      "presets 3.9 / 14.5 / 58 ≈ 4 / 3 / 2 bits per weight; 0 = absmax FP8)")->capture_default_str(),
      cmd->add_option("--optimizer", a->spec.optimizer, "EntQuant: lbfgs (the paper's L-BFGS through a "
                      "straight-through estimator) | row-search (exact per-row search of the true objective: lower "
                      "objective, higher perplexity on lm-s, docs/entquant.md)")
          ->capture_default_str(),
      cmd->add_option("--ratio", a->spec.ratio, "svd/svd-llm/aa-svd: fraction of each linear's parameters the two "
                      "factors keep, rank k = floor(ratio*out*in/(out+in)); 1 = full rank")->capture_default_str(),
      cmd->add_option("--rank", a->spec.rank, "svd/svd-llm/aa-svd: this rank for every linear (instead of --ratio)"),
      cmd->add_option("--factor-dtype", a->spec.factor_dtype, "svd/svd-llm/aa-svd: f32 | bf16 (factors rounded to "
                      "bf16: half the bytes on disk, the product computed from the rounded factors)")
          ->capture_default_str(),
      cmd->add_option("--scale-dtype", a->spec.scale_dtype, "EntQuant: bf16 (each row's scale rounded to bf16 "
                      "before its codes are chosen: 16 bits per row on disk) | f32")
          ->capture_default_str(),
  };
  a->target_opt = cmd->add_option("--target-bpw", a->target_bpw, "EntQuant, --format lmp: search λ until the "
                                  "compressed linears measure B ± 0.02 bits per weight on disk");
  cmd->add_option("--super-weight-threshold", a->super_threshold, "EntQuant: down_proj layers whose input and output "
                  "activation spikes on a fixed prompt both exceed this use absmax FP8 (inf = never)")
      ->capture_default_str();
  cmd->add_option("--sequential", a->sequential,
                  "linear: sub-layer by sub-layer ({q,k,v} > o > {gate,up} > down); block: all linears from one "
                  "forward (default: block when the first stage prunes, else linear; replaces a recipe's)");
  cmd->add_option("--ignore", a->ignore, "Skip linears whose canonical name matches this regex (repeatable; with --recipe, added "
                  "after its overrides)");
  cmd->add_option("--batch-samples", a->batch_samples, "Calibration samples per forward batch")->capture_default_str();
  cmd->add_option("--max-memory", a->max_memory, "Memory budget, e.g. 12G (a plain number is MiB; default: what the "
                  "machine has available). Over it, sub-layer outputs are recomputed, then the calibration "
                  "activations spill to a scratch file (same output)");
  cmd->add_option("--scratch-dir", a->scratch_dir, "Where spilled activations go (an unlinked file; default: the "
                  "output's parent directory)");
  cmd->add_option("--refine-epochs", a->refine.epochs, "Block refinement (AA-SVD): after each block's linears, train "
                  "its factors and norms for E passes over the calibration set so that the block reproduces the "
                  "original block's outputs (reference: 25; 0 = off)")
      ->capture_default_str();
  cmd->add_option("--refine-lr", a->refine.lr, "Block refinement: AdamW learning rate (warm-up 10%, cosine to 0.1x)")
      ->capture_default_str();
  cmd->add_option("--refine-batch", a->refine.batch, "Block refinement: calibration sequences per optimizer step")
      ->capture_default_str();
  cmd->add_option("--tokenizer", a->tokenizer, "llama2.c models: tokenizer .bin (default: tok*.bin beside)");
  cmd->add_flag("--include-head", a->include_head, "Compress lm_head too (after the last block, from the final norm's "
                "output; overrides match lm_head.weight); a head tied to the embeddings is untied in the export");
  cmd->add_flag("--force", a->force, "Replace the output directory if it exists");
  cmd->add_flag("--no-resume", a->no_resume, "Start from block 0 and save no resume state (default: each finished "
                "block is saved in OUT.resume/, and a rerun of the same command after an interruption continues "
                "from the last finished block; a different model, calibration set, recipe or export is refused)");
  cmd->add_flag("--json", a->json, "Print a JSON report");
  add_common_options(*cmd, a->common);
  cmd->footer(
      "Recipes (--recipe FILE): a JSON object\n"
      "  {\"stages\": [{\"method\": \"sparsegpt\", \"sparsity\": 0.5}, {\"method\": \"gptq\", \"bits\": 4}],\n"
      "   \"sequential\": \"block\",\n"
      "   \"overrides\": [{\"match\": \"mlp\\\\.down_proj\", \"set\": {\"bits\": 8}},\n"
      "                 {\"match\": \"layers\\\\.0\\\\.\", \"skip\": true}]}\n"
      "Each stage compresses what the one before produced (a quantizer after a pruner keeps the zeros).\n"
      "An override's `match` is a regex searched in names like model.layers.3.mlp.down_proj.weight; it either\n"
      "sets fields (\"set\"), replaces the chain (\"stages\") or keeps the linear (\"skip\"); the last\n"
      "override that matches a linear decides. Fields, rules and examples: docs/compression.md (\"Recipes\")\n"
      "and examples/recipes/.");
  return [a] { return run_compress(*a); };
}

}  // namespace lmp::cli
