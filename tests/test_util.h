// Helpers shared by the tests: locating ../shared (a failure under CI=true, a skip elsewhere), temp dirs,
// running the CLI.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>

#include "core/tensor.h"

namespace lmp::test {

// An F32 [out, in] tensor of N(0, 0.02²) values from mt19937(seed).
Tensor random_weight(int64_t out, int64_t in, uint32_t seed);
// Same dtype, shape and bytes.
bool bit_identical(const Tensor& a, const Tensor& b);

// The message of the lmp::Error `f` throws, or "(no error)".
std::string error_of(const std::function<void()>& f);

// Absolute path of a file under the shared/ folder ("models/lm-s"). Returns "" when shared/ is absent.
std::string shared_path(const std::string& rel);
// True when shared/ exists. Under CI=true a missing shared/ is a test failure, not a skip.
bool have_shared();
// A fresh empty directory under the build's temp area, removed at exit.
std::string temp_dir(const std::string& tag);
// Runs the lmpress CLI with `args`; returns exit code, captures stdout and stderr.
struct CliResult { int code; std::string out, err; };
CliResult run_cli(const std::string& args);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);

}  // namespace lmp::test

// Skips (or, under CI=true, fails) a test that needs ../shared.
#define LMP_REQUIRE_SHARED()                                                        \
  do {                                                                              \
    if (!::lmp::test::have_shared()) {                                              \
      if (std::getenv("CI") && std::string(std::getenv("CI")) == "true")            \
        FAIL() << "CI=true but shared/ is missing at " LMP_SHARED_DIR;              \
      GTEST_SKIP() << "shared/ not found at " LMP_SHARED_DIR;                       \
    }                                                                               \
  } while (0)
