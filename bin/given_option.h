// A CLI11 option bound to a plain value that remembers whether the user gave it, so a command can
// apply only the flags actually given on top of stored settings (a model's options, a merge
// settings file).
#pragma once
#include <optional>

#include <CLI/CLI.hpp>

namespace facet::cli {

template <typename T>
struct Given {
  T value{};
  CLI::Option* opt = nullptr;
  bool given() const { return opt && opt->count() > 0; }
  std::optional<T> get() const { return given() ? std::optional<T>(value) : std::nullopt; }
};

}  // namespace facet::cli
