// Each subcommand registers itself on the CLI11 app and returns the action to run when chosen.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace facet::cli {

using Action = std::function<int()>;  // returns the process exit code

Action add_demo(CLI::App& app);
Action add_extract(CLI::App& app);
Action add_info(CLI::App& app);
Action add_train(CLI::App& app);
Action add_bench(CLI::App& app);
Action add_merge(CLI::App& app);
Action add_video(CLI::App& app);
Action add_faceset(CLI::App& app);
Action add_model(CLI::App& app);

}  // namespace facet::cli
