// Each subcommand registers itself on the CLI11 app and returns the action to run when chosen.
// Every action prints through the one Console (bin/console.h); main() gives each subcommand the
// Console's -q/--quiet and --log-file.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

#include "bin/console.h"

namespace facet::cli {

using Action = std::function<int()>;  // returns the process exit code

Action add_demo(CLI::App& app, Console& console);
Action add_extract(CLI::App& app, Console& console);
Action add_train(CLI::App& app, Console& console);
Action add_merge(CLI::App& app, Console& console);
Action add_swap(CLI::App& app, Console& console);
Action add_video(CLI::App& app, Console& console);
Action add_faceset(CLI::App& app, Console& console);
Action add_mask(CLI::App& app, Console& console);
Action add_model(CLI::App& app, Console& console);
Action add_bench(CLI::App& app, Console& console);
Action add_info(CLI::App& app, Console& console);

}  // namespace facet::cli
