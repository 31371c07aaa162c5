// rANS codec: exact round trips (uniform, skewed, degenerate, chunk boundaries, randomized), coded size
// against the chunked empirical entropy, corruption (every fault an lmp::Error naming the chunk), and
// kernel / thread invariance of the bytes.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "codec/rans.h"
#include "core/fp8.h"
#include "codec/rans_checksum.h"
#include "codec/rans_format.h"
#include "codec/rans_kernel.h"
#include "codec/rans_table.h"
#include "core/error.h"

namespace lmp {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr RansKernel kAllKernels[] = {RansKernel::scalar, RansKernel::avx2, RansKernel::avx512};

Bytes uniform_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes v(n);
  for (auto& b : v) b = uint8_t(rng());
  return v;
}

// Sign-magnitude codes with P(magnitude m) ~ r^m (m < 128): the shape of quantized weight codes.
Bytes geometric_codes(size_t n, double r, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::geometric_distribution<int> g(1 - r);
  Bytes v(n);
  for (auto& b : v) b = uint8_t(std::min(g(rng), 127) | ((rng() & 1) << 7));
  return v;
}

// Gaussian weights, per-row absmax scaled onto the E4M3 range: ~6.5 bits/symbol.
Bytes fp8_gaussian_codes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  Bytes v(n);
  std::vector<float> row(4096);
  for (size_t at = 0; at < n; at += row.size()) {
    float amax = 0;
    for (auto& w : row) amax = std::max(amax, std::fabs(w = g(rng)));
    for (size_t k = 0; k < row.size() && at + k < n; ++k) v[at + k] = fp8_e4m3_encode(row[k] * 448.f / amax);
  }
  return v;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Encodes, decodes with every available kernel, checks each result, returns the stream.
Bytes round_trip(const Bytes& data, RansOptions opts = {}) {
  const Bytes stream = rans_encode(data, opts);
  const RansStreamInfo info = rans_stream_info(stream, "test");
  EXPECT_EQ(info.symbols, data.size());
  EXPECT_EQ(info.chunk_symbols, opts.chunk_symbols);
  EXPECT_EQ(info.chunks, (data.size() + opts.chunk_symbols - 1) / opts.chunk_symbols);
  EXPECT_EQ(rans_decode(stream, "test"), data);
  for (RansKernel k : kAllKernels) {
    if (!rans_kernel_available(k)) continue;
    Bytes out(data.size(), 0xa5);
    rans_decode_with(k, stream, out, "test");
    EXPECT_EQ(out, data) << rans_kernel_name(k);
  }
  return stream;
}

// Walks a stream's chunks: (mode, body offset, body bytes).
struct ChunkView {
  uint8_t mode;
  size_t offset, bytes;
};
std::vector<ChunkView> chunks_of(const Bytes& s) {
  std::vector<ChunkView> v;
  for (size_t at = rans::kHeaderBytes; at < s.size();) {
    const size_t bytes = rans::load_le32(&s[at]);
    v.push_back({s[at + 4], at + 4, bytes});
    at += 4 + bytes;
  }
  return v;
}

TEST(Xxh64, SpecificationVectors) {
  // The xxHash sanity buffer: byte i = top byte of PRIME32 * PRIME64^i.
  Bytes buf(222);
  uint64_t gen = 2654435761u;
  for (auto& b : buf) {
    b = uint8_t(gen >> 56);
    gen *= 11400714785074694797ull;
  }
  EXPECT_EQ(xxh64(buf.data(), 0), 0xEF46DB3751D8E999ull);
  EXPECT_EQ(xxh64(buf.data(), 1), 0xE934A84ADB052768ull);
  EXPECT_EQ(xxh64(buf.data(), 4), 0x9136A0DCA57457EEull);
  EXPECT_EQ(xxh64(buf.data(), 14), 0x8282DCC4994E35C8ull);
  EXPECT_EQ(xxh64(buf.data(), 222), 0xB641AE8CB691C174ull);
  EXPECT_EQ(xxh64(reinterpret_cast<const uint8_t*>("abc"), 3), 4952883123889572249ull);
}

TEST(RansTable, NormalizationSumsAndKeepsPresentSymbols) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 400; ++trial) {
    SymbolCounts c{};
    const int alphabet = 1 + int(rng() % 256);
    for (int s = 0; s < alphabet; ++s) c[rng() % 256] += (rng() % 4 == 0) ? 1 : rng() % (1u << (rng() % 30));
    if (std::all_of(c.begin(), c.end(), [](uint64_t v) { return v == 0; })) c[7] = 1;
    for (int p = rans::kMinPrecision; p <= rans::kMaxPrecision; ++p) {
      const SymbolFreqs q = normalize_frequencies(c, p);
      uint64_t sum = 0;
      for (int s = 0; s < 256; ++s) {
        EXPECT_EQ(q[s] == 0, c[s] == 0) << "symbol " << s << " precision " << p;
        sum += q[s];
      }
      EXPECT_EQ(sum, 1u << p);
    }
  }
  SymbolCounts all{};
  all.fill(1);
  all[9] = 1000000000;  // one huge, 255 at the floor: precision 8 gives each exactly one slot
  const SymbolFreqs q8 = normalize_frequencies(all, 8);
  EXPECT_TRUE(std::all_of(q8.begin(), q8.end(), [](uint32_t f) { return f == 1; }));
}

TEST(RansTable, FixedPointLog2) {
  for (uint32_t v : {1u, 2u, 3u, 5u, 7u, 100u, 4095u, 4096u, 4097u, 16383u, 32768u, 65535u, 0xffffffffu}) {
    EXPECT_NEAR(log2_fixed16(v) / 65536.0, std::log2(double(v)), 1.0 / 32768) << v;
  }
  for (uint32_t e = 0; e < 32; ++e) EXPECT_EQ(log2_fixed16(1u << e), e << 16);
}

TEST(RansTable, AutomaticPrecision) {
  // FP8 codes of Gaussian weights (6.5 bits/symbol): 12 bits lose ~0.3%, under the 1/256 threshold.
  const Bytes fp8 = fp8_gaussian_codes(256 * 1024, 12);
  EXPECT_EQ(choose_precision(count_symbols(fp8.data(), fp8.size())), 12);
  // A skewed chunk with 200 symbols that occur once or twice: at 12 bits they take 5% of the slots.
  Bytes d = geometric_codes(256 * 1024, 0.2, 13);
  for (int k = 0; k < 300; ++k) d[size_t(k) * 797] = uint8_t(40 + k % 200);
  EXPECT_EQ(choose_precision(count_symbols(d.data(), d.size())), 14);
  const Bytes stream = round_trip(d);
  EXPECT_EQ(stream[chunks_of(stream)[0].offset + rans::kBodyFixedBytes], 14);
  RansOptions o;
  o.precision_bits = 12;
  EXPECT_GT(rans_encode(d, o).size(), stream.size() + stream.size() / 256);
}

TEST(RansTable, ParseRejectsBadTables) {
  SymbolFreqs f{};
  f[3] = 1000;
  f[4] = 24;
  f[200] = 1024 * 15;  // sums to 2^14
  Bytes t;
  append_frequency_table(f, t);
  ASSERT_EQ(t.size(), frequency_table_bytes(f));
  SymbolFreqs g;
  EXPECT_EQ(parse_frequency_table(t.data(), t.size(), 14, g, ""), t.size());
  EXPECT_EQ(g, f);
  EXPECT_NE(error_of([&] { parse_frequency_table(t.data(), t.size(), 13, g, ""); }).find("frequency"),
            std::string::npos);  // 15360 >= 2^13
  EXPECT_NE(error_of([&] { parse_frequency_table(t.data(), t.size() - 1, 14, g, ""); }).find("truncated"),
            std::string::npos);
  Bytes bad = t;
  bad[bad.size() - 2] ^= 1;  // a frequency changes: the sum no longer matches
  EXPECT_NE(error_of([&] { parse_frequency_table(bad.data(), bad.size(), 14, g, ""); }).find("sum"),
            std::string::npos);
  bad = t;
  bad[0] = 0;  // no runs
  EXPECT_NE(error_of([&] { parse_frequency_table(bad.data(), bad.size(), 14, g, ""); }).find("runs"),
            std::string::npos);
}

TEST(Rans, EmptyInput) {
  const Bytes stream = round_trip({});
  EXPECT_EQ(stream.size(), rans::kHeaderBytes);
  EXPECT_EQ(rans_stream_info(stream, "t").chunks, 0u);
  EXPECT_DOUBLE_EQ(chunked_entropy_bits({}), 0.0);
}

TEST(Rans, LengthOne) {
  const Bytes stream = round_trip({0x7e});
  ASSERT_EQ(chunks_of(stream).size(), 1u);
  EXPECT_EQ(chunks_of(stream)[0].mode, rans::kModeConstant);
}

TEST(Rans, SingleSymbolChunkIsConstant) {
  RansOptions o;
  o.chunk_symbols = 100000;
  const Bytes stream = round_trip(Bytes(250000, 0x42), o);
  // Header, then per chunk: length (4), mode (1), checksum (4), the symbol (1).
  EXPECT_EQ(stream.size(), rans::kHeaderBytes + 3 * 10);
  for (const auto& c : chunks_of(stream)) EXPECT_EQ(c.mode, rans::kModeConstant);
  EXPECT_DOUBLE_EQ(chunked_entropy_bits(Bytes(250000, 0x42), 100000), 0.0);
}

TEST(Rans, TwoSymbolsAndTinyChunks) {
  Bytes d = {1, 2};
  round_trip(d);
  RansOptions o;
  o.chunk_symbols = 1;
  round_trip(geometric_codes(300, 0.5, 1), o);
  o.chunk_symbols = 3;
  round_trip(geometric_codes(301, 0.5, 2), o);
}

TEST(Rans, UniformBytesRoundTripAndAreStored) {
  const Bytes d = uniform_bytes(1 << 20, 11);
  const Bytes stream = round_trip(d);
  for (const auto& c : chunks_of(stream)) EXPECT_EQ(c.mode, rans::kModeStored);
  EXPECT_EQ(stream.size(), rans::kHeaderBytes + 4 * (4 + 5 + 256 * 1024));
  // 8 bits/symbol less a hair: 256 KiB chunks of uniform bytes have entropy just below 8 bits.
  EXPECT_NEAR(chunked_entropy_bits(d) / d.size(), 8.0, 0.002);
  // Forced into rANS by a larger-than-data table budget? No: but a small-alphabet uniform stream codes.
  Bytes d16(300000);
  for (size_t i = 0; i < d16.size(); ++i) d16[i] = d[i] & 15;
  const Bytes s16 = round_trip(d16);
  for (const auto& c : chunks_of(s16)) EXPECT_EQ(c.mode, rans::kModeRans);
  EXPECT_LT(double(s16.size()), 0.501 * double(d16.size()) + 400);
}

TEST(Rans, SkewedRoundTrips) {
  for (double r : {0.02, 0.3, 0.55, 0.75, 0.9, 0.98}) {
    const Bytes d = geometric_codes(700000, r, uint64_t(r * 1000));
    const Bytes stream = round_trip(d);
    EXPECT_LT(stream.size(), d.size()) << "r " << r;
  }
  round_trip(fp8_gaussian_codes(600000, 5));
}

TEST(Rans, PrecisionsRoundTrip) {
  const Bytes d = fp8_gaussian_codes(100000, 6);
  for (int p = rans::kMinPrecision; p <= rans::kMaxPrecision; ++p) {
    RansOptions o;
    o.precision_bits = p;
    round_trip(d, o);
  }
  RansOptions bad;
  bad.precision_bits = 7;
  EXPECT_THROW(rans_encode(d, bad), Error);
  bad.precision_bits = 16;
  EXPECT_THROW(rans_encode(d, bad), Error);
  bad = {};
  bad.chunk_symbols = 0;
  EXPECT_THROW(rans_encode(d, bad), Error);
}

TEST(Rans, MixedChunkModesAndPrecisions) {
  // Chunks: rANS at 14 bits (many rare symbols), constant, rANS at 12 bits, stored, rANS at 12, a
  // partial rANS chunk; decoded in pairs by the AVX-512 kernel where both are alike.
  const size_t c = 50000;
  Bytes d = geometric_codes(c, 0.2, 31);
  for (int k = 0; k < 300; ++k) d[size_t(k) * 157] = uint8_t(40 + k % 200);
  d.resize(2 * c, 0x33);
  const Bytes fp8 = fp8_gaussian_codes(c, 32), u = uniform_bytes(c, 33), g = geometric_codes(c + c / 3, 0.5, 34);
  d.insert(d.end(), fp8.begin(), fp8.end());
  d.insert(d.end(), u.begin(), u.end());
  d.insert(d.end(), g.begin(), g.end());
  RansOptions o;
  o.chunk_symbols = c;
  const Bytes stream = round_trip(d, o);
  const auto v = chunks_of(stream);
  ASSERT_EQ(v.size(), 6u);
  const uint8_t modes[6] = {rans::kModeRans, rans::kModeConstant, rans::kModeRans,
                            rans::kModeStored, rans::kModeRans, rans::kModeRans};
  for (size_t k = 0; k < 6; ++k) EXPECT_EQ(v[k].mode, modes[k]) << k;
  EXPECT_EQ(stream[v[0].offset + rans::kBodyFixedBytes], 14);
  EXPECT_EQ(stream[v[2].offset + rans::kBodyFixedBytes], 12);
  EXPECT_EQ(stream[v[4].offset + rans::kBodyFixedBytes], 12);
}

TEST(Rans, LengthsAroundChunkBoundaries) {
  RansOptions o;
  o.chunk_symbols = 1000;
  for (size_t n : {size_t(31), size_t(32), size_t(33), size_t(999), size_t(1000), size_t(1001), size_t(1999),
                   size_t(2000), size_t(2001), size_t(3031)}) {
    const Bytes d = geometric_codes(n, 0.6, n);
    const Bytes stream = round_trip(d, o);
    EXPECT_EQ(chunks_of(stream).size(), (n + 999) / 1000) << n;
  }
}

TEST(Rans, AllSymbolsWithOneVeryRare) {
  Bytes d = geometric_codes(256 * 1024, 0.97, 21);  // magnitudes reach 127 with both signs...
  for (int s = 0; s < 256; ++s) d[size_t(s) * 1000 + 7] = uint8_t(s);  // ...and every symbol is present
  std::replace(d.begin(), d.end(), uint8_t(0xff), uint8_t(0xfe));
  d[123457] = 0xff;  // exactly once in 256 Ki
  const SymbolCounts c = count_symbols(d.data(), d.size());
  ASSERT_EQ(c[0xff], 1u);
  ASSERT_TRUE(std::all_of(c.begin(), c.end(), [](uint64_t v) { return v > 0; }));
  for (int p : {8, 12, 14, 15}) {
    const SymbolFreqs q = normalize_frequencies(c, p);
    EXPECT_EQ(q[0xff], 1u) << p;
    RansOptions o;
    o.precision_bits = p;
    round_trip(d, o);
  }
}

TEST(Rans, RandomizedRoundTrips) {
  std::mt19937_64 rng(20240607);
  for (int trial = 0; trial < 300; ++trial) {
    const uint64_t seed = rng();
    std::mt19937_64 r(seed);
    const size_t n = r() % 4 == 0 ? r() % 200000 : r() % 5000;
    const int alphabet = 1 + int(r() % 256);
    std::vector<uint8_t> symbols(alphabet);
    for (auto& s : symbols) s = uint8_t(r());
    const double skew = double(r() % 1000) / 1000;  // 0: uniform over the alphabet, near 1: very skewed
    std::geometric_distribution<int> g(std::max(1e-3, 1 - skew));
    Bytes d(n);
    for (auto& b : d) b = symbols[size_t(g(r)) % symbols.size()];
    RansOptions o;
    o.chunk_symbols = 1 + r() % (r() % 2 ? 5000 : 300000);
    o.precision_bits = rans::kMinPrecision + int(r() % (rans::kMaxPrecision - rans::kMinPrecision + 1));
    SCOPED_TRACE("seed " + std::to_string(seed));
    round_trip(d, o);
    if (HasFailure()) break;
  }
}

// Coded size <= 1.005 x (entropy bits / 8 + the table bytes in the stream + fixed per-chunk overhead).
TEST(Rans, SizeWithinHalfPercentOfChunkEntropy) {
  const size_t chunk = 256 * 1024, n = 4 * chunk;
  struct Case {
    const char* name;
    Bytes data;
  };
  std::vector<Case> cases;
  cases.push_back({"geometric r=0.35", geometric_codes(n, 0.35, 1)});
  cases.push_back({"geometric r=0.55", geometric_codes(n, 0.55, 2)});
  cases.push_back({"geometric r=0.75", geometric_codes(n, 0.75, 3)});
  cases.push_back({"fp8 e4m3 gaussian", fp8_gaussian_codes(n, 4)});
  for (const auto& c : cases) {
    const Bytes stream = round_trip(c.data);
    const double entropy_bytes = chunked_entropy_bits(c.data, chunk) / 8;
    size_t table_bytes = 0, fixed = rans::kHeaderBytes;
    for (const auto& v : chunks_of(stream)) {
      ASSERT_EQ(v.mode, rans::kModeRans) << c.name;
      SymbolFreqs f;
      const int p = stream[v.offset + rans::kBodyFixedBytes];
      table_bytes += parse_frequency_table(&stream[v.offset + rans::kBodyFixedBytes + 1],
                                           v.bytes - rans::kBodyFixedBytes - 1, p, f, "");
      fixed += rans::kChunkPrefixBytes + rans::kBodyFixedBytes + rans::kRansFixedBytes;
    }
    const double bound = entropy_bytes + double(table_bytes) + double(fixed);
    const double bits = 8 * entropy_bytes / double(n);
    EXPECT_LE(double(stream.size()), 1.005 * bound) << c.name;
    EXPECT_GT(bits, 1.5) << c.name;
    std::printf("  %-20s %.3f bits/symbol: stream %zu bytes = %.4f x (entropy %.0f + table %zu + fixed %zu)\n",
                c.name, bits, stream.size(), double(stream.size()) / bound, entropy_bytes, table_bytes, fixed);
  }
}

TEST(Rans, ChunkedEntropyBits) {
  Bytes d(4000);
  for (size_t i = 0; i < d.size(); ++i) d[i] = i < 2000 ? uint8_t(i % 2) : uint8_t(i % 4);
  EXPECT_NEAR(chunked_entropy_bits(d, 2000), 2000 * 1.0 + 2000 * 2.0, 1e-9);
  // One chunk: counts 1500, 1500, 500, 500 -> 2 * 1500 log2(8/3) + 2 * 500 * 3 bits.
  EXPECT_NEAR(chunked_entropy_bits(d, 4000), 3000 * std::log2(8.0 / 3) + 3000, 1e-6);
}

TEST(Rans, BytesIndependentOfThreadsAndKernels) {
  const Bytes d = geometric_codes(3 * 400000 + 17, 0.7, 8);
  RansOptions o;
  o.chunk_symbols = 400000;
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Bytes one = rans_encode(d, o);
  omp_set_num_threads(4);
  const Bytes four = rans_encode(d, o);
  Bytes out4(d.size());
  rans_decode(four, out4, "t");
  omp_set_num_threads(threads);
  EXPECT_EQ(one, four);
  EXPECT_EQ(out4, d);
  // A golden hash: the encoder is integer-only, so these bytes hold on every CPU and compiler flag set.
  EXPECT_EQ(xxh64(one.data(), one.size()), 0x899c74b22e710feeull) << "stream of " << one.size() << " bytes";
}

TEST(Rans, KernelsAgreeOnCorruptStreams) {
  std::vector<RansKernel> simd;
  for (RansKernel k : {RansKernel::avx2, RansKernel::avx512})
    if (rans_kernel_available(k)) simd.push_back(k);
  if (simd.empty()) GTEST_SKIP() << "no SIMD kernel on this CPU";
  for (int p : {12, 14}) {
    const Bytes d = fp8_gaussian_codes(20000, 9);
    RansOptions o;
    o.chunk_symbols = 5000;
    o.precision_bits = p;
    const Bytes stream = rans_encode(d, o);
    std::mt19937_64 rng(5);
    for (int i = 0; i < 300; ++i) {
      Bytes s = stream;
      for (int k = 0; k < 1 + int(rng() % 3); ++k)
        s[rans::kHeaderBytes + rng() % (s.size() - rans::kHeaderBytes)] ^= uint8_t(1 + rng() % 255);
      Bytes a(d.size());
      const std::string ea = error_of([&] { rans_decode_with(RansKernel::scalar, s, a, "t"); });
      for (RansKernel k : simd) {
        Bytes b(d.size());
        const std::string eb = error_of([&] { rans_decode_with(k, s, b, "t"); });
        EXPECT_EQ(ea, eb) << rans_kernel_name(k);
        if (ea.empty()) {
          EXPECT_EQ(a, b) << rans_kernel_name(k);
        }
      }
    }
  }
}

// ---- corruption ----

struct Fixture {
  Bytes data, stream;
  std::vector<ChunkView> chunks;
};
Fixture three_chunks() {
  Fixture f;
  f.data = geometric_codes(2500, 0.6, 77);
  RansOptions o;
  o.chunk_symbols = 1000;
  f.stream = rans_encode(f.data, o);
  f.chunks = chunks_of(f.stream);
  return f;
}

std::string decode_error(const Bytes& s, size_t n) {
  return error_of([&] {
    Bytes out(n);
    rans_decode(s, out, "w.bin");
  });
}

TEST(RansCorruption, EveryByteFlipInAChunkNamesTheChunk) {
  const Fixture f = three_chunks();
  ASSERT_EQ(f.chunks.size(), 3u);
  for (size_t k = 0; k < f.chunks.size(); ++k) {
    const std::string tag = "w.bin: rANS chunk " + std::to_string(k) + " of 3: ";
    for (size_t at = f.chunks[k].offset; at < f.chunks[k].offset + f.chunks[k].bytes; ++at) {
      for (uint8_t flip : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xff)}) {
        Bytes s = f.stream;
        s[at] ^= flip;
        const std::string e = decode_error(s, f.data.size());
        ASSERT_EQ(e.rfind(tag, 0), 0u) << "byte " << at << " ^ " << int(flip) << ": " << e;
        EXPECT_EQ(e.find('\n'), std::string::npos);
      }
    }
  }
}

TEST(RansCorruption, EveryByteFlipAnywhereIsAnError) {
  const Fixture f = three_chunks();
  for (size_t at = 0; at < f.stream.size(); ++at) {
    Bytes s = f.stream;
    s[at] ^= 0x10;
    const std::string e = decode_error(s, f.data.size());
    EXPECT_NE(e.find("w.bin: rANS "), std::string::npos) << "byte " << at << ": '" << e << "'";
  }
}

TEST(RansCorruption, ChecksumMismatchIsReported) {
  const Fixture f = three_chunks();
  Bytes s = f.stream;
  s[f.chunks[1].offset + 1] ^= 0x01;  // the stored checksum of chunk 1
  const std::string e = decode_error(s, f.data.size());
  EXPECT_NE(e.find("rANS chunk 1 of 3: checksum mismatch (stored 0x"), std::string::npos) << e;
  EXPECT_NE(e.find(", decoded 0x"), std::string::npos) << e;
}

TEST(RansCorruption, WordsAndStatesAreChecked) {
  const Fixture f = three_chunks();
  const ChunkView& c = f.chunks[2];
  Bytes s = f.stream;
  s[c.offset + c.bytes - 1] ^= 0x40;  // the last word of chunk 2
  EXPECT_NE(decode_error(s, f.data.size()).find("rANS chunk 2 of 3: "), std::string::npos);
  // A chunk with its last word dropped and its length fixed up: words exhausted or a bad end state.
  s = f.stream;
  s.erase(s.begin() + long(c.offset + c.bytes - 2), s.begin() + long(c.offset + c.bytes));
  rans::store_le32(&s[c.offset - 4], uint32_t(c.bytes - 2));
  const std::string e = decode_error(s, f.data.size());
  EXPECT_NE(e.find("rANS chunk 2 of 3: "), std::string::npos) << e;
  EXPECT_TRUE(e.find("exhausted") != std::string::npos || e.find("ends at") != std::string::npos) << e;
  // An extra word: left unread.
  s = f.stream;
  s.insert(s.begin() + long(c.offset + c.bytes), {0x12, 0x34});
  rans::store_le32(&s[c.offset - 4], uint32_t(c.bytes + 2));
  EXPECT_NE(decode_error(s, f.data.size()).find("rANS chunk 2 of 3: "), std::string::npos);
  // An initial state below L.
  s = f.stream;
  SymbolFreqs freq;
  const size_t table = parse_frequency_table(&s[c.offset + 6], c.bytes - 6, s[c.offset + 5], freq, "");
  rans::store_le32(&s[c.offset + 6 + table + 4 * 3], 5);
  EXPECT_NE(decode_error(s, f.data.size()).find("rANS chunk 2 of 3: initial state 3 is 0x00000005"),
            std::string::npos);
}

TEST(RansCorruption, TruncationAtEveryLength) {
  const Fixture f = three_chunks();
  for (size_t len = 0; len < f.stream.size(); ++len) {
    const Bytes s(f.stream.begin(), f.stream.begin() + long(len));
    const std::string e = decode_error(s, f.data.size());
    ASSERT_FALSE(e.empty()) << len;
    if (len < rans::kHeaderBytes) {
      EXPECT_NE(e.find("rANS header: truncated"), std::string::npos) << e;
      continue;
    }
    size_t k = 0;  // the chunk the cut falls in
    while (k + 1 < f.chunks.size() && len >= f.chunks[k].offset + f.chunks[k].bytes) ++k;
    const std::string tag = "rANS chunk " + std::to_string(k) + " of 3: truncated";
    const bool header_count = e.find("cannot fit") != std::string::npos;  // few bytes left for 3 chunks
    EXPECT_TRUE(e.find(tag) != std::string::npos || header_count) << len << ": " << e;
  }
}

TEST(RansCorruption, HeaderFieldsAreValidated) {
  const Fixture f = three_chunks();
  auto with = [&](size_t at, uint8_t v) {
    Bytes s = f.stream;
    s[at] = v;
    return decode_error(s, f.data.size());
  };
  EXPECT_NE(with(4, 2).find("w.bin: rANS header: unsupported version 2 (expected 1)"), std::string::npos);
  EXPECT_NE(with(0, 'X').find("bad magic"), std::string::npos);
  EXPECT_NE(with(5, 16).find("16 states"), std::string::npos);
  EXPECT_NE(with(9, 0xff).find("chunks (expected ceil("), std::string::npos);
  Bytes s = f.stream;
  rans::store_le64(&s[24], 1ull << 60);  // chunk count
  EXPECT_NE(decode_error(s, f.data.size()).find("rANS header"), std::string::npos);
  s = f.stream;
  s.push_back(0);
  EXPECT_NE(decode_error(s, f.data.size()).find("1 trailing bytes"), std::string::npos);
  EXPECT_NE(decode_error(f.stream, f.data.size() + 1).find("w.bin: rANS stream: declares 2500 symbols, the output holds 2501"), std::string::npos);
  EXPECT_EQ(decode_error(f.stream, f.data.size()), "");
}

TEST(RansCorruption, BadModesAndTables) {
  const Fixture f = three_chunks();
  const size_t o = f.chunks[0].offset;
  Bytes s = f.stream;
  s[o] = 9;
  EXPECT_NE(decode_error(s, f.data.size()).find("rANS chunk 0 of 3: unknown mode 9"), std::string::npos);
  s = f.stream;
  s[o + 5] = 16;  // precision
  EXPECT_NE(decode_error(s, f.data.size()).find("rANS chunk 0 of 3: precision 16 bits"), std::string::npos);
  s = f.stream;
  s[o + 5] = 13;  // a valid precision, but the table sums to 2^14
  EXPECT_NE(decode_error(s, f.data.size()).find("rANS chunk 0 of 3: frequency table: "), std::string::npos);
  s = f.stream;
  s[o] = rans::kModeStored;
  EXPECT_NE(decode_error(s, f.data.size()).find("rANS chunk 0 of 3: stored chunk body of"), std::string::npos);
  s = f.stream;
  s[o] = rans::kModeConstant;
  EXPECT_NE(decode_error(s, f.data.size()).find("rANS chunk 0 of 3: constant chunk body of"), std::string::npos);
}

}  // namespace
}  // namespace lmp
