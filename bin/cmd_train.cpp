// `facet train`: argument parsing for the trainer (pipeline/train/trainer.h). Options not given on
// the command line stay unset, so a resumed model keeps what it was created with; a fixed option
// that differs is refused by the trainer with a message naming it.
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "bin/commands.h"
#include "bin/given_option.h"
#include "engine/core/context.h"
#include "pipeline/train/synthetic_faces.h"
#include "pipeline/train/train_option_table.h"
#include "pipeline/train/trainer.h"

namespace facet::cli {

namespace {

struct TrainArgs {
  std::string src, dst, model, pretrain_faces;
  // One per row of pipeline/train/train_option_table.h: puts the option into the request when given.
  std::vector<std::function<void(train::TrainRequest&)>> given_options;
  bool cpu = false, deterministic = false, dry_run = false, faces_on_host = false;
  int preview_count = 4;
  int synthetic = 0;
  std::string precision = "auto";

  train::TrainRequest request() const {
    train::TrainRequest r;
    for (const auto& put : given_options) put(r);
    return r;
  }
};

// A flag for each model option of the table, bound to a value that remembers whether it was given;
// --pretrain-faces, the face set --pretrain reads, follows --pretrain in the help.
void add_model_options(CLI::App* s, TrainArgs& a) {
  train::for_each_train_option([&](const auto& row) {
    using T = typename std::decay_t<decltype(row)>::value_type;
    auto given = std::make_shared<Given<T>>();
    if constexpr (std::is_same_v<T, bool>) {
      const std::string flag = row.flag;
      given->opt = s->add_flag(flag + ",!--no-" + flag.substr(2), given->value, row.help);
    } else {
      given->opt = s->add_option(row.flag, given->value, row.help);
    }
    if (row.min && row.max) given->opt->check(CLI::Range(*row.min, *row.max));
    if (!row.choices.empty())
      given->opt->check(CLI::IsMember(std::vector<std::string>(row.choices.begin(), row.choices.end())));
    a.given_options.push_back([given, member = row.requested](train::TrainRequest& r) { r.*member = given->get(); });
    if (std::string(row.name) == "pretrain")
      s->add_option("--pretrain-faces", a.pretrain_faces, "The generic face set both sides use while pretraining");
  });
}

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
  add_model_options(s, *a);
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
