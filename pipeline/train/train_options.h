// What a model folder is trained with, split the way DeepFaceLab splits it: options fixed when
// the model is created (they shape the network, the optimizer state or the random stream) and
// settings a user may change whenever training resumes (batch, learning rate, augmentation and
// loss switches, the target iteration, autosave). Both live in <model>/options.json; every change
// made on resume is recorded there with the iteration it took effect at.
//
// A TrainRequest is what one `facet train` invocation asked for: only the options given on the
// command line are set. Creating a model fills the rest from the preset and the defaults;
// resuming refuses a fixed option that differs from the stored one (naming it) and applies the
// changeable ones.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/device.h"
#include "engine/models/saehd_options.h"

namespace facet::train {

inline constexpr int kModelFormatVersion = 1;

struct ModelSpec {  // fixed at creation
  std::string preset;          // the preset it started from ("" = none); informational
  models::SaehdOptions net;    // validated; its masked_training / eyes_mouth_prio are unused (see TrainSettings)
  std::string optimizer = "adabelief";  // adabelief | adam | rmsprop (the state layout depends on it)
  uint64_t seed = 1;           // the Philox stream's seed
};

struct TrainSettings {  // changeable on resume
  int batch = 8;                  // per side (DFL: 8, or 4 on small GPUs; CPU default 4)
  int64_t target_iter = 0;        // stop (and save) at this iteration; 0 = run until stopped
  double lr = 5e-5;               // DFL SAEHD
  bool lr_dropout = false;        // DFL lr_dropout (keeps ~30% of updates; brings lr_cos 500)
  bool clipgrad = false;          // DFL clipgrad: global norm 1
  bool random_warp = true;
  bool src_flip = false, dst_flip = true;  // DFL random_src_flip / random_dst_flip
  bool masked_training = true;
  bool eyes_mouth_prio = false;
  bool augment = true;            // false: un-augmented batches (network input = target), for debugging
  double random_hsv_power = 0;    // DFL random_hsv_power: HSV jitter of the src network input, 0..0.3 (0 = off)
  std::string ct_mode = "none";   // DFL ct_mode: colour transfer of src faces toward random dst faces (none | rct)
  bool pretrain = false;          // DFL pretrain: both sides from one generic face set (see pretrain_overrides)
  bool uniform_yaw = false;       // DFL uniform_yaw: sample yaw bins uniformly (face_sampler.h)
  double face_style_power = 0;    // DFL face_style_power, 0..100: swap's colour statistics toward dst (src decoder only)
  double bg_style_power = 0;      // DFL bg_style_power, 0..100: swap's background toward the dst target
  double autosave_min = 25;       // DFL Trainer.py; 0 = off
  int backups = 2;                // keep the last K backups in <model>/backups/ (0 = none)
  int64_t preview_every = 200;    // iterations between preview grids (0 = only when saving)
  int64_t status_every = 10;      // iterations between loss reads / status lines
};

struct OptionChange {
  int64_t iteration = 0;
  std::string option, from, to;
};

struct ModelRecord {
  int version = kModelFormatVersion;
  std::string created_utc;
  ModelSpec spec;
  TrainSettings settings;
  std::vector<OptionChange> changes;
};

struct TrainRequest {
  // fixed at creation
  std::optional<std::string> preset, face_type, archi, optimizer;
  std::optional<int> resolution, ae_dims, e_dims, d_dims, d_mask_dims;
  std::optional<uint64_t> seed;
  // changeable
  std::optional<int> batch, backups;
  std::optional<int64_t> target_iter, preview_every, status_every;
  std::optional<double> lr, autosave_min, random_hsv_power, face_style_power, bg_style_power;
  std::optional<std::string> ct_mode;
  std::optional<bool> lr_dropout, clipgrad, random_warp, src_flip, dst_flip, masked_training, eyes_mouth_prio, augment;
  std::optional<bool> pretrain, uniform_yaw;
};

// A new model's record: preset (default "saehd") then the request's options, validated.
// `device` picks the default batch (8 on a GPU, 4 on the CPU); no seed -> a random one.
ModelRecord new_model_record(const TrainRequest& req, Device device);

// The stored record with the request applied: throws facet::Error naming the option when a fixed
// one differs; changed settings are applied and appended to `changes` at `iteration`.
ModelRecord resume_model_record(const ModelRecord& stored, const TrainRequest& req, int64_t iteration);

// Settings checks (batch >= 1, lr > 0, ...): throws facet::Error naming the option.
void validate_settings(const TrainSettings& s);
void check_optimizer_name(const std::string& name);
// "none" or "rct"; DFL's lct, mkl, idt and sot are refused as not implemented.
void check_ct_mode(const std::string& mode);

std::string model_record_to_json(const ModelRecord& r);
ModelRecord model_record_from_json(const std::string& text, const std::string& what);

// The settings a step trains with. In pretrain mode DFL (SAEHD Model.py L229-244) turns random
// warp off, both flips and uniform_yaw on, HSV jitter and the style powers to 0, and does not
// apply lr_dropout;
// facet also turns colour transfer off (both sides come from the same set). The stored settings
// keep the user's choices, which apply again once pretraining ends.
TrainSettings pretrain_overrides(const TrainSettings& s);

// True when this resume ends pretraining (stored on, now off): DFL then restarts the iteration
// count at 0 and re-initialises the inter part(s), keeping encoder and decoders.
inline bool pretraining_ends(const ModelRecord& stored, const ModelRecord& now) {
  return stored.settings.pretrain && !now.settings.pretrain;
}

// Effective SAEHD options for the loss (the network's, with the current loss switches).
models::SaehdOptions loss_options(const ModelRecord& r);

}  // namespace facet::train
