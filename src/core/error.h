// Errors: one exception type whose message is a single line naming the operation, the file / tensor /
// field and the expected vs found values. The CLI prints it and exits non-zero.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace lmp {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

namespace detail {
template <typename... Args>
std::string concat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}
}  // namespace detail

// Throws lmp::Error with the arguments streamed together: fail("safetensors: ", path, ": ...").
template <typename... Args>
[[noreturn]] void fail(Args&&... args) {
  throw Error(detail::concat(std::forward<Args>(args)...));
}

// Throws unless `cond`; the message is only built when the check fails.
#define LMP_CHECK(cond, ...)                  \
  do {                                        \
    if (!(cond)) ::lmp::fail(__VA_ARGS__);    \
  } while (0)

}  // namespace lmp
