// `facet model`: read-only inspection of a model folder (pipeline/tools/model_info.h; docs/cli.md):
// architecture, parameter counts, FLOPs, iteration, options.
#include <memory>

#include "bin/commands.h"
#include "pipeline/tools/model_info.h"

namespace facet::cli {

Action add_model(CLI::App& app, Console& console) {
  struct Args {
    std::string dir;
    bool layers = false, json = false;
    CLI::App* info = nullptr;
  };
  auto a = std::make_shared<Args>();
  CLI::App* m = app.add_subcommand("model", "Model folder tools: info");
  m->require_subcommand(1);
  a->info = m->add_subcommand("info", "Architecture, parameters, FLOPs, iteration and options of a model (read-only)");
  a->info->add_option("dir", a->dir, "Model folder (the --model of facet train)")->required();
  a->info->add_flag("--layers", a->layers, "Also list every layer (as facet train --dry-run does)");
  a->info->add_flag("--json", a->json, "Print JSON");
  return [a, &console]() {
    const tools::ModelInfo info = tools::read_model_info(a->dir);
    console.result(a->json ? tools::model_info_json(info) : tools::format_model_info(info, a->layers));
    return 0;
  };
}

}  // namespace facet::cli
