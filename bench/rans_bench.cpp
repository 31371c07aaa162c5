// rANS codec speed and size, single core, against htscodecs' rANS 4x16 and 32x16 (order 0), on the
// same symbols in the same run: FP8 E4M3 codes of Gaussian weights (per-row absmax) at scales giving
// ~2, ~3, ~4 and ~6.5 bits/symbol, FP8 codes of the linear weights of shared/models/lm-m, and uniform
// random bytes. Best of 5; MB/s counts uncompressed bytes (10^6). Prints a markdown table.
//   rans_bench [MiB per data set = 64] [runs = 5] [file of raw FP8 codes to use instead of lm-m's]
//   rans_bench --dump-model-codes FILE   (writes lm-m's codes, for machines without shared/)
#include <htscodecs/rANS_static4x16.h>
#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec/rans.h"
#include "core/fp8.h"
#include "codec/rans_format.h"
#include "codec/rans_kernel.h"

namespace {

using Bytes = std::vector<uint8_t>;

// Rows of `cols` weights, each scaled so that its absmax maps to 448 * k, then E4M3 codes.
void fp8_rows(const float* w, size_t rows, size_t cols, float k, Bytes& out) {
  for (size_t r = 0; r < rows; ++r) {
    const float* row = w + r * cols;
    float amax = 0;
    for (size_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(row[c]));
    const float s = amax > 0 ? 448.f * k / amax : 0.f;
    for (size_t c = 0; c < cols; ++c) out.push_back(lmp::fp8_e4m3_encode(row[c] * s));
  }
}

Bytes fp8_gaussian(size_t n, float k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  const size_t cols = 4096;
  std::vector<float> w(cols);
  Bytes out;
  out.reserve(n + cols);
  while (out.size() < n) {
    for (auto& v : w) v = g(rng);
    fp8_rows(w.data(), 1, cols, k, out);
  }
  out.resize(n);
  return out;
}

double bits_per_symbol(const Bytes& d) { return lmp::chunked_entropy_bits(d) / double(d.size()); }

// The scale k whose codes have about `target` bits/symbol (bisection on log k over a 1 MiB sample).
float scale_for_entropy(double target) {
  double lo = std::log(1e-7), hi = 0;
  for (int it = 0; it < 40; ++it) {
    const double mid = (lo + hi) / 2;
    (bits_per_symbol(fp8_gaussian(1 << 20, float(std::exp(mid)), 1)) < target ? lo : hi) = mid;
  }
  return float(std::exp(hi));
}

float bf16_to_f32(uint16_t b) {
  const uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// FP8 codes (per-row absmax) of every 2-D BF16 "model.layers.*weight" tensor in a safetensors directory.
Bytes fp8_model(const std::string& dir) {
  Bytes out;
  if (!std::filesystem::is_directory(dir)) return out;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream f(path, std::ios::binary);
    uint64_t hlen = 0;
    f.read(reinterpret_cast<char*>(&hlen), 8);
    std::string header(hlen, '\0');
    f.read(header.data(), long(hlen));
    const auto j = nlohmann::json::parse(header);
    for (const auto& [name, t] : j.items()) {
      if (name == "__metadata__" || t["dtype"] != "BF16" || t["shape"].size() != 2) continue;
      if (name.rfind("model.layers.", 0) != 0 || name.find("weight") == std::string::npos) continue;
      const size_t rows = t["shape"][0], cols = t["shape"][1];
      const uint64_t begin = t["data_offsets"][0];
      std::vector<uint16_t> raw(rows * cols);
      f.seekg(long(8 + hlen + begin));
      f.read(reinterpret_cast<char*>(raw.data()), long(raw.size() * 2));
      std::vector<float> w(raw.size());
      for (size_t i = 0; i < raw.size(); ++i) w[i] = bf16_to_f32(raw[i]);
      fp8_rows(w.data(), rows, cols, 1.f, out);
    }
  }
  return out;
}

double best_seconds(int runs, const std::function<void()>& fn) {
  double best = 1e30;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

struct Result {
  std::string codec;
  size_t bytes;
  double enc_mbs, dec_mbs;
};

// htscodecs order-0 on blocks of `block` symbols (0: the whole buffer in one call).
Result bench_hts(const Bytes& d, int order, size_t block, int runs, const std::string& name) {
  const size_t step = block ? block : d.size();
  std::vector<std::pair<unsigned char*, unsigned>> blocks;
  auto encode = [&] {
    for (auto& b : blocks) free(b.first);
    blocks.clear();
    for (size_t at = 0; at < d.size(); at += step) {
      unsigned out_size = 0;
      const unsigned n = unsigned(std::min(step, d.size() - at));
      unsigned char* c = rans_compress_4x16(const_cast<unsigned char*>(d.data() + at), n, &out_size, order);
      if (!c) std::fprintf(stderr, "rans_compress_4x16 failed\n"), std::exit(1);
      blocks.push_back({c, out_size});
    }
  };
  const double te = best_seconds(runs, encode);
  Bytes out(d.size());
  auto decode = [&] {
    size_t at = 0;
    for (auto& b : blocks) {
      unsigned out_size = unsigned(std::min(step, d.size() - at));
      if (!rans_uncompress_to_4x16(b.first, b.second, out.data() + at, &out_size))
        std::fprintf(stderr, "rans_uncompress_to_4x16 failed\n"), std::exit(1);
      at += out_size;
    }
  };
  const double td = best_seconds(runs, decode);
  if (out != d) std::fprintf(stderr, "%s: round trip mismatch\n", name.c_str()), std::exit(1);
  size_t bytes = 0;
  for (auto& b : blocks) bytes += b.second, free(b.first);
  return {name, bytes, double(d.size()) / te / 1e6, double(d.size()) / td / 1e6};
}

// Which precisions a stream's rANS chunks use ("p=12", "p=12/14"), and whether some are stored.
std::string precisions_of(const std::vector<uint8_t>& s) {
  bool used[16] = {}, stored = false;
  for (size_t at = lmp::rans::kHeaderBytes; at < s.size();) {
    const size_t bytes = lmp::rans::load_le32(&s[at]);
    if (s[at + 4] == lmp::rans::kModeRans) used[s[at + 4 + lmp::rans::kBodyFixedBytes] & 15] = true;
    if (s[at + 4] == lmp::rans::kModeStored) stored = true;
    at += 4 + bytes;
  }
  std::string r;
  for (int p = 0; p < 16; ++p)
    if (used[p]) r += (r.empty() ? "p=" : "/") + std::to_string(p);
  if (stored) r += r.empty() ? "stored" : ", some stored";
  return r;
}

Result bench_ours(const Bytes& d, lmp::RansKernel k, int precision, int runs, const std::string& name) {
  lmp::RansOptions o;
  o.precision_bits = precision;
  std::vector<uint8_t> stream;
  const double te = best_seconds(runs, [&] { stream = lmp::rans_encode(d, o); });
  Bytes out(d.size());
  const double td = best_seconds(runs, [&] { lmp::rans_decode_with(k, stream, out, "bench"); });
  if (out != d) std::fprintf(stderr, "%s: round trip mismatch\n", name.c_str()), std::exit(1);
  return {name + " (" + precisions_of(stream) + ")", stream.size(), double(d.size()) / te / 1e6,
          double(d.size()) / td / 1e6};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--dump-model-codes") {
    const Bytes codes = fp8_model(std::string(LMP_SHARED_DIR) + "/models/lm-m");
    std::ofstream(argv[2], std::ios::binary).write(reinterpret_cast<const char*>(codes.data()), long(codes.size()));
    return codes.empty();
  }
  const size_t mib = argc > 1 ? size_t(std::atoi(argv[1])) : 64;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  const size_t n = mib << 20;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  sched_setaffinity(0, sizeof one, &one);  // one pinned core
  omp_set_num_threads(1);

  struct DataSet {
    std::string name;
    Bytes d;
  };
  std::vector<DataSet> sets;
  for (double target : {2.0, 3.0, 4.0}) {
    const float k = scale_for_entropy(target);
    char name[96];
    std::snprintf(name, sizeof name, "fp8 gaussian, absmax x %.2g", double(k));
    sets.push_back({name, fp8_gaussian(n, k, 7)});
  }
  sets.push_back({"fp8 gaussian, absmax x 1", fp8_gaussian(n, 1.f, 7)});
  Bytes real;
  if (argc > 3) {
    std::ifstream f(argv[3], std::ios::binary);
    real.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  } else {
    real = fp8_model(std::string(LMP_SHARED_DIR) + "/models/lm-m");
  }
  if (!real.empty()) sets.push_back({"fp8 lm-m linear weights", std::move(real)});
  {
    std::mt19937_64 rng(3);
    Bytes u(n);
    for (auto& b : u) b = uint8_t(rng());
    sets.push_back({"uniform random bytes", std::move(u)});
  }

  const bool avx2 = __builtin_cpu_supports("avx2"), avx512 = __builtin_cpu_supports("avx512f");
  std::printf("single core (pinned to CPU 0, 1 OpenMP thread), best of %d runs; CPU has AVX2 %s, AVX-512F %s: "
              "htscodecs' 32x16 (RANS_ORDER_X32) picks %s; lmpress picks its %s kernel; 256 KiB chunks\n\n",
              runs, avx2 ? "yes" : "no", avx512 ? "yes" : "no", avx512 ? "AVX-512" : avx2 ? "AVX2" : "SSE4/scalar",
              lmp::rans_kernel_name(lmp::rans_resolve_kernel(lmp::RansKernel::automatic)));
  std::printf("| data | MiB | entropy bits/sym | codec | size / entropy | encode MB/s | decode MB/s |\n");
  std::printf("|---|---:|---:|---|---:|---:|---:|\n");
  for (const auto& s : sets) {
    const double ent_bytes = lmp::chunked_entropy_bits(s.d) / 8;
    std::vector<Result> rs;
    const lmp::RansKernel best = lmp::rans_resolve_kernel(lmp::RansKernel::automatic);
    for (lmp::RansKernel k : {best, lmp::RansKernel::avx512, lmp::RansKernel::avx2, lmp::RansKernel::scalar}) {
      if (!lmp::rans_kernel_available(k) || (k == best && !rs.empty())) continue;
      const std::string name = std::string("lmpress 32x16 ") + lmp::rans_kernel_name(k);
      rs.push_back(bench_ours(s.d, k, 0, runs, name + ", default"));
      rs.push_back(bench_ours(s.d, k, 14, runs, name));
    }
    rs.push_back(bench_hts(s.d, 0, 256 << 10, runs, "htscodecs 4x16, 256 KiB blocks"));
    rs.push_back(bench_hts(s.d, RANS_ORDER_X32, 256 << 10, runs, "htscodecs 32x16, 256 KiB blocks"));
    rs.push_back(bench_hts(s.d, RANS_ORDER_X32 | RANS_ORDER_SIMD_AUTO, 256 << 10, runs,
                           "htscodecs 32x16 SIMD_AUTO, 256 KiB blocks"));
    rs.push_back(bench_hts(s.d, 0, 0, runs, "htscodecs 4x16, one block"));
    rs.push_back(bench_hts(s.d, RANS_ORDER_X32, 0, runs, "htscodecs 32x16, one block"));
    for (const auto& r : rs)
      std::printf("| %s | %.1f | %.3f | %s | %.4f | %.0f | %.0f |\n", s.name.c_str(), double(s.d.size()) / (1 << 20),
                  8 * ent_bytes / double(s.d.size()), r.codec.c_str(), double(r.bytes) / ent_bytes, r.enc_mbs,
                  r.dec_mbs);
    std::fflush(stdout);
  }
  return 0;
}
