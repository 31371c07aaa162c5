// lmpress compress MODEL -o OUT --method M --calib FILE: block-by-block compression, then export.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "calib/calib_set.h"
#include "cli/commands.h"
#include "compress/pipeline.h"
#include "compress/registry.h"
#include "core/error.h"
#include "core/memory.h"
#include "export/gguf_writer.h"
#include "export/gptq_writer.h"
#include "export/hf_writer.h"

namespace lmp::cli {

namespace {
struct CompressArgs {
  CommonOptions common;
  std::string model, out, calib, format = "hf", dtype, sequential, nm, tokenizer, gguf_type = "f16";
  std::vector<std::string> ignore;
  MethodSpec spec;
  int64_t batch_samples = 8;
  bool json = false, force = false;
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

// The export of one run: its writer behind a sink. Checks what can be checked before any work.
struct Export {
  std::unique_ptr<HfWriter> hf;
  std::unique_ptr<GptqWriter> gptq;
  std::unique_ptr<GgufWriter> gguf;
  void add_block(const CompressedBlock& b) { hf ? hf->add_block(b) : gptq ? gptq->add_block(b) : gguf->add_block(b); }
  void finish() { hf ? hf->finish() : gptq ? gptq->finish() : gguf->finish(); }
};

// Format-specific flags, before the model is opened: GPTQ packs f16 scales, so the quantizers round
// their scales to f16 first (unpacking then gives exactly the method's values); likewise for Q8_0/Q4_0
// GGUF blocks, whose d is an f16.
void check_format(CompressArgs& a) {
  LMP_CHECK(a.format == "hf" || a.format == "gptq" || a.format == "gguf", "compress: --format must be hf, gptq or gguf, found '",
            a.format, "'");
  const bool grid = a.spec.method == "rtn" || a.spec.method == "gptq";
  if (a.format == "gptq") {
    LMP_CHECK(grid, "compress: --format gptq needs --method rtn or gptq (", a.spec.method,
              " does not produce an integer grid)");
    LMP_CHECK(a.spec.bits == 2 || a.spec.bits == 4 || a.spec.bits == 8, "compress: --format gptq holds 2, 4 or 8 bits, found --bits ",
              a.spec.bits);
    LMP_CHECK(a.ignore.empty(), "compress: --ignore cannot be used with --format gptq (every linear is packed)");
    a.spec.scales_f16 = true;
  }
  if (a.format == "gguf") {
    const GgmlType t = parse_gguf_type(a.gguf_type);
    if (grid && (t == GgmlType::Q4_0 || t == GgmlType::Q8_0)) a.spec.scales_f16 = true;
  }
}

Export make_export(const CompressArgs& a, const Checkpoint& ck) {
  Export e;
  if (a.format == "gptq") e.gptq = std::make_unique<GptqWriter>(ck, a.out, a.spec, a.force);
  else if (a.format == "gguf") e.gguf = std::make_unique<GgufWriter>(ck, a.out, a.gguf_type, a.force);
  else e.hf = std::make_unique<HfWriter>(ck, a.out, a.dtype, a.force);
  return e;
}

int run_compress(CompressArgs& a) {
  apply_common_options(a.common);
  parse_nm(a.nm, a.spec);
  check_format(a);
  make_method(a.spec);  // validates the flags before any work
  OpenOptions oo;
  oo.tokenizer_path = a.tokenizer;
  Model model = Model::open(a.model, oo);
  const bool needs_calib = a.spec.method != "rtn" && a.spec.method != "nf4" && a.spec.method != "magnitude";
  LMP_CHECK(!a.calib.empty() || !needs_calib, "compress: --method ", a.spec.method,
            " needs calibration data: give --calib FILE (from `lmpress select`)");
  CalibSet calib;
  if (!a.calib.empty()) calib = read_calib_set(a.calib, model.config().vocab_size);
  else calib = CalibSet{1, 1, {model.config().bos_token_id >= 0 ? model.config().bos_token_id : 0}, {}, {}};
  Export writer = make_export(a, model.checkpoint());
  PipelineOptions po;
  po.spec = a.spec;
  po.sequential = a.sequential;
  po.ignore = a.ignore;
  po.batch_samples = a.batch_samples;
  const PipelineReport r = compress_model(model, calib.input_ids, calib.n, calib.seq, po,
                                          [&](const CompressedBlock& b) { writer.add_block(b); });
  writer.finish();
  if (a.json) {
    const nlohmann::json j = {{"method", r.method}, {"sequential", r.sequential}, {"bpw_codes", r.bpw_codes},
                              {"bpw_total", r.bpw_total}, {"sparsity", r.sparsity}, {"linears", r.linears},
                              {"ignored", r.ignored}, {"params", r.params}, {"seconds", r.seconds},
                              {"peak_rss_mb", peak_rss_mb()}, {"output", a.out}, {"format", a.format}};
    std::printf("%s\n", j.dump(1).c_str());
  } else {
    std::printf("compressed %lld linears (%lld params) with %s in %.1f s: %.3f bits/weight (codes), %.3f total, "
                "sparsity %.3f -> %s\n",
                (long long)r.linears, (long long)r.params, r.method.c_str(), r.seconds, r.bpw_codes, r.bpw_total,
                r.sparsity, a.out.c_str());
  }
  return 0;
}
}  // namespace

Runner add_compress_command(CLI::App& app) {
  auto a = std::make_shared<CompressArgs>();
  CLI::App* cmd = app.add_subcommand("compress", "Compress every linear of every block (quantize or prune), "
                                                 "block by block, and export the result");
  cmd->add_option("model", a->model, "Model: HF directory, .gguf, or llama2.c .bin")->required();
  cmd->add_option("-o,--output", a->out, "Output directory")->required();
  cmd->add_option("--method", a->spec.method, "rtn | nf4 | gptq | magnitude | wanda | sparsegpt")->required();
  cmd->add_option("--calib", a->calib, "Calibration set (safetensors input_ids [N, L], from `lmpress select`)");
  cmd->add_option("--format", a->format, "Export format: hf | gptq (packed int32, rtn/gptq only) | gguf (one .gguf file)")
      ->capture_default_str();
  cmd->add_option("--gguf-type", a->gguf_type, "gguf export: tensor type of the linears: f32 | f16 | q8_0 | q4_0")
      ->capture_default_str();
  cmd->add_option("--dtype", a->dtype, "hf export dtype: bf16 | f16 | f32 (default: the input's)");
  cmd->add_option("--bits", a->spec.bits, "Quantization bits (2-8)")->capture_default_str();
  cmd->add_option("--group", a->spec.group, "Columns per quantization group; -1 = one group per row")
      ->capture_default_str();
  cmd->add_flag("--sym", a->spec.sym, "Symmetric quantization grid (default: asymmetric min-max incl. 0)");
  cmd->add_flag("--act-order", a->spec.act_order, "GPTQ: quantize columns by decreasing Hessian diagonal");
  cmd->add_flag("--static-groups", a->spec.static_groups, "GPTQ: group grids fixed up front from the original weights");
  cmd->add_option("--damp", a->spec.damp, "GPTQ/SparseGPT: dampening, fraction of the mean Hessian diagonal")
      ->capture_default_str();
  cmd->add_option("--block-size", a->spec.block_size, "GPTQ/SparseGPT: lazy-update block")->capture_default_str();
  cmd->add_option("--sparsity", a->spec.sparsity, "Pruning: unstructured fraction of zeros in (0, 1)");
  cmd->add_option("--nm", a->nm, "Pruning: N:M structured sparsity, N of every M consecutive weights zeroed (2:4)");
  cmd->add_flag("--double-quant", a->spec.double_quant, "NF4: quantize the absmax scales too");
  cmd->add_option("--sequential", a->sequential,
                  "linear: sub-layer by sub-layer ({q,k,v} > o > {gate,up} > down); block: all linears from one "
                  "forward (default: linear for quantizers, block for pruners)");
  cmd->add_option("--ignore", a->ignore, "Skip linears whose canonical name matches this regex (repeatable)");
  cmd->add_option("--batch-samples", a->batch_samples, "Calibration samples per forward batch")->capture_default_str();
  cmd->add_option("--tokenizer", a->tokenizer, "llama2.c models: tokenizer .bin (default: tok*.bin beside)");
  cmd->add_flag("--force", a->force, "Replace the output directory if it exists");
  cmd->add_flag("--json", a->json, "Print a JSON report");
  add_common_options(*cmd, a->common);
  return [a] { return run_compress(*a); };
}

}  // namespace lmp::cli
