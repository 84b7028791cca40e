// `facet video`: frames <-> video with audio, cuts and a description (pipeline/tools/video_tools.h;
// docs/cli.md). extract: a video to numbered frame images; build: frame images to an H.264 video,
// frame rate and audio from a reference video; cut: re-encode a range with its audio; info: fps,
// frames, duration, size, rotation, audio.
#include <cstdio>
#include <memory>

#include "bin/commands.h"
#include "bin/frame_range_option.h"
#include "engine/core/error.h"
#include "pipeline/extract/extract.h"
#include "pipeline/tools/video_tools.h"
#include "pipeline/train/stop_signal.h"
#include "pipeline/video/ffmpeg_log.h"
#include "pipeline/video/frame_source.h"

namespace facet::cli {

namespace {

struct VideoArgs {
  tools::FrameExportOptions ex;
  tools::BuildVideoOptions build;
  tools::CutVideoOptions cut;
  std::string ex_start, ex_end, cut_start, cut_end, fps, info_input;
  bool no_audio = false, json = false;
  CLI::App *extract = nullptr, *build_cmd = nullptr, *cut_cmd = nullptr, *info = nullptr;
};

std::string rate_error(const std::string& v) {
  try {
    tools::parse_frame_rate(v);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const std::vector<std::string> kX264Presets = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                                "medium",    "slow",      "slower",   "veryslow", "placebo"};

// Feeds the progress line and turns Ctrl-C into an error between frames, so a video being
// written is removed (it is still under its temporary name) instead of left half-finished.
tools::ProgressFn progress_to(ConsoleProgress& line, const char* what) {
  return [&line, what](int64_t done, int64_t total) {
    if (train::stop_requested()) throw Error(std::string("interrupted; ") + what);
    line.set_total(total);
    line.update(done);
  };
}

void print_warnings(Console& console, const std::vector<std::string>& ws) {
  for (const auto& w : ws) console.warn(w);
}

}  // namespace

Action add_video(CLI::App& app, Console& console) {
  auto a = std::make_shared<VideoArgs>();
  CLI::App* v = app.add_subcommand("video", "Video tools: frames <-> video (with audio), cut, info");
  v->require_subcommand(1);

  a->extract = v->add_subcommand("extract", "Write the frames of a video as numbered images (000123.png = frame 123)");
  a->extract->add_option("-i,--input", a->ex.input, "Video file")->required();
  a->extract->add_option("-o,--output", a->ex.output_dir, "Folder for the frame images (created)")->required();
  a->extract->add_option("--every", a->ex.select.every_nth, "Keep every Nth frame")->capture_default_str()->check(
      CLI::PositiveNumber);
  add_frame_range_options(a->extract, a->ex_start, a->ex_end);
  a->extract->add_option("--format", a->ex.format, "Image format")->capture_default_str()->check(
      CLI::IsMember({"png", "jpg", "jpeg"}));
  a->extract->add_option("--jpeg-quality", a->ex.jpeg_quality, "JPEG quality")->capture_default_str()->check(
      CLI::Range(1, 100));
  a->extract->add_flag("--force", a->ex.force, "Replace the images already in the output folder");

  a->build_cmd = v->add_subcommand("build", "Encode a folder of frame images (name order) as an H.264 video");
  a->build_cmd->add_option("-i,--input", a->build.input_dir, "Folder of frame images")->required();
  a->build_cmd->add_option("-o,--output", a->build.output, "Video file (.mp4, .mkv, .mov)")->required();
  a->build_cmd->add_option("--fps", a->fps, "Frame rate (25, 29.97, 30000/1001); default: the "
                                                        "reference's, else 25")->check(rate_error);
  a->build_cmd->add_option("--reference", a->build.reference, "Video whose frame rate and audio to use");
  a->build_cmd->add_option("--audio-offset", a->build.audio_offset,
                           "Seconds into the reference's audio that go with the first frame")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  a->build_cmd->add_flag("--no-audio", a->no_audio, "Do not copy the reference's audio");
  a->build_cmd->add_option("--crf", a->build.crf, "x264 quality: 0 lossless .. 51 worst")->capture_default_str()->check(
      CLI::Range(0, 51));
  a->build_cmd->add_option("--preset", a->build.preset, "x264 preset (ultrafast .. veryslow)")
      ->capture_default_str()
      ->check(CLI::IsMember(kX264Presets));

  a->cut_cmd = v->add_subcommand("cut", "Re-encode a range of a video, with its audio");
  a->cut_cmd->add_option("-i,--input", a->cut.input, "Video file")->required();
  a->cut_cmd->add_option("-o,--output", a->cut.output, "Video file (.mp4, .mkv, .mov)")->required();
  add_frame_range_options(a->cut_cmd, a->cut_start, a->cut_end, true);
  a->cut_cmd->add_flag("--no-audio", a->no_audio, "Leave the audio out");
  a->cut_cmd->add_option("--crf", a->cut.crf, "x264 quality: 0 lossless .. 51 worst")->capture_default_str()->check(
      CLI::Range(0, 51));
  a->cut_cmd->add_option("--preset", a->cut.preset, "x264 preset (ultrafast .. veryslow)")
      ->capture_default_str()
      ->check(CLI::IsMember(kX264Presets));

  a->info = v->add_subcommand("info", "Frame rate, frames, duration, size, rotation and audio of a video");
  a->info->add_option("-i,--input", a->info_input, "Video file or folder of frame images")->required();
  a->info->add_flag("--json", a->json, "Print JSON");

  return [a, &console]() {
    video::set_ffmpeg_log_level(video::FfmpegLogLevel::Error);  // no encoder statistics, FFmpeg's errors as warnings
    train::StopSignalGuard stop_guard;
    if (a->info->parsed()) {
      const video::VideoInfo info = video::open_frame_source(a->info_input)->info();
      console.result(a->json ? tools::video_info_json(info) : tools::format_video_info(info));
      return 0;
    }
    if (a->extract->parsed()) {
      auto& o = a->ex;
      if (!a->ex_start.empty()) extract::apply_range_bound(a->ex_start, false, o.select);
      if (!a->ex_end.empty()) extract::apply_range_bound(a->ex_end, true, o.select);
      const auto line = console.progress("video extract", 0, "frames");
      const tools::FrameExportResult r =
          tools::export_frames(o, progress_to(*line, "the frames written so far are kept"));
      line->finish(r.frames);
      print_warnings(console, r.warnings);
      char text[1024];
      if (r.frames == 0) {
        std::snprintf(text, sizeof text, "the selection picked no frame of %s (%lld frames, %.2f s)", o.input.c_str(),
                      static_cast<long long>(r.info.frame_count), r.info.duration);
        console.error(text);
        return 1;
      }
      std::snprintf(text, sizeof text, "%lld frames (%lld..%lld) of %s written to %s in %.1f s",
                    static_cast<long long>(r.frames), static_cast<long long>(r.first_index),
                    static_cast<long long>(r.last_index), o.input.c_str(), o.output_dir.c_str(), r.seconds);
      console.result(text);
      return 0;
    }
    if (a->build_cmd->parsed()) {
      auto& o = a->build;
      if (!a->fps.empty()) o.fps = tools::parse_frame_rate(a->fps);
      o.audio = !a->no_audio;
      const auto line = console.progress("video build", 0, "frames");
      const tools::BuildVideoResult r = tools::build_video(o, progress_to(*line, "no video written"));
      line->finish(r.frames);
      print_warnings(console, r.warnings);
      char text[1024];
      std::snprintf(text, sizeof text, "%s: %lld frames, %dx%d, %.3f fps (%lld/%lld), %s, %s in %.1f s",
                    o.output.c_str(), static_cast<long long>(r.frames), r.width, r.height, r.fps.value(),
                    static_cast<long long>(r.fps.num), static_cast<long long>(r.fps.den), r.encoder.c_str(),
                    r.audio ? ("audio from " + o.reference).c_str() : "no audio", r.seconds);
      console.result(text);
      return 0;
    }
    if (a->cut_cmd->parsed()) {
      auto& o = a->cut;
      extract::apply_range_bound(a->cut_start, false, o.select);
      extract::apply_range_bound(a->cut_end, true, o.select);
      o.audio = !a->no_audio;
      const auto line = console.progress("video cut", 0, "frames");
      const tools::CutVideoResult r = tools::cut_video(o, progress_to(*line, "no video written"));
      line->finish(r.frames);
      print_warnings(console, r.warnings);
      char text[1024];
      std::snprintf(text, sizeof text, "%s: %lld frames from %.3f s, %.3f s long, %s, %s in %.1f s", o.output.c_str(),
                    static_cast<long long>(r.frames), r.start, r.duration, r.encoder.c_str(),
                    r.audio ? "with audio" : "no audio", r.seconds);
      console.result(text);
      return 0;
    }
    return 2;
  };
}

}  // namespace facet::cli
