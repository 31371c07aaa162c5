// Test helper for the parser fuzz tests: seeded corruption of real files (byte flips, truncations,
// overwrites of header fields with extreme values, digit rewrites in JSON), and a runner that accepts
// success or lmp::Error and nothing else.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "core/error.h"

namespace lmp::test {

// Iteration counts and seeds can be scaled for long local runs: LMP_FUZZ_SCALE=20 LMP_FUZZ_SEED=5.
inline int fuzz_iterations(int n) {
  const char* s = std::getenv("LMP_FUZZ_SCALE");
  return s ? n * std::max(1, std::atoi(s)) : n;
}

class Corruptor {
 public:
  explicit Corruptor(uint64_t seed) {
    const char* s = std::getenv("LMP_FUZZ_SEED");
    rng_.seed(seed + (s ? std::strtoull(s, nullptr, 10) : 0));
  }

  // A corrupted copy of `bytes`; `hot` is the length of the prefix that holds the file's structure
  // (header, metadata), where most corruptions land.
  std::string corrupt(const std::string& bytes, size_t hot) {
    std::string out = bytes;
    hot = std::max<size_t>(1, std::min(hot, bytes.size()));
    const int n = 1 + int(below(3));
    for (int i = 0; i < n && !out.empty(); ++i) corrupt_once(out, std::min(hot, out.size()));
    return out;
  }

  uint64_t below(uint64_t n) { return n ? rng_() % n : 0; }

 private:
  uint64_t interesting() {
    static const uint64_t v[] = {0, 1, 2, 3, 7, 8, 31, 32, 33, 255, 256, 0x7fffffffu, 0x80000000u, 0xffffffffu,
                                 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull, 1ull << 40};
    if (below(4) == 0) return rng_();
    return v[below(sizeof v / sizeof v[0])];
  }

  void corrupt_once(std::string& s, size_t hot) {
    switch (below(6)) {
      case 0: s[below(hot)] ^= char(1 + below(255)); break;                          // flip in the header
      case 1: s.resize(below(4) ? below(hot + 1) : below(s.size() + 1)); break;     // truncate
      case 2: overwrite<uint32_t>(s, hot, uint32_t(interesting())); break;           // a 32-bit field
      case 3: overwrite<uint64_t>(s, hot, interesting()); break;                     // a 64-bit field
      case 4: rewrite_digits(s, hot); break;                                          // JSON numbers
      default: s[below(s.size())] = char(below(256)); break;                         // anywhere, data included
    }
  }

  template <typename T>
  void overwrite(std::string& s, size_t hot, T v) {
    if (s.size() < sizeof(T)) return;
    const size_t at = below(std::min(hot, s.size() - sizeof(T) + 1));
    std::memcpy(&s[at], &v, sizeof(T));
  }

  // Replaces a run of ASCII digits in the hot prefix by an extreme or random number.
  void rewrite_digits(std::string& s, size_t hot) {
    static const char* nums[] = {"0", "-1", "1", "99999999999999999999", "18446744073709551615", "4294967296",
                                 "9223372036854775807", "1e308", "2.5", "65"};
    for (int tries = 0; tries < 16; ++tries) {
      size_t at = below(hot);
      if (at >= s.size() || s[at] < '0' || s[at] > '9') continue;
      size_t end = at;
      while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
      while (at > 0 && s[at - 1] >= '0' && s[at - 1] <= '9') --at;
      const std::string repl = below(3) ? nums[below(10)] : std::to_string(below(1u << 20));
      s.replace(at, end - at, repl);
      return;
    }
    s[below(hot)] ^= 0x20;
  }

  std::mt19937_64 rng_;
};

// A file on disk kept equal to the latest bytes given, rewriting only the range that changed (the fuzz
// loops would otherwise spend their time writing megabytes per iteration).
class FileImage {
 public:
  explicit FileImage(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  void set(const std::string& bytes) {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0) << path_;
    size_t first = 0;
    const size_t common = std::min(bytes.size(), current_.size());
    while (first < common && bytes[first] == current_[first]) ++first;
    size_t last = bytes.size();  // one past the last byte to write
    if (bytes.size() == current_.size())
      while (last > first && bytes[last - 1] == current_[last - 1]) --last;
    if (last > first) {
      ASSERT_EQ(::pwrite(fd, bytes.data() + first, last - first, off_t(first)), ssize_t(last - first));
    }
    ASSERT_EQ(::ftruncate(fd, off_t(bytes.size())), 0);
    ::close(fd);
    current_ = bytes;
  }

 private:
  std::string path_, current_;
};

// Counts outcomes of `fn` over a fuzz run; anything but success or lmp::Error fails the test.
struct Outcomes {
  int ok = 0, errors = 0;
  void run(int iteration, const std::function<void()>& fn) {
    try {
      fn();
      ++ok;
    } catch (const Error& e) {
      ++errors;
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "multi-line error: " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "iteration " << iteration << ": exception other than lmp::Error: " << e.what();
    } catch (...) {
      ADD_FAILURE() << "iteration " << iteration << ": a non-std exception";
    }
  }
};

// Writes `iterations` corruptions of `orig` (a config.json's text) to DIR/config.json and runs `open` on
// each: the fuzz loop every checkpoint format's config shares.
inline Outcomes fuzz_config_json(const std::string& dir, const std::string& orig, uint64_t seed, int iterations,
                                 const std::function<void()>& open) {
  Corruptor c(seed);
  Outcomes out;
  FileImage file(dir + "/config.json");
  for (int i = 0; i < iterations; ++i) {
    file.set(c.corrupt(orig, orig.size()));
    out.run(i, open);
  }
  return out;
}

}  // namespace lmp::test
