// `facet demo`: the built-in demo (see pipeline/demo/engine_demo.h).
#include <cstdio>

#include "bin/commands.h"
#include "pipeline/demo/engine_demo.h"

namespace facet::cli {

Action add_demo(CLI::App& app) {
  auto opt = std::make_shared<pipeline::EngineDemoOptions>();
  CLI::App* sub = app.add_subcommand("demo", "Train a small DeepFaceLab-style autoencoder on built-in synthetic faces");
  sub->add_option("--out", opt->out_dir, "Output folder")->capture_default_str();
  sub->add_option("--steps", opt->steps, "Training steps")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--batch", opt->batch, "Batch size")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--resolution", opt->resolution, "Image size (multiple of 16)")->capture_default_str();
  sub->add_option("--seed", opt->seed, "Random seed")->capture_default_str();
  sub->add_flag("--cpu", opt->cpu, "Use the CPU even when a GPU is present");
  return [opt]() {
    std::printf("facet demo: training a %dx%d autoencoder for %d steps (batch %d)\n", opt->resolution,
                opt->resolution, opt->steps, opt->batch);
    auto res = pipeline::run_engine_demo(*opt, [&](int step, double loss) {
      std::printf("  step %5d/%d  loss %.5f\n", step, opt->steps, loss);
      std::fflush(stdout);
    });
    std::printf("device %s: loss %.4f -> %.4f (%.1fx lower), %.1f ms/step\n", res.device.c_str(), res.first_loss,
                res.last_loss, res.first_loss / res.last_loss, res.ms_per_step);
    std::printf("wrote %s and %s\n", res.loss_csv.c_str(), res.checkpoint.c_str());
    std::printf("(the full video face-swap demo arrives with the extract/train/merge stages)\n");
    return 0;
  };
}

}  // namespace facet::cli
