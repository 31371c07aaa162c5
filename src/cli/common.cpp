#include "cli/commands.h"
#include "core/progress.h"
#include "linalg/gemm.h"

namespace lmp::cli {

void add_common_options(CLI::App& cmd, CommonOptions& opt) {
  cmd.add_option("--threads", opt.threads, "Threads for BLAS and parallel loops (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_flag("-q,--quiet", opt.quiet, "No progress output on stderr");
}

void apply_common_options(const CommonOptions& opt) {
  set_num_threads(opt.threads);
  Progress::set_enabled(!opt.quiet);
}

}  // namespace lmp::cli
