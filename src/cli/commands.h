// The verbs of `lmpress`. Each registers its subcommand on the app and returns the function that runs it.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace lmp {
class Model;
}

namespace lmp::cli {

using Runner = std::function<int()>;

// Options every verb takes.
struct CommonOptions {
  int threads = 0;     // 0 = all cores
  bool quiet = false;  // no progress on stderr
};

void add_common_options(CLI::App& cmd, CommonOptions& opt);

// Option checks whose errors name the bound and the value ("--threads: must be >= 0, found -1"), where
// CLI::NonNegativeNumber / PositiveNumber print the largest double as the upper bound.
CLI::Validator non_negative();
CLI::Validator positive();
// Applies --threads / --quiet.
void apply_common_options(const CommonOptions& opt);

// --stream-decode for eval / generate.
void add_stream_decode_flag(CLI::App& cmd, bool& flag);
// Sets the model's block streaming: on with --stream-decode, and on by itself when the model's f32
// weights exceed half the memory the machine has available (said on stderr unless --quiet), so a model
// larger than RAM in f32 runs one block at a time. Returns whether it is on.
bool apply_stream_decode(Model& model, bool flag);

Runner add_eval_command(CLI::App& app);
Runner add_inspect_command(CLI::App& app);
Runner add_generate_command(CLI::App& app);
Runner add_compress_command(CLI::App& app);
Runner add_select_command(CLI::App& app);

}  // namespace lmp::cli
