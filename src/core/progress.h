// Progress on stderr for long work: silent for the first second, then a line with done/total, rate and
// ETA, redrawn in place on a terminal and printed every few seconds otherwise.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace lmp {

class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit = "");
  ~Progress();
  void update(int64_t done);  // absolute count
  void add(int64_t n) { update(done_ + n); }
  void finish();
  // Globally silence progress output (tests, --quiet).
  static void set_enabled(bool on);
  static bool enabled();  // for other status lines that --quiet silences too

 private:
  void draw(bool final_line);
  std::string label_, unit_;
  int64_t total_, done_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false, finished_ = false, tty_;
};

}  // namespace lmp
