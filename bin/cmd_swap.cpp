// `facet swap`: extract both videos, train, merge, in one resumable command over a DeepFaceLab-style
// workspace (pipeline/swap/swap_workflow.h). Exit codes: 0 done, 1 runtime error, 2 usage error,
// 130 stopped by Ctrl-C (everything finished so far is kept; the same command continues).
#include <memory>

#include "bin/commands.h"
#include "bin/console.h"
#include "bin/swap_console.h"
#include "pipeline/swap/swap_workflow.h"
#include "pipeline/video/ffmpeg_log.h"

namespace facet::cli {

namespace {

int run(const swap::SwapOptions& o, Console& console) {
  video::set_ffmpeg_log_level(video::FfmpegLogLevel::Error);  // no encoder statistics between our lines
  SwapConsole show(console);
  const swap::SwapResult r = swap::run_swap(o, show.report());
  return show.finish(r);
}

}  // namespace

Action add_swap(CLI::App& app, Console& console) {
  auto o = std::make_shared<swap::SwapOptions>();
  CLI::App* s = app.add_subcommand(
      "swap",
      "Extract both videos, train, merge: the whole swap in one resumable command over a DeepFaceLab-style workspace "
      "(ws/data_src.mp4, ws/data_dst.mp4 -> ws/data_src/aligned, ws/data_dst/aligned, ws/model, ws/result.mp4)");
  s->add_option("-w,--workspace", o->workspace, "Workspace folder")->capture_default_str();
  s->add_option("--src", o->src_video, "Source-face video or frame folder (default: <workspace>/data_src.*)");
  s->add_option("--dst", o->dst_video, "Destination video or frame folder (default: <workspace>/data_dst.*)");
  s->add_option("--src-faces", o->src_faces, "Source face set (default: <workspace>/data_src/aligned)");
  s->add_option("--dst-faces", o->dst_faces, "Destination face set (default: <workspace>/data_dst/aligned)");
  s->add_option("--model", o->model_dir, "Model folder (default: <workspace>/model)");
  s->add_option("--mask-model", o->mask_model_dir,
                "Mask model folder (facet mask train; default: <workspace>/mask_model when it holds a trained one)");
  s->add_option("-o,--output", o->result, "Result video (default: <workspace>/result.mp4)");
  s->add_option("--comparison", o->comparison, "Also write a side-by-side video (destination | result) here");
  s->add_option("--assets", o->assets_dir, "Folder with the face-detection models (default: search)");
  s->add_option("--merge-settings", o->merge_settings_file,
                "Merge settings JSON (facet merge --save-settings); default <model>/merge_settings.json, else DFL's");
  s->add_option("--src-every", o->src_every, "Extract every Nth source frame")->capture_default_str()->check(CLI::PositiveNumber);
  s->add_option("--dst-every", o->dst_every, "Extract every Nth destination frame (the others merge unchanged)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  s->add_option("--face-size", o->face_size, "Extracted face size in pixels (default: as extracted before, else 256)")
      ->check(CLI::Range(64, 1024));
  s->add_option("--iters", o->iterations, "Train to this iteration (with --train-minutes: whichever comes first)")
      ->check(CLI::NonNegativeNumber);
  s->add_option("--train-minutes", o->train_minutes,
                "Training time budget, summed over resumed runs (default 60 when --iters is not given)")
      ->check(CLI::NonNegativeNumber);
  s->add_option("--preset", o->preset, "Model preset when the model is created: tiny, quick96, df128, saehd "
                                       "(default tiny on the CPU, quick96 on a GPU)")
      ->check(CLI::IsMember({"tiny", "quick96", "df128", "saehd"}));
  s->add_option("--batch", o->batch, "Faces per side per iteration (default: the model's)")->check(CLI::NonNegativeNumber);
  s->add_flag("--cpu", o->cpu, "Use the CPU even when a GPU is present");
  s->add_flag("--force-merge", o->force_merge, "Merge again even when the result is newer than the model");
  return [o, &console]() { return run(*o, console); };
}

}  // namespace facet::cli
