// The verbs of `lmpress`. Each registers its subcommand on the app and returns the function that runs it.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace lmp::cli {

using Runner = std::function<int()>;

// Options every verb takes.
struct CommonOptions {
  int threads = 0;     // 0 = all cores
  bool quiet = false;  // no progress on stderr
};

void add_common_options(CLI::App& cmd, CommonOptions& opt);
// Applies --threads / --quiet.
void apply_common_options(const CommonOptions& opt);

Runner add_eval_command(CLI::App& app);
Runner add_inspect_command(CLI::App& app);
Runner add_generate_command(CLI::App& app);
Runner add_compress_command(CLI::App& app);
Runner add_select_command(CLI::App& app);

}  // namespace lmp::cli
