#include "cli/commands.h"

#include <cstdio>
#include <string>

#include "core/memory.h"
#include "core/progress.h"
#include "linalg/gemm.h"
#include "model/model.h"

namespace lmp::cli {

namespace {
// A check that `s` is a number and that `ok` holds for it; `bound` is the words after "must be".
CLI::Validator number_check(const std::string& bound, const std::string& name, bool (*ok)(double)) {
  return CLI::Validator(
      [bound, ok](std::string& s) -> std::string {
        size_t used = 0;
        double v = 0;
        try {
          v = std::stod(s, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != s.size()) return "must be a number " + bound + ", found '" + s + "'";
        return ok(v) ? std::string() : "must be " + bound + ", found " + s;
      },
      name);
}
}  // namespace

CLI::Validator non_negative() {
  return number_check(">= 0", "NONNEGATIVE", [](double v) { return v >= 0; });
}
CLI::Validator positive() {
  return number_check("> 0", "POSITIVE", [](double v) { return v > 0; });
}

void add_common_options(CLI::App& cmd, CommonOptions& opt) {
  cmd.add_option("--threads", opt.threads, "Threads for BLAS and parallel loops (default: all cores)")
      ->check(non_negative());
  cmd.add_flag("-q,--quiet", opt.quiet, "No progress output on stderr");
}

void apply_common_options(const CommonOptions& opt) {
  set_num_threads(opt.threads);
  Progress::set_enabled(!opt.quiet);
}

void add_stream_decode_flag(CLI::App& cmd, bool& flag) {
  cmd.add_flag("--stream-decode", flag,
               "Convert (decode) each block's weights just before it runs and drop them after: one block in f32 "
               "at a time, the stored weights (bf16 pages, GPTQ codes, lmp entropy-coded streams) the rest; "
               "slower, far less memory. On by itself when the f32 weights exceed half the available memory");
}

bool apply_stream_decode(Model& model, bool flag) {
  const double f32_mb = double(model.weight_bytes_f32()) / (1024.0 * 1024.0), free_mb = available_memory_mb();
  const bool too_big = free_mb > 0 && f32_mb > 0.5 * free_mb;
  if (!flag && too_big && Progress::enabled())
    std::fprintf(stderr, "%s: %.0f MB of f32 weights, %.0f MB available: streaming blocks (--stream-decode)\n",
                 model.checkpoint().path().c_str(), f32_mb, free_mb);
  model.set_stream_blocks(flag || too_big);
  return model.stream_blocks();
}

}  // namespace lmp::cli
