#include "core/progress.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace lmp {

namespace {
std::atomic<bool> g_progress_enabled{true};

std::string fmt_seconds(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}
}  // namespace

void Progress::set_enabled(bool on) { g_progress_enabled = on; }
bool Progress::enabled() { return g_progress_enabled; }

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total),
      start_(std::chrono::steady_clock::now()), last_draw_(start_), tty_(isatty(2)) {}

Progress::~Progress() { finish(); }

void Progress::update(int64_t done) {
  done_ = done;
  if (!g_progress_enabled) return;
  const auto now = std::chrono::steady_clock::now();
  const double since_start = std::chrono::duration<double>(now - start_).count();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  if (since_start < 1.0) return;
  if (since_draw < (tty_ ? 0.2 : 5.0) && drawn_) return;
  last_draw_ = now;
  draw(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (g_progress_enabled && drawn_) draw(true);
}

void Progress::draw(bool final_line) {
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = el > 0 ? double(done_) / el : 0;
  std::string eta = (rate > 0 && total_ > done_) ? fmt_seconds(double(total_ - done_) / rate) : "0s";
  std::fprintf(stderr, "%s%s: %lld/%lld %s (%.1f%%, %.1f %s/s, %s elapsed, ETA %s)%s",
               tty_ ? "\r\033[K" : "", label_.c_str(), (long long)done_, (long long)total_,
               unit_.c_str(), total_ ? 100.0 * double(done_) / double(total_) : 100.0, rate,
               unit_.empty() ? "it" : unit_.c_str(), fmt_seconds(el).c_str(), eta.c_str(),
               (tty_ && !final_line) ? "" : "\n");
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace lmp
