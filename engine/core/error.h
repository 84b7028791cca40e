// Errors are exceptions carrying a message a user can act on (file, tensor, expected vs actual).
// Libraries never exit(); the command line turns facet::Error into exit code 1.
#pragma once
#include <sstream>
#include <string>

#include "kernels/common/error.h"

namespace facet {

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
