// The swap workflow (swap_workflow.h): extract -> train -> merge over a DFL-style workspace, each
// step resumable, each step timed so the command can print what it did and how long it took.
#include "pipeline/swap/swap_workflow.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/read_file.h"
#include "pipeline/extract/extract.h"
#include "pipeline/faces/alignments.h"
#include "pipeline/merge/merge_stage.h"
#include "pipeline/merge/merge_stage_settings.h"
#include "pipeline/mask/mask_apply.h"
#include "pipeline/mask/mask_model.h"
#include "pipeline/train/model_folder.h"
#include "pipeline/train/stop_signal.h"
#include "pipeline/train/trainer.h"
#include "pipeline/video/video_reader.h"
#include "pipeline/video/video_writer.h"

namespace fs = std::filesystem;

namespace facet::swap {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

const char* const kVideoExtensions[] = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v"};

bool has_image_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp") return true;
  }
  return false;
}

// ws/<stem>.<video ext>, else frames in ws/<stem>/ (DFL's layout for an image sequence).
std::string find_workspace_input(const fs::path& ws, const std::string& stem, const std::string& given,
                                 const char* flag) {
  if (!given.empty()) {
    if (!fs::exists(given)) throw Error(std::string("swap: ") + flag + " " + given + " does not exist");
    return given;
  }
  std::string looked;
  for (const char* ext : kVideoExtensions) {
    const fs::path p = ws / (stem + ext);
    if (fs::exists(p)) return p.string();
  }
  if (has_image_files(ws / stem)) return (ws / stem).string();
  throw Error("swap: no " + stem + " video in workspace " + ws.string() + ": put it at " + (ws / (stem + ".mp4")).string() +
              " (or .mkv .mov .avi .webm .m4v, or its frames as images in " + (ws / stem).string() + "/), or pass " +
              flag);
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
    if (!f) throw Error("swap: cannot write " + tmp.string());
  }
  fs::rename(tmp, p);
}

bool newer(const fs::path& a, const fs::path& b) {  // a exists and is at least as new as b
  std::error_code ec;
  if (!fs::exists(a, ec) || !fs::exists(b, ec)) return false;
  return fs::last_write_time(a) >= fs::last_write_time(b);
}

struct StepTimer {
  SwapResult& r;
  std::string name;
  Clock::time_point t0 = Clock::now();
  void done(const std::string& note) { r.steps.push_back({name, since(t0), note}); }
};

void say(const SwapReport& rep, const std::string& s) {
  if (rep.log) rep.log(s);
}

// The face size of an earlier extraction into the same folder (so a resumed swap needs no flag), else 256.
int existing_face_size(const fs::path& alignments) {
  if (!fs::exists(alignments)) return 256;
  const faces::Alignments a = faces::load_alignments(alignments.string());
  return a.face_size > 0 ? a.face_size : 256;
}

// Extracts one video into `out`; returns its alignments file, or "" when stopped.
std::string extract_one(const std::string& video, const std::string& out, int every, const SwapOptions& o,
                        const SwapReport& rep, SwapResult& r, const std::string& step) {
  StepTimer t{r, step};
  extract::ExtractOptions eo;
  eo.input = video;
  eo.output_dir = out;
  eo.assets_dir = o.assets_dir;
  eo.face_type = faces::FaceType::Full;
  eo.face_size = o.face_size > 0 ? o.face_size : existing_face_size(fs::path(out) / extract::alignments_file_name(video));
  eo.jpeg_quality = 92;
  eo.select.every_nth = std::max(1, every);
  eo.use_gpu = !o.cpu;
  eo.should_stop = [] { return train::stop_requested(); };
  say(rep, step + ": " + video + (every > 1 ? " (1 frame in " + std::to_string(every) + ")" : "") + " -> " + out);
  const extract::ExtractResult er = extract::run_extract(eo, [&](const extract::ExtractProgress& p) {
    if (rep.progress) rep.progress(step, p.frames_done + p.frames_resumed, p.frames_expected, p.frames_resumed);
  });
  for (const auto& w : er.warnings) say(rep, "warning: " + w);
  std::string note;
  if (er.frames_processed == 0 && er.frames_resumed > 0) {
    note = fmt("skipped: all %.0f frames already extracted", double(er.frames_resumed));
  } else {
    note = fmt("%.0f frames (%.0f resumed), ", double(er.frames_processed), double(er.frames_resumed)) +
           fmt("%.0f faces, %.1f frames/s on ", double(er.faces_written), er.fps) + er.device;
  }
  say(rep, step + ": " + note);
  t.done(er.stopped ? "stopped" : note);
  if (er.stopped) return "";
  if (er.frames_with_faces == 0 && er.frames_processed > 0 && er.frames_resumed == 0)
    throw Error("swap: no face found in " + video + " (" + std::to_string(er.frames_processed) +
                " frames looked at): is the face large enough and facing the camera?");
  return er.alignments_path;
}

// Trains until the target iteration or the time budget; returns false when the user stopped it.
bool train_step(const SwapOptions& o, bool gpu, const SwapReport& rep, SwapResult& r, bool& trained) {
  StepTimer t{r, "train"};
  trained = false;
  const train::ModelFolder folder(r.model_dir);
  const fs::path spent_file = fs::path(r.model_dir) / "swap_train_seconds.txt";
  const bool timed = o.train_minutes > 0 || o.iterations <= 0;
  const double budget = (o.train_minutes > 0 ? o.train_minutes : 60.0) * 60.0;
  const double spent = read_seconds(spent_file);
  // A model pretrained on a generic face set (facet train --pretrain) meets its pair here: its
  // pretraining ends (inter re-initialised, iteration 0; see pipeline/train/pretrain.h) and it
  // trains on the workspace's faces, so neither its iteration nor its target counts yet.
  const bool ends_pretrain = folder.has_checkpoint() && folder.read_options().settings.pretrain;
  int64_t iteration = 0, target = o.iterations;
  if (folder.has_checkpoint() && !ends_pretrain) {
    iteration = folder.read_state().iteration;
    if (target <= 0) target = folder.read_options().settings.target_iter;
  }
  r.iteration = iteration;
  std::string skip;
  if (ends_pretrain)
    say(rep, "train: the model in " + r.model_dir + " was pretraining: pretraining ends, training on this workspace's faces");
  else if (folder.has_checkpoint() && target > 0 && iteration >= target)
    skip = "skipped: the model is at iteration " + std::to_string(iteration) + ", target " + std::to_string(target);
  else if (folder.has_checkpoint() && timed && spent >= budget)
    skip = fmt("skipped: %.1f of %.1f minutes of training already done", spent / 60.0, budget / 60.0);
  if (!skip.empty()) {
    say(rep, "train: " + skip + " (raise --iters or --train-minutes to train more)");
    t.done(skip);
    return true;
  }
  train::TrainerConfig cfg;
  cfg.src_dir = r.src_faces, cfg.dst_dir = r.dst_faces, cfg.model_dir = r.model_dir;
  cfg.cpu = !gpu;
  if (!folder.has_options()) {  // fixed options only at creation; a resumed model keeps its own
    cfg.request.preset = o.preset.empty() ? (gpu ? "quick96" : "tiny") : o.preset;
    cfg.request.face_type = "f";
    cfg.request.preview_every = gpu ? 500 : 100;
    cfg.request.status_every = gpu ? 100 : 20;
    cfg.request.autosave_min = 5.0;
  }
  cfg.request.pretrain = false;  // swap trains on the pair (no change for a model that never pretrained)
  if (o.iterations > 0) cfg.request.target_iter = o.iterations;
  if (o.batch > 0) cfg.request.batch = o.batch;
  auto budget_hit = std::make_shared<bool>(false);
  cfg.log = [&rep, budget_hit](const std::string& s) {
    if (!s.empty() && s[0] == '[' && rep.status) {  // the periodic "[time][#iteration][ms]..." loss line
      rep.status("train: " + s);
      return;
    }
    say(rep, "train: " + (*budget_hit && s.rfind("stop requested", 0) == 0 ? std::string("time budget reached: saving") : s));
  };
  const double left = budget - spent;
  if (timed) say(rep, fmt("train: %.1f of %.1f minutes of the time budget left", left / 60.0, budget / 60.0));
  // The budget stops the run through the trainer's own stop path (the flag Ctrl-C sets), so it
  // saves a checkpoint and the last preview exactly as on a user's stop.
  auto run_start = std::make_shared<Clock::time_point>(Clock::now());
  cfg.hooks.after_step = [run_start, budget_hit, left, timed](int64_t) {
    if (timed && !*budget_hit && !train::stop_requested() && since(*run_start) >= left) {
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
  r.iteration = tr.iteration;
  const std::string note =
      fmt("iterations %.0f -> %.0f, %.0f ms/iteration", double(tr.start_iteration), double(tr.iteration),
          tr.ms_per_iteration) +
      fmt(", loss src %.4f dst %.4f", tr.last_src_loss, tr.last_dst_loss) + " on " + trainer.context().device().str();
  say(rep, "train: " + note);
  t.done(note);
  return tr.reason == train::StopReason::TargetReached || *budget_hit;
}

// The mask model's masks into both face sets, unless they already hold this model's masks at
// this iteration (a stamp beside the faces records what was applied).
void mask_step(const SwapOptions& o, bool gpu, const SwapReport& rep, SwapResult& r) {
  StepTimer t{r, "mask"};
  Context ctx(gpu ? Device::cuda(0) : Device::cpu());
  const int64_t iteration = train::ModelFolder(r.mask_model_dir).read_state().iteration;
  nlohmann::json want;
  want["mask_model"] = fs::weakly_canonical(r.mask_model_dir).string();
  want["iteration"] = iteration;
  std::string note;
  for (const std::string& dir : {o.src_faces, o.dst_faces}) {
    const fs::path stamp = fs::path(dir) / "mask_applied.json";
    if (fs::exists(stamp) && nlohmann::json::parse(read_text_file(stamp.string()), nullptr, false) == want) {
      note += (note.empty() ? "" : "; ") + dir + " already masked";
      continue;
    }
    const mask::MaskApplyResult a = mask::apply_mask_model(ctx, r.mask_model_dir, dir);
    for (const auto& s : a.skipped) say(rep, "warning: mask: " + s.filename + ": " + s.reason);
    write_string_atomically(stamp.string(), want.dump(1) + "\n");
    note += (note.empty() ? "" : "; ") + fmt("%.0f faces of ", double(a.written)) + dir;
  }
  say(rep, "mask: " + note + " (mask model " + r.mask_model_dir + fmt(", iteration %.0f)", double(iteration)));
  t.done(note);
}

// The merge settings for this run (swap_workflow.h), kept beside the model. The file is only
// rewritten when its content changes, so its time stamp says when the look last changed. With a
// mask model and no settings of the user's yet, the mask mode is XSeg-prd*XSeg-dst, the choice
// DFL users make once their XSeg model is trained.
fs::path settle_merge_settings(const SwapOptions& o, const SwapResult& r, merge::MergeStageSettings& st) {
  const fs::path beside = merge::model_merge_settings_file(r.model_dir);
  st = merge::load_merge_settings_base(o.merge_settings_file, r.model_dir).settings;
  if (!r.mask_model_dir.empty() && o.merge_settings_file.empty() && !fs::exists(beside))
    st.merge.mask_mode = merge::MaskMode::XSegPrdTimesDst;
  bool same = false;
  if (fs::exists(beside)) {
    try {
      same = merge::load_merge_stage_settings(beside.string()) == st;
    } catch (const std::exception&) {
      same = false;
    }
  }
  if (!same) merge::save_merge_stage_settings(beside.string(), st);
  return beside;
}

bool merge_step(const SwapOptions& o, bool gpu, bool trained, const std::string& dst_alignments,
                const SwapReport& rep, SwapResult& r) {
  StepTimer t{r, "merge"};
  merge::MergeStageSettings st;
  const fs::path settings_path = settle_merge_settings(o, r, st);
  const fs::path model_state = train::ModelFolder(r.model_dir).state_path();
  const bool mask_newer =
      !r.mask_model_dir.empty() && !newer(r.result, train::ModelFolder(r.mask_model_dir).state_path());
  if (!o.force_merge && !trained && !mask_newer && newer(r.result, model_state) && newer(r.result, settings_path)) {
    say(rep, "merge: skipped, " + r.result + " is newer than the model and " + settings_path.string());
    t.done("skipped: already done");
    return true;
  }
  merge::MergeStageOptions mo;
  mo.input = r.dst_video;
  mo.alignments = dst_alignments;
  mo.faces_dir = r.dst_faces;
  mo.model_dir = r.model_dir;
  mo.mask_model_dir = r.mask_model_dir;
  mo.output = r.result;
  mo.settings = st;
  mo.use_gpu = gpu;
  mo.crf = 18;
  mo.preset = gpu ? "medium" : "veryfast";
  mo.should_stop = [] { return train::stop_requested(); };
  mo.log = [&rep](const std::string& s) { say(rep, "merge: " + s); };
  mo.progress = [&rep](int64_t done, int64_t total, double) {
    if (rep.progress) rep.progress("merge", done, total, 0);
  };
  say(rep, "merge: " + r.dst_video + " -> " + r.result + " (settings " + settings_path.string() + ")");
  const merge::MergeStageResult mr = merge::run_merge(mo);
  for (const auto& w : mr.warnings) say(rep, "warning: " + w);
  if (mr.stopped) {
    t.done("stopped");
    return false;
  }
  const std::string note = fmt("%.0f frames (%.0f with faces), %.2f frames/s on ", double(mr.frames_written),
                               double(mr.frames_with_faces), mr.fps) + mr.device;
  say(rep, "merge: " + note);
  t.done(note);
  return true;
}

}  // namespace

SwapOptions resolve_swap_paths(const SwapOptions& opt) {
  SwapOptions o = opt;
  const fs::path ws(o.workspace.empty() ? "." : o.workspace);
  o.workspace = ws.string();
  o.src_video = find_workspace_input(ws, "data_src", o.src_video, "--src");
  o.dst_video = find_workspace_input(ws, "data_dst", o.dst_video, "--dst");
  if (o.src_faces.empty()) o.src_faces = (ws / "data_src" / "aligned").string();
  if (o.dst_faces.empty()) o.dst_faces = (ws / "data_dst" / "aligned").string();
  if (o.model_dir.empty()) o.model_dir = (ws / "model").string();
  if (o.mask_model_dir.empty() && mask::is_trained_mask_model((ws / "mask_model").string()))
    o.mask_model_dir = (ws / "mask_model").string();
  if (o.result.empty()) o.result = (ws / "result.mp4").string();
  if (fs::absolute(o.src_faces) == fs::absolute(o.dst_faces))
    throw Error("swap: the source and destination face sets are the same folder: " + o.src_faces);
  return o;
}

SwapResult run_swap(const SwapOptions& opt, const SwapReport& rep) {
  const SwapOptions o = resolve_swap_paths(opt);
  SwapResult r;
  r.workspace = o.workspace, r.src_video = o.src_video, r.dst_video = o.dst_video;
  r.src_faces = o.src_faces, r.dst_faces = o.dst_faces, r.model_dir = o.model_dir;
  r.result = o.result, r.comparison = o.comparison, r.mask_model_dir = o.mask_model_dir;
  const bool gpu = !o.cpu && cuda_available();
  fs::create_directories(o.workspace);
  say(rep, std::string("swap on ") + (gpu ? "the GPU" : "the CPU") + ": " + o.src_video + " -> " + o.dst_video +
               ", workspace " + o.workspace);
  train::StopSignalGuard guard;  // Ctrl-C stops any step cleanly; each keeps what it finished
  const auto stopped = [&r] {
    r.stopped = true;
    return r;
  };
  if (extract_one(o.src_video, o.src_faces, o.src_every, o, rep, r, "extract src").empty() ||
      train::stop_requested())
    return stopped();
  const std::string dst_alignments = extract_one(o.dst_video, o.dst_faces, o.dst_every, o, rep, r, "extract dst");
  if (dst_alignments.empty() || train::stop_requested()) return stopped();
  if (!r.mask_model_dir.empty()) mask_step(o, gpu, rep, r);
  bool trained = false;
  if (!train_step(o, gpu, rep, r, trained)) return stopped();
  train::clear_stop_request();  // the time budget stops training through the stop flag
  if (!merge_step(o, gpu, trained, dst_alignments, rep, r)) return stopped();

  if (!o.comparison.empty()) {
    StepTimer t{r, "comparison"};
    if (newer(o.comparison, o.result)) {
      t.done("skipped: already done");
    } else {
      say(rep, "comparison: " + o.comparison + " (original | swap)");
      write_comparison_video(o.dst_video, o.result, o.comparison);
      t.done("written");
    }
  }
  const fs::path latest = fs::path(train::ModelFolder(o.model_dir).previews_dir()) / "latest.png";
  if (fs::exists(latest)) r.preview = latest.string();
  return r;
}

void write_comparison_video(const std::string& dst, const std::string& result, const std::string& out) {
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

}  // namespace facet::swap
