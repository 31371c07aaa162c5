// Process memory figures for reports.
#pragma once

namespace lmp {

// Peak resident set size of this process so far, in MiB (getrusage).
double peak_rss_mb();

}  // namespace lmp
