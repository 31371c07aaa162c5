#include "core/memory.h"

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace lmp {

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace lmp

namespace lmp {

double available_memory_mb() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  double kib = 0;
  std::string unit;
  while (f >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib / 1024.0;
  return 0.0;
}

}  // namespace lmp
