// Errors are exceptions carrying a message a user can act on (file, tensor, expected vs actual).
// Libraries never exit(); the command line turns facet::Error into exit code 1.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace facet {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace facet

// FACET_CHECK(cond, "parts", of, "message") throws facet::Error when cond is false.
#define FACET_CHECK(cond, ...)                                                    \
  do {                                                                            \
    if (!(cond)) throw ::facet::Error(::facet::detail::concat(__VA_ARGS__));      \
  } while (0)
