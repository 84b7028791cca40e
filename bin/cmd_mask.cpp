// `facet mask`: learned face masks (pipeline/mask/; docs/masks.md). edit: draw the labels in a
// browser; train: the XSeg segmenter from labelled faces (resumable, like `facet train`);
// apply: its masks into each face's metadata; remove: take them out again.
#include <cstdio>
#include <memory>

#include "bin/commands.h"
#include "engine/core/context.h"
#include "pipeline/faces/face_type.h"
#include "pipeline/mask/mask_apply.h"
#include "pipeline/mask/mask_editor.h"
#include "pipeline/mask/mask_trainer.h"

namespace facet::cli {

namespace {

struct MaskArgs {
  mask::MaskTrainConfig train;
  std::string face_type = "wf";
  std::string model, faces;
  int batch = 8, port = 0;
  bool cpu = false;
  CLI::App *edit = nullptr, *train_cmd = nullptr, *apply = nullptr, *remove = nullptr;
};

int report(Console& console, const mask::MaskApplyResult& r, const std::string& what, const std::string& dir) {
  for (const auto& s : r.skipped) console.error(s.filename + ": " + s.reason);
  char line[256];
  std::snprintf(line, sizeof line, "%s: %lld faces in %s (%.1f faces/s)", what.c_str(), static_cast<long long>(r.written),
                dir.c_str(), r.seconds > 0 ? static_cast<double>(r.written) / r.seconds : 0.0);
  console.result(line);
  if (!r.skipped.empty()) {
    console.error(std::to_string(r.skipped.size()) + " face(s) were not changed (listed above)");
    return 1;
  }
  return 0;
}

}  // namespace

Action add_mask(CLI::App& app, Console& console) {
  auto a = std::make_shared<MaskArgs>();
  CLI::App* m = app.add_subcommand("mask", "Learned face masks (XSeg): label in a browser, train a segmenter, apply, remove");
  m->require_subcommand(1);

  a->edit = m->add_subcommand("edit", "Draw include / exclude polygons over the faces in a browser (a page on 127.0.0.1)");
  a->edit->add_option("dir", a->faces, "Face set folder")->required();
  a->edit->add_option("--port", a->port, "Port on 127.0.0.1 (0: a free one)")->capture_default_str()->check(CLI::Range(0, 65535));

  mask::MaskTrainConfig& t = a->train;
  a->train_cmd = m->add_subcommand("train", "Train (or resume) a mask model from faces with drawn polygons");
  a->train_cmd->add_option("--faces", t.face_dirs, "Face set folder(s) with labelled faces (repeat for several)")
      ->required();
  a->train_cmd->add_option("--model", t.model_dir, "Mask model folder (created if new, resumed if it holds one)")
      ->required();
  a->train_cmd->add_option("--resolution", t.net.resolution, "New model: input size, a multiple of 64")
      ->capture_default_str();
  a->train_cmd->add_option("--base-channels", t.net.base_channels, "New model: channels of the first stage")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  a->train_cmd->add_option("--face-type", a->face_type, "New model: face type it segments (f, wf, head)")
      ->capture_default_str();
  a->train_cmd->add_option("--batch", t.batch, "Faces per iteration")->capture_default_str()->check(CLI::Range(1, 256));
  a->train_cmd->add_option("--iters", t.target_iter, "Stop at this iteration (0: no limit)")->capture_default_str();
  a->train_cmd->add_option("--minutes", t.minutes, "Stop after this many minutes of this run (0: no limit)")
      ->capture_default_str();
  a->train_cmd->add_option("--lr", t.lr, "Learning rate (RMSprop)")->capture_default_str();
  a->train_cmd->add_flag("--lr-dropout,!--no-lr-dropout", t.lr_dropout, "DFL's lr_dropout 0.3")->capture_default_str();
  a->train_cmd->add_option("--save-every", t.save_every, "Iterations between checkpoints")->capture_default_str();
  a->train_cmd->add_option("--preview-every", t.preview_every, "Iterations between previews")->capture_default_str();
  a->train_cmd->add_flag("--cpu", t.cpu, "Train on the CPU even when a GPU is present");

  a->apply = m->add_subcommand("apply", "Write a mask model's masks into every face of a face set");
  a->apply->add_option("--model", a->model, "Trained mask model folder")->required();
  a->apply->add_option("--faces", a->faces, "Face set folder")->required();
  a->apply->add_option("--batch", a->batch, "Faces per forward pass")->capture_default_str()->check(CLI::Range(1, 256));
  a->apply->add_flag("--cpu", a->cpu, "Run on the CPU even when a GPU is present");

  a->remove = m->add_subcommand("remove", "Remove the learned masks from every face of a face set");
  a->remove->add_option("--faces", a->faces, "Face set folder")->required();

  return [a, &console]() {
    if (a->edit->parsed()) {
      mask::MaskEditorOptions eo;
      eo.faces_dir = a->faces;
      eo.port = a->port;
      eo.log = [&console](const std::string& line) { console.warn(line); };
      mask::MaskEditorServer server(eo);
      console.result("editing " + std::to_string(server.faces()) + " faces of " + a->faces + " at");
      console.result(server.url());
      console.info("open it in a browser; every save is written at once. Ctrl-C stops the server.");
      server.run();
      console.result(std::to_string(server.saves()) + " saves");
      return 0;
    }
    if (a->train_cmd->parsed()) {
      mask::MaskTrainConfig cfg = a->train;
      cfg.face_type = faces::parse_face_type(a->face_type);
      cfg.log = [&console](const std::string& line) {
        if (!line.empty() && line[0] == '[') console.status(line);
        else console.info(line);
      };
      const mask::MaskTrainResult r = mask::train_mask_model(cfg);
      char line[512];
      std::snprintf(line, sizeof line, "stopped at iteration %lld (%s), %lld faces%s, %.1f ms/iteration; mask model in %s",
                    static_cast<long long>(r.iteration), r.stopped_by_signal ? "signal" : "target reached",
                    static_cast<long long>(r.labelled_faces), r.bootstrapped ? " (hull labels)" : "", r.ms_per_iteration,
                    r.model_dir.c_str());
      console.result(line);
      return 0;
    }
    if (a->apply->parsed()) {
      Context ctx(!a->cpu && cuda_available() ? Device::cuda(0) : Device::cpu());
      const auto bar = console.progress("mask apply", 0, "faces");
      const mask::MaskApplyResult r = mask::apply_mask_model(ctx, a->model, a->faces, a->batch, [&](int64_t done, int64_t total) {
        bar->set_total(total), bar->update(done);
      });
      bar->finish(r.written);
      return report(console, r, "learned masks written", a->faces);
    }
    if (a->remove->parsed()) return report(console, mask::remove_learned_masks(a->faces), "learned masks removed", a->faces);
    return 2;
  };
}

}  // namespace facet::cli
