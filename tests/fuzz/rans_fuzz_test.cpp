// Corrupted rANS streams must decode cleanly or fail with lmp::Error: never crash, never read or write
// out of bounds, never throw anything else; a stream that decodes gives back the original symbols (the
// chunk checksums). Built under ASan/UBSan.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "codec/rans.h"
#include "codec/rans_format.h"
#include "codec/rans_kernel.h"
#include "io/corruption.h"

namespace lmp {
namespace {

std::vector<uint8_t> skewed(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::geometric_distribution<int> g(0.35);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = uint8_t(std::min(g(rng), 127) | ((rng() & 1) << 7));
  return v;
}

// Decodes `bytes` with both entry points and every kernel; checks the symbols when it succeeds.
void decode_all(const std::string& bytes, const std::vector<uint8_t>& orig) {
  const std::span<const uint8_t> s(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  const RansStreamInfo info = rans_stream_info(s, "fuzz");
  if (info.symbols > (uint64_t(1) << 26)) return;  // a valid header of constant chunks may declare a lot
  const std::vector<uint8_t> out = rans_decode(s, "fuzz");
  EXPECT_EQ(out, orig) << "a corrupt stream decoded to other symbols";
  for (RansKernel k : {RansKernel::scalar, RansKernel::avx2, RansKernel::avx512}) {
    if (!rans_kernel_available(k)) continue;
    std::vector<uint8_t> o(info.symbols);
    rans_decode_with(k, s, o, "fuzz");
  }
}

TEST(FuzzRans, CorruptedStreamsFailCleanly) {
  struct Case {
    std::vector<uint8_t> data;
    RansOptions opts;
  };
  std::vector<Case> cases;
  RansOptions o;
  o.chunk_symbols = 1000;
  cases.push_back({skewed(3500, 1), o});  // four rANS chunks, the last partial
  o.precision_bits = 14;
  cases.push_back({skewed(2100, 2), o});
  std::vector<uint8_t> mixed(2600, 7);  // constant, stored and rANS chunks
  std::mt19937_64 rng(3);
  for (size_t i = 1000; i < 2000; ++i) mixed[i] = uint8_t(rng());
  for (size_t i = 2000; i < 2600; ++i) mixed[i] = uint8_t(rng() % 3);
  o.precision_bits = 0;
  cases.push_back({mixed, o});
  o.chunk_symbols = 64;
  cases.push_back({skewed(300, 4), o});

  test::Corruptor c(20240607);
  test::Outcomes out;
  const int iterations = test::fuzz_iterations(3000);
  for (int i = 0; i < iterations; ++i) {
    const Case& k = cases[size_t(i) % cases.size()];
    const std::vector<uint8_t> stream = rans_encode(k.data, k.opts);
    const std::string orig(stream.begin(), stream.end());
    // The hot prefix: the header, the first chunk's length, mode, checksum, precision and table.
    const std::string bytes = c.corrupt(orig, rans::kHeaderBytes + 64);
    out.run(i, [&] { decode_all(bytes, k.data); });
  }
  EXPECT_GT(out.errors, iterations * 9 / 10);
}

TEST(FuzzRans, RandomBodiesAfterAValidHeaderFailCleanly) {
  std::mt19937_64 rng(11);
  test::Outcomes out;
  const int iterations = test::fuzz_iterations(2000);
  for (int i = 0; i < iterations; ++i) {
    // A valid header for one chunk, then a chunk whose body is random but plausible.
    const size_t n = 1 + rng() % 3000;
    std::vector<uint8_t> s(rans::kHeaderBytes);
    std::copy(rans::kMagic, rans::kMagic + 4, s.begin());
    s[4] = rans::kVersion;
    s[5] = rans::kStates;
    rans::store_le64(&s[8], n);
    rans::store_le64(&s[16], 4096);
    rans::store_le64(&s[24], 1);
    std::vector<uint8_t> body(rng() % 400);
    for (auto& b : body) b = uint8_t(rng());
    if (body.size() > 6) {
      body[0] = uint8_t(rng() % 3);
      body[5] = uint8_t(8 + rng() % 8);
      body[6] = uint8_t(1 + rng() % 4);  // few runs, so the table parses now and then
    }
    s.resize(s.size() + 4);
    rans::store_le32(&s[rans::kHeaderBytes], uint32_t(body.size()));
    s.insert(s.end(), body.begin(), body.end());
    out.run(i, [&] {
      std::vector<uint8_t> o(n);
      rans_decode(s, o, "fuzz");
    });
  }
  EXPECT_GT(out.errors, iterations * 9 / 10);
}

}  // namespace
}  // namespace lmp
