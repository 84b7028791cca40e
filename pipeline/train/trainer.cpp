// The training loop around TrainStep: model folder, resume, saves, previews, status, signals
// (see trainer.h).
#include "pipeline/train/trainer.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "engine/core/error.h"
#include "pipeline/common/time_text.h"
#include "pipeline/faces/face_type.h"
#include "pipeline/train/loss_history.h"
#include "pipeline/train/pretrain.h"
#include "pipeline/train/preview.h"
#include "pipeline/train/stop_signal.h"

namespace facet::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string hms(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--:--";
  const long long s = static_cast<long long>(seconds + 0.5);
  char buf[48];
  if (s >= 86400)
    std::snprintf(buf, sizeof buf, "%lldd %02lld:%02lld:%02lld", s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

}  // namespace

struct Trainer::Impl {
  TrainerConfig cfg;
  ModelFolder folder;
  ModelRecord rec;
  std::unique_ptr<Context> ctx;
  HostFaces src, dst;
  std::unique_ptr<TrainStep> ts;
  TrainState state;  // the last committed checkpoint (iteration = where it was saved)
  int64_t iteration = 0;
  bool resumed = false;
  LossHistory history;
  Tensor prev_src, prev_dst;
  // Timing: training time excludes saves and previews.
  Clock::time_point window_start;
  double train_seconds = 0, ms_ema = 0;
  int64_t run_iters_timed = 0;
  double run_train_seconds = 0;
  TrainResult result;

  explicit Impl(TrainerConfig c) : cfg(std::move(c)), folder(cfg.model_dir) {}

  void log(const std::string& s) {
    if (cfg.log) {
      cfg.log(s);
    } else {
      std::printf("%s\n", s.c_str());
      std::fflush(stdout);
    }
  }

  void read_status(bool print) {
    if (ts->pending() == 0) return;
    const int64_t n = ts->pending();
    TrainStep::Losses l = ts->read_losses();  // the sync point
    const double secs = seconds_since(window_start);
    train_seconds += secs, run_train_seconds += secs, run_iters_timed += n;
    const double ms = secs * 1000.0 / static_cast<double>(n);
    ms_ema = ms_ema == 0 ? ms : 0.7 * ms_ema + 0.3 * ms;
    std::vector<LossRow> rows;
    for (int64_t i = 0; i < n; ++i)
      rows.push_back({iteration - n + 1 + i, l.src[static_cast<size_t>(i)], l.dst[static_cast<size_t>(i)]});
    history.append(rows);
    for (const LossRow& r : rows) {
      if (std::isnan(result.first_src_loss) && std::isfinite(r.src)) result.first_src_loss = r.src, result.first_dst_loss = r.dst;
      if (std::isfinite(r.src) && std::isfinite(r.dst)) result.last_src_loss = r.src, result.last_dst_loss = r.dst;
    }
    if (l.skipped > 0) {
      state.nan_skipped += l.skipped;
      result.nan_skipped += l.skipped;
      std::string which;
      for (const LossRow& r : rows)
        if (!std::isfinite(r.src) || !std::isfinite(r.dst)) which += " " + std::to_string(r.iteration);
      if (l.rolled_back)
        log("warning: non-finite loss at iteration(s)" + which + ": weights and optimizer state rolled back to "
            "iteration " + std::to_string(iteration - n) + " (" + std::to_string(l.skipped) + " updates discarded)");
      else
        log("warning: non-finite loss at iteration(s)" + which + ": update skipped (" + std::to_string(l.skipped) +
            ")");
    }
    if (print) {
      const int64_t B = rec.settings.batch;
      char line[256];
      const LossRow& last = rows.back();
      std::string eta;
      if (rec.settings.target_iter > iteration)
        eta = "  ETA " + hms(static_cast<double>(rec.settings.target_iter - iteration) * ms_ema / 1000.0);
      std::snprintf(line, sizeof line, "[%s][#%06lld][%5.0fms][%7.1f img/s] src %.4f  dst %.4f%s", local_clock_now().c_str(),
                    static_cast<long long>(iteration), ms, 2.0 * B * 1000.0 / ms, last.src, last.dst, eta.c_str());
      log(line);
    }
    window_start = Clock::now();
  }

  void preview() {
    const auto t = Clock::now();
    read_status(false);
    const cv::Mat grid = render_preview(*ctx, ts->model(), prev_src, prev_dst, iteration);
    write_preview(folder.previews_dir(), grid, iteration);
    write_loss_curve(folder.loss_curve_path(), history.rows(), rec.settings.target_iter);
    (void)t;
    window_start = Clock::now();
  }

  void save(bool backup) {
    read_status(false);  // a NaN in the pending window is handled before anything is written
    const auto t = Clock::now();
    TrainState next = state;
    next.iteration = iteration;
    next.rng_seed = ctx->seed();
    next.rng_offset = ctx->rng_offset();
    next.src_sampler = ts->src_sampler().state();
    next.dst_sampler = ts->dst_sampler().state();
    next.src_faces = src.size();
    next.dst_faces = dst.size();
    next.loss_csv_bytes = history.bytes();
    next.train_seconds = train_seconds;
    next.precision = compute_label(*ctx);
    save_checkpoint(*ctx, folder, ts->model(), ts->optimizer(), next, cfg.hooks.on_save_stage);
    state = next;
    ++result.saves;
    write_loss_curve(folder.loss_curve_path(), history.rows(), rec.settings.target_iter);
    std::string where;
    if (backup && rec.settings.backups > 0) where = ", backup " + make_backup(folder, state, rec.settings.backups);
    char msg[160];
    std::snprintf(msg, sizeof msg, "saved iteration %lld (%.1f s)", static_cast<long long>(iteration), seconds_since(t));
    log(msg + where);
    window_start = Clock::now();
  }
};

Trainer::Trainer(TrainerConfig cfg) : p_(std::make_unique<Impl>(std::move(cfg))) {
  Impl& p = *p_;
  FACET_CHECK(!p.cfg.model_dir.empty(), "train: --model (the model folder) is required");
  const Device device = (!p.cfg.cpu && cuda_available()) ? Device::cuda(0) : Device::cpu();
  const ComputePlan plan = compute_plan_for(p.cfg.precision, device);  // throws where the device cannot run it
  const bool has_ckpt = p.folder.has_checkpoint();
  bool ends_pretrain = false;
  if (p.folder.has_options()) {
    const ModelRecord stored = p.folder.read_options();
    const TrainState st = has_ckpt ? p.folder.read_state() : TrainState{};
    p.rec = resume_model_record(stored, p.cfg.request, st.iteration);
    if (has_ckpt) p.state = st, p.resumed = true;
    ends_pretrain = has_ckpt && pretraining_ends(stored, p.rec);
  } else {
    FACET_CHECK(!has_ckpt, p.cfg.model_dir, ": has state.json but no options.json; refusing to guess the model");
    p.rec = new_model_record(p.cfg.request, device);
  }
  p.ctx = std::make_unique<Context>(device, p.rec.spec.seed);
  p.ctx->deterministic = p.cfg.deterministic;
  plan.apply(*p.ctx);  // mixed precision: the layers cast f32 masters (engine/ops/cast.h) or the CPU convs multiply in bf16

  LoadFacesOptions lo;
  lo.resolution = p.rec.spec.net.resolution;
  lo.face_type = faces::parse_face_type(p.rec.spec.net.face_type);
  if (p.rec.settings.pretrain) {
    // DFL's pretraining: one generic face set feeds both sides.
    FACET_CHECK(!p.cfg.pretrain_dir.empty(), "train: this model is pretraining: give the generic face set with "
                "--pretrain-faces DIR (or end pretraining with --no-pretrain and give --src and --dst)");
    p.src = load_training_faces(p.cfg.pretrain_dir, lo);
    for (const auto& s : p.src.skipped) p.log("skipped pretrain face " + s.filename + ": " + s.reason);
    p.dst = p.src;
  } else {
    for (auto [dir, out, side] : {std::tuple{&p.cfg.src_dir, &p.src, "src"}, std::tuple{&p.cfg.dst_dir, &p.dst, "dst"}}) {
      FACET_CHECK(!dir->empty(), "train: --", side, " (a face set folder) is required");
      // Only the source side: dst faces are what the model sees at merge, backdrop and all.
      lo.fill_outside_mask = p.cfg.fill_src_outside_mask && p.rec.settings.masked_training && std::string(side) == "src";
      *out = load_training_faces(*dir, lo);
      for (const auto& s : out->skipped) p.log(std::string("skipped ") + side + " face " + s.filename + ": " + s.reason);
      if (out->learned_masks > 0)
        p.log(std::string(side) + " faces: " + std::to_string(out->learned_masks) + " of " +
              std::to_string(out->size()) + " train under their stored learned mask, the rest under the landmark hull");
    }
  }

  TrainStepOptions so;
  so.faces_on_host = p.cfg.faces_on_host;
  so.nan_check = p.cfg.nan_check;
  so.loss_window = p.rec.settings.status_every;
  p.ts = std::make_unique<TrainStep>(*p.ctx, p.rec, p.src, p.dst, so);
  p.ts->on_batch = p.cfg.hooks.on_batch;

  if (p.resumed) {
    FACET_CHECK(p.state.rng_seed == p.rec.spec.seed, p.folder.state_path(), ": random seed ", p.state.rng_seed,
                " differs from options.json's ", p.rec.spec.seed);
    try {
      load_checkpoint(*p.ctx, p.folder, p.state, p.ts->model(), p.ts->optimizer());
    } catch (const Error& e) {
      throw Error(detail::concat(e.what(), "\n(the checkpoint of iteration ", p.state.iteration, " in ", p.folder.dir(),
                                 " cannot be loaded; earlier ones are in ", p.folder.backups_dir(),
                                 ": copy one's files over the model folder to continue from it)"));
    }
    p.ctx->set_rng_state(p.state.rng_seed, p.state.rng_offset);
    if (ends_pretrain) {
      // A seed of its own for the fresh parts, so the same model ends pretraining the same way.
      const auto parts = reset_after_pretrain(*p.ctx, p.ts->model(), p.rec.spec.net, p.rec.spec.seed ^ 0x9e3779b97f4a7c15ull);
      std::string names;
      for (const std::string& n : parts) names += (names.empty() ? "" : " and ") + n;
      p.log("pretraining ended at iteration " + std::to_string(p.state.iteration) + ": " + names +
            " re-initialised, encoder and decoder(s) kept; the iteration count restarts at 0 (as in DeepFaceLab)");
    } else if (p.state.src_faces == p.src.size() && p.state.dst_faces == p.dst.size()) {
      const bool same = p.ts->src_sampler().restore(p.state.rng_seed, p.state.src_sampler) &
                        p.ts->dst_sampler().restore(p.state.rng_seed, p.state.dst_sampler);
      if (!same) p.log("note: the sampling policy changed (uniform_yaw): new epochs start now");
    } else {
      p.log("note: the face sets changed since the last save (" + std::to_string(p.state.src_faces) + "/" +
            std::to_string(p.state.dst_faces) + " -> " + std::to_string(p.src.size()) + "/" +
            std::to_string(p.dst.size()) + " faces): new epochs start now");
    }
    p.ts->mark_verified();
    p.iteration = ends_pretrain ? 0 : p.state.iteration;
    p.train_seconds = p.state.train_seconds;
  }
  if (ends_pretrain) {
    // The pretraining loss history is kept beside the new one, which starts at iteration 1. The
    // checkpoint of iteration 0 is written before options.json records the end of pretraining:
    // a crash in between repeats this (the same fresh weights), never mixes the two.
    const std::string pre = p.folder.file("loss_history_pretrain.csv");
    std::error_code ec;
    fs::remove(pre, ec);
    fs::rename(p.folder.loss_csv_path(), pre, ec);
    p.history.open(p.folder.loss_csv_path(), -1);
    p.save(false);
    p.folder.write_options(p.rec);
  } else {
    p.folder.write_options(p.rec);
    p.history.open(p.folder.loss_csv_path(), p.resumed ? p.state.loss_csv_bytes : -1);
  }
  p.prev_src = preview_faces(*p.ctx, p.src, p.cfg.preview_count);
  p.prev_dst = preview_faces(*p.ctx, p.dst, p.cfg.preview_count);
  // The face banks hold their own copies now: release the decoded pixels (names stay).
  p.ctx->synchronize();
  for (HostFaces* f : {&p.src, &p.dst}) {
    std::vector<uint8_t>().swap(f->bgr);
    std::vector<float>().swap(f->mask);
    std::vector<float>().swap(f->eyes_mouth);
  }
}

Trainer::~Trainer() = default;

TrainResult Trainer::run() {
  Impl& p = *p_;
  std::unique_ptr<StopSignalGuard> guard;
  if (p.cfg.handle_signals) guard = std::make_unique<StopSignalGuard>();
  const TrainSettings& s = p.rec.settings;
  TrainResult& r = p.result;
  r = TrainResult{};
  r.start_iteration = p.iteration;
  r.resumed = p.resumed;
  r.model_dir = p.folder.dir();
  r.precision = compute_label(*p.ctx);
  {
    const auto& n = p.rec.spec.net;
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "%s %s on %s (%s compute): %s %dpx ae %d e %d d %d m %d, %s lr %g, batch %d per side, %lld src / "
                  "%lld dst faces%s",
                  p.resumed ? "resuming" : "training", p.folder.dir().c_str(), p.ctx->device().str().c_str(),
                  compute_label(*p.ctx).c_str(),
                  n.archi.c_str(), n.resolution, n.ae_dims, n.e_dims, n.d_dims, n.d_mask_dims,
                  p.rec.spec.optimizer.c_str(), s.lr, s.batch, static_cast<long long>(p.src.size()),
                  static_cast<long long>(p.dst.size()),
                  "");
    p.log(buf);
    if (s.pretrain)
      p.log("pretraining on " + p.cfg.pretrain_dir + " (both sides; random warp off, flips and uniform_yaw on, no hsv/ct/lr_dropout); "
            "end it with --no-pretrain and the real --src/--dst");
    const BankPlacement ps = p.ts->src_bank().placement, pd = p.ts->dst_bank().placement;
    if (ps != BankPlacement::Device || pd != BankPlacement::Device)
      p.log(std::string("faces do not fit in device memory: src faces in ") + placement_name(ps) + ", dst faces in " +
            placement_name(pd));
    if (p.resumed) p.log("at iteration " + std::to_string(p.iteration) + (s.target_iter ? ", target " + std::to_string(s.target_iter) : ""));
  }
  const auto autosave_every = std::chrono::duration<double>(s.autosave_min * 60.0);
  auto last_save = Clock::now();
  p.window_start = Clock::now();
  r.reason = StopReason::TargetReached;
  while (true) {
    if (stop_requested()) {
      r.reason = StopReason::Signal;
      r.signal = stop_signal_number();
      break;
    }
    if (s.target_iter > 0 && p.iteration >= s.target_iter) break;
    p.ts->step(p.iteration + 1);
    ++p.iteration;
    if (p.cfg.hooks.after_step) p.cfg.hooks.after_step(p.iteration);
    if (p.ts->pending() >= s.status_every) p.read_status(true);
    if (s.preview_every > 0 && p.iteration % s.preview_every == 0) p.preview();
    if (s.autosave_min > 0 && Clock::now() - last_save >= autosave_every) {
      p.save(true);
      last_save = Clock::now();
    }
  }
  if (r.reason == StopReason::Signal)
    p.log(std::string("stop requested (") + (r.signal == SIGTERM ? "SIGTERM" : "SIGINT") + "): saving");
  p.read_status(true);
  if (p.iteration > p.state.iteration || !p.folder.has_checkpoint()) {  // not saved at this iteration yet
    p.save(true);
    p.preview();
  }
  r.iteration = p.iteration;
  r.ms_per_iteration = p.run_iters_timed ? p.run_train_seconds * 1000.0 / static_cast<double>(p.run_iters_timed) : 0;
  clear_stop_request();
  return r;
}

void Trainer::save() { p_->save(false); }
int64_t Trainer::iteration() const { return p_->iteration; }
Context& Trainer::context() { return *p_->ctx; }
TrainStep& Trainer::step() { return *p_->ts; }
const ModelRecord& Trainer::record() const { return p_->rec; }
const ModelFolder& Trainer::folder() const { return p_->folder; }
const HostFaces& Trainer::src_faces() const { return p_->src; }
const HostFaces& Trainer::dst_faces() const { return p_->dst; }

}  // namespace facet::train
