// `facet info`: what this build contains and which devices it can use.
#include <cstdio>

#include "bin/commands.h"
#include "engine/core/context.h"
#include "facet_config.h"

namespace facet::cli {

Action add_info(CLI::App& app) {
  app.add_subcommand("info", "Show the build (CUDA backend or not) and the usable devices");
  return []() {
    std::printf("facet %s\n", FACET_VERSION);
    std::printf("CUDA backend: %s\n", FACET_HAS_CUDA ? "built" : "not built");
    std::printf("CUDA device: %s\n", cuda_available() ? "available" : "none (running on the CPU)");
    return 0;
  };
}

}  // namespace facet::cli
