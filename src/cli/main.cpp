// lmpress: post-training compression of large language models. `lmpress <verb> --help` for each verb.
#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "core/error.h"
#include "linalg/blas_env.h"
#include "linalg/gemm.h"

int main(int argc, char** argv) {
  lmp::ensure_runtime_env(argv);
  CLI::App app{"lmpress: post-training compression of LLMs (inspect, evaluate, generate, select)", "lmpress"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("lmpress " LMP_VERSION "\nBLAS: ") + lmp::blas_description());
  std::map<std::string, lmp::cli::Runner> runners;
  runners["eval"] = lmp::cli::add_eval_command(app);
  runners["inspect"] = lmp::cli::add_inspect_command(app);
  runners["generate"] = lmp::cli::add_generate_command(app);
  runners["compress"] = lmp::cli::add_compress_command(app);
  runners["select"] = lmp::cli::add_select_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const std::string verb = app.get_subcommands().front()->get_name();
  try {
    return runners.at(verb)();
  } catch (const lmp::Error& e) {
    std::fprintf(stderr, "lmpress %s: error: %s\n", verb.c_str(), e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "lmpress %s: error: out of memory\n", verb.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lmpress %s: internal error: %s\n", verb.c_str(), e.what());
    return 2;
  }
}
