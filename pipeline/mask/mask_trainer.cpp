// The mask model's training loop (see mask_trainer.h).
#include "pipeline/mask/mask_trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <opencv2/core.hpp>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/io/read_file.h"
#include "engine/io/atomic_file.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/losses.h"
#include "engine/optim/optimizer.h"
#include "engine/optim/parameter_buffer.h"
#include "pipeline/common/time_text.h"
#include "pipeline/mask/mask_augment.h"
#include "pipeline/mask/mask_model.h"
#include "pipeline/train/epoch_sampler.h"
#include "pipeline/train/loss_history.h"
#include "pipeline/train/model_folder.h"
#include "pipeline/train/preview.h"
#include "pipeline/train/stop_signal.h"
#include "pipeline/train/training_faces.h"

namespace facet::mask {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const train::LossSeriesNames kLossNames{"train", "preview"};

// All labelled faces of all folders in one host set; hulls when no face has polygons.
train::HostFaces load_labels(const MaskTrainConfig& cfg, const MaskModelRecord& rec, bool* bootstrapped,
                             const std::function<void(const std::string&)>& log) {
  auto load_all = [&](train::FaceMaskSource source) {
    train::HostFaces all;
    all.resolution = rec.net.resolution;
    for (const std::string& dir : cfg.face_dirs) {
      train::LoadFacesOptions lo;
      lo.resolution = rec.net.resolution;
      lo.face_type = rec.face_type;
      lo.threads = cfg.threads;
      lo.mask_source = source;
      train::HostFaces f = train::load_training_faces(dir, lo);
      for (const auto& s : f.skipped) log("skipped " + dir + "/" + s.filename + ": " + s.reason);
      if (source == train::FaceMaskSource::Polygons)
        log(dir + ": " + std::to_string(f.size()) + " labelled faces, " + std::to_string(f.unlabelled) +
            " without polygons left out");
      all.names.insert(all.names.end(), f.names.begin(), f.names.end());
      all.bgr.insert(all.bgr.end(), f.bgr.begin(), f.bgr.end());
      all.mask.insert(all.mask.end(), f.mask.begin(), f.mask.end());
    }
    return all;
  };
  train::HostFaces labelled = load_all(train::FaceMaskSource::Polygons);
  *bootstrapped = labelled.size() == 0;
  if (!*bootstrapped) return labelled;
  train::HostFaces hulls = load_all(train::FaceMaskSource::Hull);
  log("no face has drawn polygons: bootstrapping from the landmark hulls of " + std::to_string(hulls.size()) +
      " faces (label some with `facet mask edit` and train again for a real segmenter)");
  return hulls;
}

MaskModelRecord create_or_read_record(const MaskTrainConfig& cfg, const train::ModelFolder& folder, bool* resumed) {
  if (fs::exists(folder.options_path())) {
    *resumed = folder.has_checkpoint();
    return mask_model_record_from_json(read_text_file(folder.options_path()), folder.options_path());
  }
  FACET_CHECK(!fs::exists(folder.dir()) || fs::is_directory(folder.dir()), folder.dir(), ": exists and is not a folder");
  FACET_CHECK(!fs::exists(folder.dir()) || fs::is_empty(folder.dir()), folder.dir(),
              ": not empty and not a mask model folder (no options.json); give a new or empty folder");
  MaskModelRecord rec;
  rec.net = cfg.net;
  models::validate(rec.net);
  rec.face_type = cfg.face_type;
  rec.created_utc = utc_now();
  fs::create_directories(folder.dir());
  write_string_atomically(folder.options_path(), mask_model_record_to_json(rec));
  *resumed = false;
  return rec;
}

}  // namespace

MaskTrainResult train_mask_model(const MaskTrainConfig& cfg) {
  auto log = cfg.log ? cfg.log : [](const std::string& s) { std::printf("%s\n", s.c_str()), std::fflush(stdout); };
  FACET_CHECK(!cfg.face_dirs.empty(), "mask train: --faces (a face set folder) is required");
  FACET_CHECK(!cfg.model_dir.empty(), "mask train: --model (the mask model folder) is required");
  FACET_CHECK(cfg.batch >= 1 && cfg.batch <= 256, "mask train: batch ", cfg.batch, " outside 1..256");
  FACET_CHECK(cfg.lr > 0 && cfg.lr < 1, "mask train: learning rate ", cfg.lr, " outside (0, 1)");
  for (const std::string& d : cfg.face_dirs) FACET_CHECK(fs::is_directory(d), d, ": face folder does not exist");

  const train::ModelFolder folder(cfg.model_dir);
  MaskTrainResult res;
  res.model_dir = cfg.model_dir;
  const MaskModelRecord rec = create_or_read_record(cfg, folder, &res.resumed);
  const int R = rec.net.resolution;
  train::HostFaces faces = load_labels(cfg, rec, &res.bootstrapped, log);
  FACET_CHECK(faces.size() > 0, "mask train: no usable face in ", cfg.face_dirs.front());
  res.labelled_faces = faces.size();

  const Device dev = !cfg.cpu && cuda_available() ? Device::cuda(0) : Device::cpu();
  Context ctx(dev, cfg.seed);
  models::XSegModel model(ctx, rec.net, nn::LayerInit{dev, DType::F32});
  ParameterBuffer params(ctx, model.parameters());
  RMSpropOptions ro;
  ro.lr = cfg.lr;
  ro.lr_dropout = cfg.lr_dropout;
  RMSprop opt(ctx, params, ro);
  train::EpochSampler sampler(faces.size());
  train::TrainState st;
  train::LossHistory history;
  if (res.resumed) {
    st = folder.read_state();
    train::load_checkpoint(ctx, folder, st, model, opt);
    ctx.set_rng_state(st.rng_seed, st.rng_offset);
    if (st.src_faces == faces.size()) sampler.restore(st.rng_seed, st.src_sampler);
    else log("the labelled faces changed (" + std::to_string(st.src_faces) + " -> " + std::to_string(faces.size()) +
             "): a new epoch starts");
    history.open(folder.loss_csv_path(), st.loss_csv_bytes, kLossNames);
    log("resumed " + cfg.model_dir + " at iteration " + std::to_string(st.iteration));
  } else {
    st.rng_seed = ctx.seed();
    history.open(folder.loss_csv_path(), -1, kLossNames);
    log("new mask model " + cfg.model_dir + ": xseg " + std::to_string(R) + " px, " +
        std::to_string(rec.net.base_channels) + " base channels, " + faces::face_type_name(rec.face_type) + ", " +
        std::to_string(model.num_parameters()) + " parameters, on " + dev.str());
  }
  res.start_iteration = res.iteration = st.iteration;
  st.src_faces = faces.size();

  const MaskSampleSource source{R, faces.bgr.data(), faces.mask.data(), faces.size()};
  const int64_t B = cfg.batch, img_n = static_cast<int64_t>(R) * R * 3, lab_n = static_cast<int64_t>(R) * R;
  Tensor host_img = Tensor::empty(ctx, {B, R, R, 3}, DType::F32, Device::cpu());
  Tensor host_lab = Tensor::empty(ctx, {B, R, R, 1}, DType::F32, Device::cpu());
  Tensor dev_img = dev.is_cpu() ? host_img : Tensor::empty(ctx, {B, R, R, 3}, DType::F32, dev);
  Tensor dev_lab = dev.is_cpu() ? host_lab : Tensor::empty(ctx, {B, R, R, 1}, DType::F32, dev);
  const int64_t P = std::min<int64_t>(cfg.preview_count, faces.size());
  Tensor prev_img = Tensor::empty(ctx, {P, R, R, 3}, DType::F32, Device::cpu());
  Tensor prev_lab = Tensor::empty(ctx, {P, R, R, 1}, DType::F32, Device::cpu());
  for (int64_t i = 0; i < P; ++i)
    plain_mask_sample(source, i, prev_img.data_as<float>() + i * img_n, prev_lab.data_as<float>() + i * lab_n);
  const Tensor prev_img_dev = prev_img.to(ctx, dev), prev_lab_dev = prev_lab.to(ctx, dev);

  double train_seconds = 0, run_seconds = 0;  // since the last save; this run
  int64_t saved_at = -1;
  auto save = [&] {
    st.iteration = res.iteration;
    st.rng_seed = ctx.seed();
    st.rng_offset = ctx.rng_offset();
    st.src_sampler = sampler.state();
    st.loss_csv_bytes = history.bytes();
    st.train_seconds += train_seconds;
    train_seconds = 0;
    train::save_module_checkpoint(ctx, folder, model, opt, st, {{"facet.model", "xseg"}});
    train::write_loss_curve(folder.loss_curve_path(), history.rows(), cfg.target_iter, kLossNames);
    saved_at = res.iteration;
  };
  auto preview = [&] {
    NoGradGuard ng(ctx);
    const Tensor logits = model.logits(ctx, prev_img_dev);
    const float loss = static_cast<float>(
        sum(ctx, sigmoid_cross_entropy(ctx, logits, prev_lab_dev)).to_double(ctx)[0] / static_cast<double>(P));
    const std::vector<train::PreviewRow> rows = {{"face", prev_img.to_float(ctx), P, 3},
                                                 {"label", prev_lab.to_float(ctx), P, 1},
                                                 {"predicted", sigmoid(ctx, logits).to_float(ctx), P, 1}};
    train::write_preview(folder.previews_dir(), train::draw_preview_grid(rows, R, res.iteration), res.iteration);
    return loss;
  };

  std::unique_ptr<train::StopSignalGuard> signals;
  if (cfg.handle_signals) signals = std::make_unique<train::StopSignalGuard>();
  const auto run_start = Clock::now();
  std::vector<int32_t> idx;
  int64_t trained = 0;
  while (true) {
    if (cfg.target_iter > 0 && res.iteration >= cfg.target_iter) break;
    if (cfg.minutes > 0 && std::chrono::duration<double>(Clock::now() - run_start).count() >= cfg.minutes * 60) break;
    if (cfg.handle_signals && train::stop_requested()) {
      res.stopped_by_signal = true;
      break;
    }
    const auto t0 = Clock::now();
    sampler.next(ctx, B, idx);
    const int64_t it = res.iteration;
    cv::parallel_for_(cv::Range(0, static_cast<int>(B)), [&](const cv::Range& r) {
      for (int b = r.start; b < r.end; ++b)
        augment_mask_sample(source, idx[static_cast<size_t>(b)], st.rng_seed, it, b,
                            host_img.data_as<float>() + b * img_n, host_lab.data_as<float>() + b * lab_n);
    }, cfg.threads > 0 ? cfg.threads : -1);
    if (!dev.is_cpu()) dev_img.copy_from(ctx, host_img), dev_lab.copy_from(ctx, host_lab);
    params.zero_grad(ctx);
    Tensor loss = sum(ctx, sigmoid_cross_entropy(ctx, model.logits(ctx, dev_img), dev_lab));
    const float mean_loss = static_cast<float>(loss.to_double(ctx)[0] / static_cast<double>(B));
    if (std::isfinite(mean_loss)) {
      backward(ctx, loss);
      opt.step(ctx);
    } else {
      log("iteration " + std::to_string(it + 1) + ": non-finite loss, update skipped");
    }
    ++res.iteration, ++trained;
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    train_seconds += dt, run_seconds += dt;
    if (std::isnan(res.first_loss)) res.first_loss = mean_loss;
    res.last_loss = mean_loss;
    float preview_loss = NAN;
    if (cfg.preview_every > 0 && res.iteration % cfg.preview_every == 0) preview_loss = preview();
    history.append({{res.iteration, mean_loss, preview_loss}});
    if (res.iteration % 50 == 0 || res.iteration == 1) {
      char line[160];
      std::snprintf(line, sizeof line, "[mask %lld] loss %.4f  %.0f ms/it", static_cast<long long>(res.iteration),
                    mean_loss, 1000.0 * run_seconds / static_cast<double>(trained));
      log(line);
    }
    if (cfg.save_every > 0 && res.iteration % cfg.save_every == 0) save();
    if (cfg.after_step) cfg.after_step(res.iteration);
  }
  res.ms_per_iteration = trained ? 1000.0 * run_seconds / static_cast<double>(trained) : 0;
  if (saved_at != res.iteration && (trained > 0 || !res.resumed)) {
    preview();
    save();
  }
  log("mask model saved at iteration " + std::to_string(res.iteration) + " in " + cfg.model_dir);
  return res;
}

}  // namespace facet::mask
