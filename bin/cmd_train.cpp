// `facet train`: argument parsing for the trainer (pipeline/train/trainer.h). Options not given on
// the command line stay unset, so a resumed model keeps what it was created with; a fixed option
// that differs is refused by the trainer with a message naming it.
#include <cstdio>
#include <memory>
#include <optional>

#include "bin/commands.h"
#include "bin/given_option.h"
#include "engine/core/context.h"
#include "pipeline/train/synthetic_faces.h"
#include "pipeline/train/trainer.h"

namespace facet::cli {

namespace {

struct TrainArgs {
  std::string src, dst, model, pretrain_faces;
  Given<std::string> preset, face_type, archi, optimizer, ct_mode;
  Given<int> resolution, ae_dims, e_dims, d_dims, d_mask_dims, batch, backups;
  Given<int64_t> iters, preview_every, status_every;
  Given<uint64_t> seed;
  Given<double> lr, autosave_min, random_hsv_power, face_style_power, bg_style_power;
  Given<bool> lr_dropout, clipgrad, random_warp, src_flip, dst_flip, masked, eyes_mouth, augment, pretrain, uniform_yaw;
  bool cpu = false, deterministic = false, dry_run = false, faces_on_host = false;
  int preview_count = 4;
  int synthetic = 0;
  std::string precision = "auto";

  train::TrainRequest request() const {
    train::TrainRequest r;
    r.preset = preset.get(), r.face_type = face_type.get(), r.archi = archi.get(), r.optimizer = optimizer.get();
    r.resolution = resolution.get(), r.ae_dims = ae_dims.get(), r.e_dims = e_dims.get(), r.d_dims = d_dims.get();
    r.d_mask_dims = d_mask_dims.get(), r.seed = seed.get();
    r.batch = batch.get(), r.backups = backups.get(), r.target_iter = iters.get();
    r.preview_every = preview_every.get(), r.status_every = status_every.get();
    r.lr = lr.get(), r.autosave_min = autosave_min.get();
    r.lr_dropout = lr_dropout.get(), r.clipgrad = clipgrad.get(), r.random_warp = random_warp.get();
    r.src_flip = src_flip.get(), r.dst_flip = dst_flip.get(), r.masked_training = masked.get();
    r.eyes_mouth_prio = eyes_mouth.get(), r.augment = augment.get();
    r.random_hsv_power = random_hsv_power.get(), r.ct_mode = ct_mode.get();
    r.pretrain = pretrain.get(), r.uniform_yaw = uniform_yaw.get();
    r.face_style_power = face_style_power.get(), r.bg_style_power = bg_style_power.get();
    return r;
  }
};

int dry_run(const TrainArgs& a, Console& console) {
  const Device device = (!a.cpu && cuda_available()) ? Device::cuda(0) : Device::cpu();
  train::ModelRecord rec;
  if (!a.model.empty() && train::ModelFolder(a.model).has_options()) {
    const train::ModelFolder folder(a.model);
    const int64_t it = folder.has_checkpoint() ? folder.read_state().iteration : 0;
    rec = train::resume_model_record(folder.read_options(), a.request(), it);
    console.result("model folder " + a.model + " (iteration " + std::to_string(it) + ")");
  } else {
    rec = train::new_model_record(a.request(), device);
  }
  console.result(train::architecture_summary(rec));
  console.result("dry run: nothing was trained or written");
  return 0;
}

}  // namespace

Action add_train(CLI::App& app, Console& console) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* s = app.add_subcommand("train", "Train (or resume) a SAEHD face-swap model from two face sets");
  s->add_option("--src", a->src, "Face set of the identity to put in (folder)");
  s->add_option("--dst", a->dst, "Face set of the faces to replace (folder)");
  s->add_option("--model", a->model, "Model folder (created if new, resumed if it holds a model)");
  a->preset.opt = s->add_option("--preset", a->preset.value, "Network preset: tiny, quick96, saehd (default), df128");
  a->resolution.opt = s->add_option("--resolution", a->resolution.value, "Face resolution (multiple of 16 / 32)");
  a->face_type.opt = s->add_option("--face-type", a->face_type.value, "h, mf, f, wf or head");
  a->archi.opt = s->add_option("--archi", a->archi.value, "df or liae, optionally -u/-d/-t (e.g. liae-ud)");
  a->ae_dims.opt = s->add_option("--ae-dims", a->ae_dims.value, "Autoencoder bottleneck width");
  a->e_dims.opt = s->add_option("--e-dims", a->e_dims.value, "Encoder width");
  a->d_dims.opt = s->add_option("--d-dims", a->d_dims.value, "Decoder width");
  a->d_mask_dims.opt = s->add_option("--d-mask-dims", a->d_mask_dims.value, "Mask decoder width");
  a->optimizer.opt = s->add_option("--optimizer", a->optimizer.value, "adabelief (default), adam or rmsprop");
  a->seed.opt = s->add_option("--seed", a->seed.value, "Random seed (fixed at creation; default random)");
  a->batch.opt = s->add_option("--batch", a->batch.value, "Faces per side per iteration (default 8 GPU, 4 CPU)");
  a->iters.opt = s->add_option("--iters", a->iters.value, "Target iteration: save and stop there (0 = never)");
  a->lr.opt = s->add_option("--lr", a->lr.value, "Learning rate (default 5e-5)");
  a->lr_dropout.opt = s->add_flag("--lr-dropout,!--no-lr-dropout", a->lr_dropout.value, "DFL learning-rate dropout");
  a->clipgrad.opt = s->add_flag("--clipgrad,!--no-clipgrad", a->clipgrad.value, "Clip the gradient norm at 1");
  a->random_warp.opt =
      s->add_flag("--random-warp,!--no-random-warp", a->random_warp.value, "Random warp of the network input (default on)");
  a->src_flip.opt = s->add_flag("--src-flip,!--no-src-flip", a->src_flip.value, "Random flips of src faces (default off)");
  a->dst_flip.opt = s->add_flag("--dst-flip,!--no-dst-flip", a->dst_flip.value, "Random flips of dst faces (default on)");
  a->masked.opt = s->add_flag("--masked-training,!--no-masked-training", a->masked.value,
                              "Restrict the image loss to the face mask (default on)");
  a->eyes_mouth.opt = s->add_flag("--eyes-mouth-prio,!--no-eyes-mouth-prio", a->eyes_mouth.value,
                                  "Extra weight on eyes and mouth (default off)");
  a->augment.opt = s->add_flag("--augment,!--no-augment", a->augment.value,
                               "Augmentation (default on; off feeds un-augmented faces, for debugging)");
  a->random_hsv_power.opt =
      s->add_option("--random-hsv-power", a->random_hsv_power.value,
                    "HSV jitter of the src network input, 0..0.3 (default 0 = off)")
          ->check(CLI::Range(0.0, 0.3));
  a->ct_mode.opt = s->add_option("--ct-mode", a->ct_mode.value,
                                 "Colour transfer of src faces toward random dst faces: none (default) or rct")
                       ->check(CLI::IsMember({"none", "rct"}));
  a->face_style_power.opt =
      s->add_option("--face-style-power", a->face_style_power.value,
                    "Pull the swap's face colours toward the dst faces, 0..100 (DFL; default 0 = off; try 0.1-10)")
          ->check(CLI::Range(0.0, 100.0));
  a->bg_style_power.opt =
      s->add_option("--bg-style-power", a->bg_style_power.value,
                    "Pull the swap's background toward the dst faces', 0..100 (DFL; default 0 = off)")
          ->check(CLI::Range(0.0, 100.0));
  a->uniform_yaw.opt = s->add_flag("--uniform-yaw,!--no-uniform-yaw", a->uniform_yaw.value,
                                   "Sample faces uniformly over 128 yaw bins, so profiles come up as often as "
                                   "frontal faces (DFL uniform_yaw; default off, on while pretraining)");
  a->pretrain.opt = s->add_flag("--pretrain,!--no-pretrain", a->pretrain.value,
                                "DFL pretraining on one generic face set (--pretrain-faces); --no-pretrain ends it: "
                                "inter re-initialised, iteration back to 0");
  s->add_option("--pretrain-faces", a->pretrain_faces, "The generic face set both sides use while pretraining");
  a->autosave_min.opt = s->add_option("--autosave-min", a->autosave_min.value, "Autosave every N minutes (default 25, 0 = off)");
  a->backups.opt = s->add_option("--backups", a->backups.value, "Keep the last K backups (default 2, 0 = none)");
  a->preview_every.opt = s->add_option("--preview-every", a->preview_every.value, "Preview grid every N iterations (default 200)");
  a->status_every.opt = s->add_option("--status-every", a->status_every.value, "Status line every N iterations (default 10)");
  s->add_option("--preview-count", a->preview_count, "Faces per side in the preview")->capture_default_str();
  s->add_flag("--cpu", a->cpu, "Train on the CPU even when a GPU is present");
  s->add_flag("--deterministic", a->deterministic, "Bit-identical results run to run (and across resume)");
  s->add_flag("--faces-on-host", a->faces_on_host, "GPU: keep the faces in pinned host memory, read by the augmentation kernels (automatic when they do not fit in device memory)");
  s->add_option("--precision", a->precision,
                "Compute precision: auto (bf16 on a GPU, f32 on the CPU), f32 or bf16 (GPU only); weights stay f32")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "f32", "bf16"}));
  s->add_option("--synthetic-faces", a->synthetic,
                "Demo/testing: first write N synthetic faces of two cartoon identities into --src and --dst");
  s->add_flag("--dry-run", a->dry_run, "Print the architecture, parameter counts and FLOPs, then exit");
  return [a, &console]() {
    if (a->dry_run) return dry_run(*a, console);
    // Pretraining reads --pretrain-faces instead of --src / --dst (the trainer checks which one
    // the model's settings need and names what is missing).
    if (a->model.empty() || ((a->src.empty() || a->dst.empty()) && a->pretrain_faces.empty())) {
      console.error("--model and either --src and --dst, or --pretrain-faces, are required (see facet train --help)");
      return 2;
    }
    if (a->synthetic > 0) {
      train::SyntheticFaceSetOptions so;
      so.count = a->synthetic;
      train::write_synthetic_face_set(a->src, train::SyntheticIdentity::A, so);
      train::write_synthetic_face_set(a->dst, train::SyntheticIdentity::B, so);
      console.info("wrote " + std::to_string(a->synthetic) + " synthetic faces each into " + a->src + " and " + a->dst);
    }
    train::TrainerConfig cfg;
    cfg.src_dir = a->src, cfg.dst_dir = a->dst, cfg.model_dir = a->model, cfg.pretrain_dir = a->pretrain_faces;
    cfg.request = a->request();
    cfg.cpu = a->cpu, cfg.deterministic = a->deterministic, cfg.faces_on_host = a->faces_on_host;
    cfg.preview_count = a->preview_count;
    cfg.precision = train::parse_precision(a->precision);
    // The trainer's status line every N iterations ("[12:00:01][#000120][ 250ms][ 32.0 img/s] ...
    // ETA ...") is its progress line: hidden by --quiet, kept in the log. Its warnings are warnings.
    cfg.log = [&console](const std::string& line) {
      if (line.rfind("warning: ", 0) == 0)
        console.warn(line.substr(9));
      else if (!line.empty() && line[0] == '[')
        console.status(line);
      else
        console.info(line);
    };
    train::Trainer trainer(std::move(cfg));
    const train::TrainResult r = trainer.run();
    char line[512];
    std::snprintf(line, sizeof line, "stopped at iteration %lld (%s), %.1f ms/iteration this run; model in %s",
                  static_cast<long long>(r.iteration),
                  r.reason == train::StopReason::Signal ? "signal" : "target reached", r.ms_per_iteration,
                  r.model_dir.c_str());
    console.result(line);
    return 0;
  };
}

}  // namespace facet::cli
