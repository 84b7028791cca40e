// The `facet video` tools (see video_tools.h).
#include "pipeline/tools/video_tools.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <utility>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "engine/core/range_check.h"
#include "pipeline/common/time_text.h"
#include "pipeline/extract/extract.h"
#include "pipeline/video/image_folder.h"
#include "pipeline/video/video_reader.h"
#include "pipeline/video/video_writer.h"

namespace facet::tools {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

// The output is encoded under a hidden temporary name beside it (same folder, so the final rename
// is atomic; same extension, so FFmpeg picks the same container) and renamed into place by
// commit(). Destroyed without commit (an exception), it removes the partial file.
class PartialFile {
 public:
  explicit PartialFile(const std::string& final_path) : final_(final_path) {
    const fs::path p(final_path);
    FACET_CHECK(!p.filename().empty(), final_path, ": not a file name");
    std::error_code ec;
    if (p.has_parent_path() && !fs::exists(p.parent_path(), ec)) fs::create_directories(p.parent_path(), ec);
    tmp_ = (p.parent_path() / ("." + p.stem().string() + ".facet-partial" + p.extension().string())).string();
  }
  ~PartialFile() {
    if (!committed_) {
      std::error_code ec;
      fs::remove(tmp_, ec);
    }
  }
  const std::string& path() const { return tmp_; }
  void commit() {
    std::error_code ec;
    fs::rename(tmp_, final_, ec);
    FACET_CHECK(!ec, final_, ": cannot move the finished video into place (", ec.message(), ")");
    committed_ = true;
  }

 private:
  std::string final_, tmp_;
  bool committed_ = false;
};

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

video::Rational parse_frame_rate(const std::string& text) {
  const std::string what = "frame rate '" + text + "'";
  FACET_CHECK(!text.empty(), "empty frame rate");
  const size_t slash = text.find('/');
  auto integer = [&](const std::string& s) {
    FACET_CHECK(!s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos, what,
                ": expected a rate such as 25, 29.97 or 30000/1001");
    return std::stoll(s);
  };
  video::Rational r;
  if (slash != std::string::npos) {
    r = {integer(text.substr(0, slash)), integer(text.substr(slash + 1))};
  } else {
    const size_t dot = text.find('.');
    if (dot == std::string::npos) {
      r = {integer(text), 1};
    } else {
      const std::string ip = text.substr(0, dot), fp = text.substr(dot + 1);
      FACET_CHECK(fp.size() <= 6, what, ": too many decimals");
      int64_t den = 1;
      for (size_t i = 0; i < fp.size(); ++i) den *= 10;
      r = {(ip.empty() ? 0 : integer(ip)) * den + (fp.empty() ? 0 : integer(fp)), den};
      // NTSC rates are written rounded; what is meant is N*1000/1001.
      for (int base : {24, 30, 48, 60, 120}) {
        const double ntsc = base * 1000.0 / 1001.0;
        if (fp.size() >= 2 && std::fabs(r.value() - ntsc) < 0.006) r = {int64_t(base) * 1000, 1001};
      }
    }
  }
  FACET_CHECK(r.valid(), what, ": must be positive");
  FACET_CHECK(r.value() <= 1000, what, ": more than 1000 frames per second");
  // Reduce, so the container stores the plain form (25/1, not 250/10).
  int64_t a = r.num, b = r.den;
  while (b) a = std::exchange(b, a % b);
  return {r.num / a, r.den / a};
}

std::string frame_image_name(int64_t index, const std::string& ext) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(index));
  return std::string(buf) + "." + ext;
}

FrameExportResult export_frames(const FrameExportOptions& opt, const ProgressFn& progress) {
  const auto t0 = Clock::now();
  FACET_CHECK(!opt.input.empty(), "no input given");
  FACET_CHECK(!opt.output_dir.empty(), "no output folder given");
  const std::string fmt = lower(opt.format) == "jpeg" ? "jpg" : lower(opt.format);
  FACET_CHECK(fmt == "png" || fmt == "jpg", "frame image format must be png or jpg, got '", opt.format, "'");
  check_range("JPEG quality", opt.jpeg_quality, 1, 100);
  FACET_CHECK(!same_file(opt.input, opt.output_dir), opt.output_dir, ": the output folder is the input");

  // Open the input first: a wrong input must not leave an empty output folder behind.
  video::SourceOptions sopt;
  sopt.select = opt.select;
  std::unique_ptr<video::FrameSource> src = video::open_frame_source(opt.input, sopt);
  FrameExportResult r;
  r.info = src->info();

  std::error_code ec;
  if (fs::exists(opt.output_dir, ec)) {
    FACET_CHECK(fs::is_directory(opt.output_dir, ec), opt.output_dir, ": exists and is not a folder");
    const std::vector<std::string> old = video::list_image_files(opt.output_dir);
    if (!old.empty()) {
      FACET_CHECK(opt.force, opt.output_dir, ": already holds ", old.size(),
                  " images; choose an empty folder or use --force to replace them");
      for (const std::string& f : old) {
        fs::remove(fs::path(opt.output_dir) / f, ec);
        FACET_CHECK(!ec, opt.output_dir, "/", f, ": cannot remove (", ec.message(), ")");
      }
    }
  } else {
    fs::create_directories(opt.output_dir, ec);
    FACET_CHECK(!ec, opt.output_dir, ": cannot create the folder (", ec.message(), ")");
  }

  std::vector<int> params;
  if (fmt == "jpg") params = {cv::IMWRITE_JPEG_QUALITY, opt.jpeg_quality};
  else params = {cv::IMWRITE_PNG_COMPRESSION, 3};  // a good size/speed point for video frames
  const int64_t expected = extract::expected_frames(r.info, opt.select);
  video::Frame f;
  while (src->next(f)) {
    const std::string path = (fs::path(opt.output_dir) / frame_image_name(f.index, fmt)).string();
    bool ok = false;
    try {
      ok = cv::imwrite(path, f.image, params);
    } catch (const cv::Exception& e) {
      throw Error(path + ": cannot write the image (" + e.what() + ")");
    }
    FACET_CHECK(ok, path, ": cannot write the image (disk full or no permission?)");
    if (r.first_index < 0) r.first_index = f.index;
    r.last_index = f.index;
    ++r.frames;
    if (progress) progress(r.frames, std::max(expected, r.frames));
  }
  r.warnings = src->warnings();
  r.truncated = src->truncated();
  r.seconds = seconds_since(t0);
  return r;
}

BuildVideoResult build_video(const BuildVideoOptions& opt, const ProgressFn& progress) {
  const auto t0 = Clock::now();
  FACET_CHECK(!opt.input_dir.empty(), "no input folder given");
  FACET_CHECK(!opt.output.empty(), "no output video given");
  FACET_CHECK(fs::is_directory(opt.input_dir), opt.input_dir, ": not a folder of frame images");
  check_range("crf", opt.crf, 0, 51);
  FACET_CHECK(opt.audio_offset >= 0, "audio offset must be >= 0 seconds");
  BuildVideoResult r;
  video::VideoInfo ref;
  if (!opt.reference.empty()) {
    FACET_CHECK(!fs::is_directory(opt.reference), opt.reference, ": the reference must be a video file");
    ref = video::probe_video(opt.reference);
    FACET_CHECK(!same_file(opt.reference, opt.output), opt.output, ": the output is the reference video");
  }
  r.fps = opt.fps.valid() ? opt.fps : (ref.fps.valid() ? ref.fps : video::Rational{25, 1});

  video::SourceOptions sopt;
  sopt.folder_fps = r.fps;
  video::ImageFolderReader src(opt.input_dir, sopt);
  const int64_t total = int64_t(src.files().size());
  video::Frame f;
  FACET_CHECK(src.next(f), opt.input_dir, ": no readable frame image");
  r.width = f.image.cols;
  r.height = f.image.rows;

  video::VideoWriterOptions wopt;
  wopt.fps = r.fps;
  wopt.crf = opt.crf;
  wopt.preset = opt.preset;
  if (opt.audio && !opt.reference.empty()) {
    if (ref.has_audio) {
      wopt.audio_from = opt.reference;
      wopt.audio_start = ref.start_time + opt.audio_offset;
    } else {
      r.warnings.push_back(opt.reference + ": has no audio; the video is written without sound");
    }
  }
  PartialFile out(opt.output);
  {
    video::VideoWriter w(out.path(), r.width, r.height, wopt);
    cv::Mat scaled;
    do {
      if (f.image.cols != r.width || f.image.rows != r.height) {
        cv::resize(f.image, scaled, cv::Size(r.width, r.height), 0, 0, cv::INTER_AREA);
        w.write(scaled);
        ++r.resized;
      } else {
        w.write(f.image);
      }
      ++r.frames;
      if (progress) progress(r.frames, total);
    } while (src.next(f));
    w.finish();
    r.encoder = w.encoder_name();
    r.audio = w.has_audio();
    for (const auto& s : w.warnings()) r.warnings.push_back(s);
  }
  out.commit();
  for (const auto& s : src.warnings()) r.warnings.push_back(s);
  if (r.resized)
    r.warnings.push_back(std::to_string(r.resized) + " frames were not " + std::to_string(r.width) + "x" +
                         std::to_string(r.height) + " (the first frame's size) and were scaled to it");
  r.seconds = seconds_since(t0);
  return r;
}

CutVideoResult cut_video(const CutVideoOptions& opt, const ProgressFn& progress) {
  const auto t0 = Clock::now();
  FACET_CHECK(!opt.input.empty(), "no input video given");
  FACET_CHECK(!opt.output.empty(), "no output video given");
  FACET_CHECK(!fs::is_directory(opt.input), opt.input, ": cut needs a video file, not a folder");
  FACET_CHECK(!same_file(opt.input, opt.output), opt.output, ": the output is the input video");
  check_range("crf", opt.crf, 0, 51);
  FACET_CHECK(opt.select.every_nth == 1, "cut keeps every frame of the range (every_nth must be 1)");
  video::SourceOptions sopt;
  sopt.select = opt.select;
  video::VideoReader src(opt.input, sopt);
  const video::VideoInfo& info = src.info();
  // A range past the end is known from the header; no need to decode the whole file to find out.
  const bool past_end = (info.duration > 0 && opt.select.start_time >= info.duration) ||
                        (info.frame_count_exact && info.frame_count > 0 && opt.select.first_frame >= info.frame_count);
  FACET_CHECK(!past_end, opt.input, ": the range starts after the end of the video (", info.frame_count, " frames, ",
              info.duration, " s)");
  const int64_t expected = extract::expected_frames(info, opt.select);
  video::Frame f;
  FACET_CHECK(src.next(f), opt.input, ": the range selects no frame (the video has ", info.frame_count, " frames, ",
              info.duration, " s)");
  CutVideoResult r;
  r.start = f.time;
  const int64_t first_pts = f.pts;
  video::VideoWriterOptions wopt;
  wopt.fps = info.fps.valid() ? info.fps : video::Rational{25, 1};
  wopt.time_base = info.time_base;  // keep the source's timestamps (variable frame rate too)
  wopt.crf = opt.crf;
  wopt.preset = opt.preset;
  if (opt.audio && info.has_audio) {
    wopt.audio_from = opt.input;
    wopt.audio_start = info.start_time + f.time;  // the audio that played with the first kept frame
  }
  PartialFile out(opt.output);
  int64_t last_pts = first_pts;
  {
    video::VideoWriter w(out.path(), f.image.cols, f.image.rows, wopt);
    do {
      w.write(f.image, f.pts - first_pts);
      last_pts = f.pts;
      ++r.frames;
      if (progress) progress(r.frames, std::max(expected, r.frames));
    } while (src.next(f));
    w.finish();
    r.encoder = w.encoder_name();
    r.audio = w.has_audio();
    for (const auto& s : w.warnings()) r.warnings.push_back(s);
  }
  out.commit();
  for (const auto& s : src.warnings()) r.warnings.push_back(s);
  // The last frame lasts one frame period.
  r.duration = double(last_pts - first_pts) * info.time_base.value() + 1.0 / wopt.fps.value();
  r.seconds = seconds_since(t0);
  return r;
}

std::string format_video_info(const video::VideoInfo& i) {
  char buf[512];
  std::string s;
  std::snprintf(buf, sizeof buf, "file:        %s\n", i.path.c_str());
  s += buf;
  std::snprintf(buf, sizeof buf, "codec:       %s\n", i.codec.c_str());
  s += buf;
  std::snprintf(buf, sizeof buf, "size:        %dx%d", i.width, i.height);
  s += buf;
  if (i.rotation != 0) {
    std::snprintf(buf, sizeof buf, " (stored %dx%d, rotated %d degrees clockwise for display)", i.coded_width,
                  i.coded_height, i.rotation);
    s += buf;
  }
  s += "\n";
  std::snprintf(buf, sizeof buf, "rotation:    %d\n", i.rotation);
  s += buf;
  std::snprintf(buf, sizeof buf, "fps:         %.3f (%lld/%lld)\n", i.fps.value(), static_cast<long long>(i.fps.num),
                static_cast<long long>(i.fps.den));
  s += buf;
  std::snprintf(buf, sizeof buf, "frames:      %lld%s\n", static_cast<long long>(i.frame_count),
                i.frame_count_exact ? "" : " (estimated from duration x fps)");
  s += buf;
  std::snprintf(buf, sizeof buf, "duration:    %.3f s (%s)\n", i.duration, format_duration(i.duration).c_str());
  s += buf;
  std::snprintf(buf, sizeof buf, "audio:       %s\n", i.has_audio ? "yes" : "no");
  s += buf;
  return s;
}

std::string video_info_json(const video::VideoInfo& i) {
  nlohmann::ordered_json j = {{"path", i.path},
                      {"codec", i.codec},
                      {"width", i.width},
                      {"height", i.height},
                      {"coded_width", i.coded_width},
                      {"coded_height", i.coded_height},
                      {"rotation", i.rotation},
                      {"fps", i.fps.value()},
                      {"fps_rational", std::to_string(i.fps.num) + "/" + std::to_string(i.fps.den)},
                      {"frames", i.frame_count},
                      {"frames_exact", i.frame_count_exact},
                      {"duration", i.duration},
                      {"start_time", i.start_time},
                      {"audio", i.has_audio}};
  return j.dump(1) + "\n";
}

}  // namespace facet::tools
