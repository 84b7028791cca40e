// The options of `facet train`, one row each: the name options.json and the change log use, the
// command-line flag and its help text, the accepted values, where a TrainRequest holds it, and
// whether it is fixed when a model is created (ModelSpec) or changeable on resume (a
// TrainSettings field). bin/cmd_train.cpp builds its flags from this table and train_options.cpp
// reads, writes, applies and compares the options through it, so an option is added here once.
#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/train/train_options.h"

namespace facet::train {

template <typename T>
struct TrainOption {
  using value_type = T;
  const char* name = "";  // options.json key (the "model" or "train" object), change-log and message name
  const char* flag = "";  // on the command line; a switch (bool) also gets its negation --no-...
  const char* help = "";
  std::optional<T> TrainRequest::*requested = nullptr;
  T TrainSettings::*setting = nullptr;      // changeable on resume; null: fixed at creation
  T models::SaehdOptions::*network = nullptr;  // fixed network options: the field they set
  // What the command line accepts besides the type: a closed range and/or a list of values.
  std::optional<double> min, max;
  std::vector<const char*> choices;

  bool fixed() const { return setting == nullptr; }
  TrainOption in_range(double lo, double hi) const {
    TrainOption o = *this;
    o.min = lo, o.max = hi;
    return o;
  }
  TrainOption one_of(std::initializer_list<const char*> values) const {
    TrainOption o = *this;
    o.choices = values;
    return o;
  }
};

// A fixed option; `network` when it is a field of the SAEHD network options.
template <typename T>
TrainOption<T> fixed_option(const char* name, const char* flag, const char* help, std::optional<T> TrainRequest::*req,
                            T models::SaehdOptions::*network = nullptr) {
  TrainOption<T> o;
  o.name = name, o.flag = flag, o.help = help, o.requested = req, o.network = network;
  return o;
}

template <typename T>
TrainOption<T> changeable_option(const char* name, const char* flag, const char* help,
                                 std::optional<T> TrainRequest::*req, T TrainSettings::*setting) {
  TrainOption<T> o;
  o.name = name, o.flag = flag, o.help = help, o.requested = req, o.setting = setting;
  return o;
}

// Calls visit(row) for every option, in the order of the help text and of the change log.
template <typename Visit>
void for_each_train_option(Visit&& visit) {
  using R = TrainRequest;
  using S = TrainSettings;
  using N = models::SaehdOptions;
  // Fixed when the model is created: they shape the network, the optimizer state or the random stream.
  visit(fixed_option("preset", "--preset", "Network preset: tiny, quick96, saehd (default), df128", &R::preset));
  visit(fixed_option("resolution", "--resolution", "Face resolution (multiple of 16 / 32)", &R::resolution,
                     &N::resolution));
  visit(fixed_option("face_type", "--face-type", "h, mf, f, wf or head", &R::face_type, &N::face_type));
  visit(fixed_option("archi", "--archi", "df or liae, optionally -u/-d/-t (e.g. liae-ud)", &R::archi, &N::archi));
  visit(fixed_option("ae_dims", "--ae-dims", "Autoencoder bottleneck width", &R::ae_dims, &N::ae_dims));
  visit(fixed_option("e_dims", "--e-dims", "Encoder width", &R::e_dims, &N::e_dims));
  visit(fixed_option("d_dims", "--d-dims", "Decoder width", &R::d_dims, &N::d_dims));
  visit(fixed_option("d_mask_dims", "--d-mask-dims", "Mask decoder width", &R::d_mask_dims, &N::d_mask_dims));
  visit(fixed_option("optimizer", "--optimizer", "adabelief (default), adam or rmsprop", &R::optimizer));
  visit(fixed_option("seed", "--seed", "Random seed (fixed at creation; default random)", &R::seed));
  // Changeable whenever training resumes; each change is logged with its iteration.
  visit(changeable_option("batch", "--batch", "Faces per side per iteration (default 8 GPU, 4 CPU)", &R::batch,
                          &S::batch));
  visit(changeable_option("target_iter", "--iters", "Target iteration: save and stop there (0 = never)",
                          &R::target_iter, &S::target_iter));
  visit(changeable_option("lr", "--lr", "Learning rate (default 5e-5)", &R::lr, &S::lr));
  visit(changeable_option("lr_dropout", "--lr-dropout", "DFL learning-rate dropout", &R::lr_dropout, &S::lr_dropout));
  visit(changeable_option("clipgrad", "--clipgrad", "Clip the gradient norm at 1", &R::clipgrad, &S::clipgrad));
  visit(changeable_option("random_warp", "--random-warp", "Random warp of the network input (default on)",
                          &R::random_warp, &S::random_warp));
  visit(changeable_option("src_flip", "--src-flip", "Random flips of src faces (default off)", &R::src_flip,
                          &S::src_flip));
  visit(changeable_option("dst_flip", "--dst-flip", "Random flips of dst faces (default on)", &R::dst_flip,
                          &S::dst_flip));
  visit(changeable_option("masked_training", "--masked-training",
                          "Restrict the image loss to the face mask (default on)", &R::masked_training,
                          &S::masked_training));
  visit(changeable_option("eyes_mouth_prio", "--eyes-mouth-prio", "Extra weight on eyes and mouth (default off)",
                          &R::eyes_mouth_prio, &S::eyes_mouth_prio));
  visit(changeable_option("augment", "--augment",
                          "Augmentation (default on; off feeds un-augmented faces, for debugging)", &R::augment,
                          &S::augment));
  visit(changeable_option("random_hsv_power", "--random-hsv-power",
                          "HSV jitter of the src network input, 0..0.3 (default 0 = off)", &R::random_hsv_power,
                          &S::random_hsv_power)
            .in_range(0.0, 0.3));
  visit(changeable_option("ct_mode", "--ct-mode",
                          "Colour transfer of src faces toward random dst faces: none (default) or rct", &R::ct_mode,
                          &S::ct_mode)
            .one_of({"none", "rct"}));
  visit(changeable_option("face_style_power", "--face-style-power",
                          "Pull the swap's face colours toward the dst faces, 0..100 (DFL; default 0 = off; try 0.1-10)",
                          &R::face_style_power, &S::face_style_power)
            .in_range(0.0, 100.0));
  visit(changeable_option("bg_style_power", "--bg-style-power",
                          "Pull the swap's background toward the dst faces', 0..100 (DFL; default 0 = off)",
                          &R::bg_style_power, &S::bg_style_power)
            .in_range(0.0, 100.0));
  visit(changeable_option("uniform_yaw", "--uniform-yaw",
                          "Sample faces uniformly over 128 yaw bins, so profiles come up as often as "
                          "frontal faces (DFL uniform_yaw; default off, on while pretraining)",
                          &R::uniform_yaw, &S::uniform_yaw));
  visit(changeable_option("pretrain", "--pretrain",
                          "DFL pretraining on one generic face set (--pretrain-faces); --no-pretrain ends it: "
                          "inter re-initialised, iteration back to 0",
                          &R::pretrain, &S::pretrain));
  visit(changeable_option("autosave_min", "--autosave-min", "Autosave every N minutes (default 25, 0 = off)",
                          &R::autosave_min, &S::autosave_min));
  visit(changeable_option("backups", "--backups", "Keep the last K backups (default 2, 0 = none)", &R::backups,
                          &S::backups));
  visit(changeable_option("preview_every", "--preview-every", "Preview grid every N iterations (default 200)",
                          &R::preview_every, &S::preview_every));
  visit(changeable_option("status_every", "--status-every", "Status line every N iterations (default 10)",
                          &R::status_every, &S::status_every));
}

}  // namespace facet::train
