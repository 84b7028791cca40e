// `facet merge`: argument parsing for the merge stage (pipeline/merge/merge_stage.h; docs/merge.md).
// Settings come from DFL's defaults, then a --settings file (default: <model>/merge_settings.json
// when it exists), then the flags given here (only the flags actually given override).
// --save-settings writes the result, so a look tuned with --preview-frame can be kept and reused. Ctrl-C stops cleanly: PNG output resumes on the next run.
#include <cstdio>
#include <memory>
#include <optional>

#include "bin/commands.h"
#include "bin/given_option.h"
#include "engine/core/error.h"
#include "pipeline/merge/merge_stage.h"
#include "pipeline/merge/merge_stage_settings.h"
#include "pipeline/train/stop_signal.h"
#include "pipeline/video/ffmpeg_log.h"

namespace facet::cli {

namespace {

struct MergeArgs {
  merge::MergeStageOptions opt;
  std::string settings_file, save_settings, preview_out, mask_video;
  Given<std::string> mode, mask_mode, color, sharpen, direction;
  Given<int> erode, blur, face_scale, motion_blur, smooth, hist_threshold, sharpen_amount;
  Given<uint64_t> seed;
  Given<int64_t> preview_frame;
  bool cpu = false;
};

// The flags given on the command line, for the merge stage to apply over its settings file.
merge::MergeSettingsFlags settings_flags(const MergeArgs& a) {
  merge::MergeSettingsFlags f;
  f.mode = a.mode.get(), f.mask_mode = a.mask_mode.get(), f.color_transfer_mode = a.color.get();
  f.erode_mask_modifier = a.erode.get(), f.blur_mask_modifier = a.blur.get();
  f.output_face_scale = a.face_scale.get(), f.motion_blur_power = a.motion_blur.get();
  f.hist_match_threshold = a.hist_threshold.get(), f.random_seed = a.seed.get();
  f.smooth_landmarks = a.smooth.get(), f.swap_direction = a.direction.get();
  if (a.sharpen.given()) {  // MODE or MODE:AMOUNT
    const std::string& v = a.sharpen.value;
    const size_t colon = v.find(':');
    f.sharpen_mode = v.substr(0, colon);
    if (colon != std::string::npos) {
      try {
        f.blursharpen_amount = std::stoi(v.substr(colon + 1));
      } catch (const std::exception&) {
        throw Error("--sharpen " + v + ": the amount after ':' must be an integer (e.g. box:20)");
      }
    }
  }
  if (a.sharpen_amount.given()) f.blursharpen_amount = a.sharpen_amount.value;
  return f;
}

int run(MergeArgs& a, Console& console) {
  merge::MergeStageOptions& o = a.opt;
  const merge::MergeSettingsBase base = merge::load_merge_settings_base(a.settings_file, o.model_dir);
  if (a.settings_file.empty() && !base.file.empty())
    console.info("merge settings from " + base.file + " (flags override them; --settings FILE to use another)");
  const merge::MergeStageSettings st = merge::apply_settings_flags(base.settings, settings_flags(a));
  o.settings = st;
  o.use_gpu = !a.cpu;
  o.mask_output = a.mask_video;
  if (!a.save_settings.empty()) {
    merge::save_merge_stage_settings(a.save_settings, st);
    console.result("settings written to " + a.save_settings);
  }
  const bool preview = a.preview_frame.given();
  if (!preview && o.output.empty()) {
    if (!a.save_settings.empty()) return 0;  // only saving settings
    console.error("--output (or --preview-frame N --out FILE) is required (see facet merge --help)");
    return 2;
  }
  if (o.input.empty() || o.alignments.empty() || o.faces_dir.empty() || o.model_dir.empty()) {
    console.error("--input, --alignments, --faces and --model are required (see facet merge --help)");
    return 2;
  }
  // x264's statistics are noise here; FFmpeg's warnings (damaged input, audio trouble) are not.
  video::set_ffmpeg_log_level(console.quiet() ? video::FfmpegLogLevel::Error : video::FfmpegLogLevel::Warning);
  o.log = [&console](const std::string& m) { console.warn("merge: " + m); };  // all of them are warnings
  if (preview) {
    if (a.preview_out.empty()) {
      console.error("--preview-frame needs --out FILE.png");
      return 2;
    }
    const merge::MergePreviewResult r = merge::render_merge_preview(o, a.preview_frame.value, a.preview_out);
    console.result("frame " + std::to_string(r.frame) + " with " + std::to_string(r.faces) + " face(s) merged -> " +
                   r.path);
    return 0;
  }
  train::StopSignalGuard guard;
  o.should_stop = [] { return train::stop_requested(); };
  std::unique_ptr<ConsoleProgress> bar = console.progress("merge", 0, "frames");
  o.progress = [&](int64_t done, int64_t total, double) {  // per frame, written or found already there
    bar->set_total(total);
    bar->update(done);
  };
  const merge::MergeStageResult r = merge::run_merge(o);
  bar->finish(r.frames_written + r.frames_resumed);
  char line[512];
  std::snprintf(line, sizeof line,
                "%s %s: %lld frames written (%lld with faces, %lld faces), %lld already there; %.1f s, %.2f frames/s "
                "on %s%s",
                r.stopped ? "stopped," : "merged into", r.output.c_str(), static_cast<long long>(r.frames_written),
                static_cast<long long>(r.frames_with_faces), static_cast<long long>(r.faces_merged),
                static_cast<long long>(r.frames_resumed), r.seconds, r.fps, r.device.c_str(),
                r.stopped ? " (run the same command to continue)" : "");
  console.result(line);
  std::snprintf(line, sizeof line, "busy seconds: decode %.1f, model %.1f, composite %.1f, write %.1f",
                r.decode_seconds, r.infer_seconds, r.compose_seconds, r.write_seconds);
  console.result(line);
  return 0;
}

}  // namespace

Action add_merge(CLI::App& app, Console& console) {
  auto a = std::make_shared<MergeArgs>();
  auto& o = a->opt;
  CLI::App* s = app.add_subcommand("merge", "Put the swapped face into every frame of a video and write the result");
  s->add_option("-i,--input", o.input, "Destination video or folder of frame images");
  s->add_option("--alignments", o.alignments, "Its alignments file (from facet extract)");
  s->add_option("--faces", o.faces_dir, "Its face set folder (deleted face images are not merged)");
  s->add_option("--model", o.model_dir, "Trained model folder (from facet train)");
  s->add_option("--mask-model", o.mask_model_dir,
                "Mask model folder (from facet mask train), for the XSeg mask modes");
  s->add_option("-o,--output", o.output, "Output video (.mp4, .mkv, .mov, ...) or folder of PNG frames");
  s->add_flag("--png", o.png, "Write PNG frames into --output (resumable) instead of a video");
  s->add_option("--mask-video", a->mask_video, "Also write the merge mask: a video file, or a folder for PNG masks");
  s->add_option("--settings", a->settings_file, "Read merge settings from this JSON file (flags override it; default <model>/merge_settings.json if present)");
  s->add_option("--save-settings", a->save_settings, "Write the effective settings to this JSON file");
  a->mode.opt = s->add_option("--mode", a->mode.value,
                              "original, overlay (default), hist-match, seamless, seamless-hist-match, raw-rgb, raw-predict");
  a->mask_mode.opt = s->add_option("--mask-mode", a->mask_mode.value,
                                   "full, dst, learned-prd, learned-dst, learned-prd*learned-dst (default), "
                                   "learned-prd+learned-dst");
  a->color.opt = s->add_option("--color", a->color.value, "Colour transfer: none, rct (default), lct, mkl, mkl-m, idt, "
                                                          "idt-m, sot-m, mix-m");
  a->erode.opt = s->add_option("--erode", a->erode.value, "Erode (>0) or dilate (<0) the mask, -400..400");
  a->blur.opt = s->add_option("--blur", a->blur.value, "Blur the mask edge, 0..400");
  a->face_scale.opt = s->add_option("--face-scale", a->face_scale.value, "Output face scale, -50..50");
  a->sharpen.opt = s->add_option("--sharpen", a->sharpen.value, "none, box or gaussian, optionally :AMOUNT (box:20)");
  a->sharpen_amount.opt = s->add_option("--sharpen-amount", a->sharpen_amount.value,
                                        "Sharpen amount -100..100 (negative blurs)");
  a->motion_blur.opt = s->add_option("--motion-blur", a->motion_blur.value, "Motion blur power 0..100 (DFL)");
  a->hist_threshold.opt = s->add_option("--hist-threshold", a->hist_threshold.value, "hist-match threshold 0..255");
  a->seed.opt = s->add_option("--seed", a->seed.value, "Seed of idt / sot colour transfer");
  a->smooth.opt = s->add_option("--smooth-landmarks", a->smooth.value,
                                "Average landmarks over +-N frames of each face to cut jitter (0 = off)");
  a->direction.opt = s->add_option("--swap-direction", a->direction.value,
                                   "src: draw the src identity (default); dst: the dst identity (e.g. on a src video)");
  s->add_option("--crf", o.crf, "H.264 quality: 0 lossless .. 51 worst")->capture_default_str()->check(CLI::Range(0, 51));
  s->add_option("--preset", o.preset, "x264 preset (ultrafast .. veryslow)")->capture_default_str();
  a->preview_frame.opt = s->add_option("--preview-frame", a->preview_frame.value,
                                       "Render only this frame (source index) to --out, with the current settings");
  s->add_option("--out", a->preview_out, "The preview PNG for --preview-frame");
  s->add_option("--batch", o.batch, "Faces per model run (0 = 8 on the CPU, 32 on a GPU)")->capture_default_str();
  s->add_option("--threads", o.compose_threads, "Compositing threads (0 = cores - 1)")->capture_default_str();
  s->add_flag("--whole-frame", o.whole_frame, "Composite on whole frames as DFL does (slower; same up to warp rounding)");
  s->add_flag("--cpu", a->cpu, "Run the model on the CPU even when a GPU is present");
  s->add_flag("--force", o.force, "PNG output folder of another merge: delete its frames and start over");
  return [a, &console]() { return run(*a, console); };
}

}  // namespace facet::cli
