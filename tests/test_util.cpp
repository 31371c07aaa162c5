#include "test_util.h"

#include "core/error.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace lmp::test {

Tensor random_weight(int64_t out, int64_t in, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 0.02f);
  std::vector<float> v(size_t(out * in));
  for (float& x : v) x = n(rng);
  return Tensor::from_f32({out, in}, v);
}

bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool have_shared() { return fs::is_directory(fs::path(LMP_SHARED_DIR) / "models"); }

std::string shared_path(const std::string& rel) {
  if (!have_shared()) return "";
  return (fs::path(LMP_SHARED_DIR) / rel).string();
}

std::string temp_dir(const std::string& tag) {
  const auto base = fs::temp_directory_path() / ("lmp-test-" + std::to_string(getpid()));
  const auto dir = base / tag;
  fs::remove_all(dir);
  fs::create_directories(dir);
  static struct Cleanup {
    fs::path p;
    ~Cleanup() { std::error_code ec; fs::remove_all(p, ec); }
  } cleanup{base};
  return dir.string();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

CliResult run_cli(const std::string& args) {
  const std::string dir = temp_dir("cli-" + std::to_string(std::rand()));
  const std::string out = dir + "/out", err = dir + "/err";
  const std::string cmd = std::string(LMP_CLI_PATH) + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

}  // namespace lmp::test
