// Process memory figures for reports.
#pragma once

namespace lmp {

// Peak resident set size of this process so far, in MiB (getrusage).
double peak_rss_mb();
// Resident set size of this process now, in MiB (/proc/self/statm); 0 when unknown.
double current_rss_mb();

}  // namespace lmp

namespace lmp {

// MemAvailable from /proc/meminfo in MiB (what can be allocated without swapping); 0 when unknown.
double available_memory_mb();

}  // namespace lmp
