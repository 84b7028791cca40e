// `facet info`: what this build contains and which devices it can use.
#include <string>

#include "bin/commands.h"
#include "engine/core/context.h"
#include "facet_config.h"

namespace facet::cli {

Action add_info(CLI::App& app, Console& console) {
  app.add_subcommand("info", "Show the build (CUDA backend or not) and the usable devices");
  return [&console]() {
    console.result(std::string("facet ") + FACET_VERSION);
    console.result(std::string("CUDA backend: ") + (FACET_HAS_CUDA ? "built" : "not built"));
    if (cuda_is_emulated())
      console.result("CUDA device: " + device_name(Device::cuda(0)) +
                     " -- the emulated device runs our CUDA code on the CPU for tests; it is not a GPU");
    else
      console.result(std::string("CUDA device: ") +
                     (cuda_available() ? device_name(Device::cuda(0)) : std::string("none (running on the CPU)")));
    return 0;
  };
}

}  // namespace facet::cli
