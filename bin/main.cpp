// facet: the command line. Exit codes: 0 success, 1 runtime error (bad input file, out of
// memory, ...), 2 usage error (unknown option, missing argument). Errors go to stderr.
#include <cstdio>
#include <iostream>

#include "bin/commands.h"
#include "engine/core/error.h"
#include "facet_config.h"

int main(int argc, char** argv) {
  CLI::App app{"facet: face swapping with a native training engine (CPU and CUDA)"};
  app.set_version_flag("--version", std::string("facet ") + FACET_VERSION);
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, facet::cli::Action>> actions;
  auto reg = [&](facet::cli::Action (*add)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    facet::cli::Action a = add(app);
    actions.emplace_back(app.get_subcommands({})[before], std::move(a));
  };
  reg(facet::cli::add_demo);
  reg(facet::cli::add_extract);
  reg(facet::cli::add_info);
  reg(facet::cli::add_train);
  reg(facet::cli::add_bench);
  reg(facet::cli::add_merge);
  reg(facet::cli::add_video);
  reg(facet::cli::add_faceset);
  reg(facet::cli::add_model);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    for (auto& [sub, action] : actions)
      if (sub->parsed()) return action();
  } catch (const facet::Error& e) {
    std::cerr << "facet: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "facet: error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
