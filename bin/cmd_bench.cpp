// `facet bench train`: whole training iterations timed on synthetic faces (pipeline/train/train_bench.h).
#include <memory>

#include "bin/commands.h"
#include "pipeline/train/train_bench.h"

namespace facet::cli {

Action add_bench(CLI::App& app, Console& console) {
  auto o = std::make_shared<train::TrainBenchOptions>();
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks of whole stages");
  bench->require_subcommand(1);
  CLI::App* t = bench->add_subcommand("train", "Time SAEHD training iterations: ms/iteration, images/s, TFLOP/s, MFU");
  t->add_option("--preset", o->preset, "Network preset (tiny, quick96, saehd, df128)")->capture_default_str();
  t->add_option("--archi", o->archi, "Override the preset's archi");
  t->add_option("--resolution", o->resolution, "Override the preset's resolution");
  t->add_option("--batch", o->batch, "Faces per side per iteration")->capture_default_str()->check(CLI::PositiveNumber);
  t->add_option("--iters", o->iters, "Timed iterations (default 30 GPU, 5 CPU)");
  t->add_option("--warmup", o->warmup, "Untimed iterations first (default 5 GPU, 1 CPU)");
  t->add_option("--faces", o->faces, "Synthetic faces per side")->capture_default_str()->check(CLI::PositiveNumber);
  t->add_option("--optimizer", o->optimizer, "adabelief, adam or rmsprop")->capture_default_str();
  t->add_flag("--cpu", o->cpu, "Run on the CPU even when a GPU is present");
  t->add_flag("--deterministic", o->deterministic, "Deterministic algorithms");
  t->add_flag("!--no-augment", o->augment, "Skip augmentation (model + loss + optimizer only)");
  t->add_option("--precision", o->precision, "Compute precision: auto (bf16 on a GPU, f32 on the CPU), f32 or bf16")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "f32", "bf16"}));
  t->add_option("--cpu-conv", o->cpu_conv, "CPU convolutions on: onednn or reference (the im2col kernels, to compare)")
      ->capture_default_str()
      ->check(CLI::IsMember({"onednn", "reference"}));
  return [o, t, &console]() {
    if (!t->parsed()) return 2;
    const train::TrainBenchResult r = train::run_train_bench(*o, console.logger());
    console.result(train::format_train_bench(r));
    return 0;
  };
}

}  // namespace facet::cli
