// The `facet train --dry-run` report: layers, parameter counts and FLOPs from the options alone
// (engine/models/saehd_stats.h), so nothing is allocated and any preset can be inspected.
#include <cstdio>
#include <string>

#include "engine/models/saehd_stats.h"
#include "pipeline/train/trainer.h"

namespace facet::train {

namespace {

std::string grouped(int64_t v) {
  std::string s = std::to_string(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

}  // namespace

std::string architecture_summary(const ModelRecord& rec) {
  const models::SaehdOptions& n = rec.spec.net;
  const models::Archi archi = models::parse_archi(n.archi);
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf, "model: SAEHD %s, %d px, face type %s, ae_dims %d, e_dims %d, d_dims %d, d_mask_dims %d%s\n",
                archi.str().c_str(), n.resolution, n.face_type.c_str(), n.ae_dims, n.e_dims, n.d_dims, n.d_mask_dims,
                rec.spec.preset.empty() ? "" : (" (preset " + rec.spec.preset + ")").c_str());
  out += buf;
  std::snprintf(buf, sizeof buf, "optimizer: %s, lr %g%s%s; batch %d per side\n", rec.spec.optimizer.c_str(),
                rec.settings.lr, rec.settings.lr_dropout ? ", lr_dropout" : "", rec.settings.clipgrad ? ", clipgrad" : "",
                rec.settings.batch);
  out += buf;
  const TrainSettings s = pretrain_overrides(rec.settings);
  if (s.pretrain) out += "pretraining: one generic face set for both sides (random_warp off, flips and uniform_yaw on, no hsv/ct/lr_dropout)\n";
  if (s.augment)
    std::snprintf(buf, sizeof buf, "augmentation: random_warp %s, src_flip %s, dst_flip %s, random_hsv_power %g, ct_mode %s%s\n",
                  s.random_warp ? "on" : "off", s.src_flip ? "on" : "off", s.dst_flip ? "on" : "off", s.random_hsv_power,
                  s.ct_mode.c_str(), s.uniform_yaw ? ", uniform_yaw" : "");
  else
    std::snprintf(buf, sizeof buf, "augmentation: off (network input = target), ct_mode %s\n", s.ct_mode.c_str());
  out += buf;
  if (s.face_style_power > 0 || s.bg_style_power > 0) {
    std::snprintf(buf, sizeof buf, "style losses: face_style_power %g, bg_style_power %g\n", s.face_style_power,
                  s.bg_style_power);
    out += buf;
  }

  const std::vector<std::pair<std::string, std::string>> parts =
      archi.is_df() ? std::vector<std::pair<std::string, std::string>>{{"encoder", "encoder"},
                                                                       {"inter", "inter"},
                                                                       {"decoder_src", "decoder"},
                                                                       {"decoder_dst", "decoder"}}
                    : std::vector<std::pair<std::string, std::string>>{
                          {"encoder", "encoder"}, {"inter_AB", "inter_AB"}, {"inter_B", "inter_B"}, {"decoder", "decoder"}};
  out += "\n";
  std::snprintf(buf, sizeof buf, "%-12s %-26s %6s %15s %11s %13s\n", "part", "layer", "kernel", "in -> out", "output",
                "parameters");
  out += buf;
  std::string shown_decoder;
  for (const auto& [part, shape_part] : parts) {
    if (shape_part == "decoder" && !shown_decoder.empty()) {
      std::snprintf(buf, sizeof buf, "%-12s (same layers as %s)\n", part.c_str(), shown_decoder.c_str());
      out += buf;
      continue;
    }
    if (shape_part == "decoder") shown_decoder = part;
    for (const models::LayerShape& l : models::saehd_layer_shapes(n, shape_part)) {
      const std::string k = l.k ? std::to_string(l.k) + "x" + std::to_string(l.k) : "dense";
      const std::string io = std::to_string(l.in) + " -> " + std::to_string(l.out);
      const std::string o = l.k ? std::to_string(l.out_h) + "x" + std::to_string(l.out_w) : "-";
      std::snprintf(buf, sizeof buf, "%-12s %-26s %6s %15s %11s %13s\n", part.c_str(), l.name.c_str(), k.c_str(),
                    io.c_str(), o.c_str(), grouped(l.params()).c_str());
      out += buf;
    }
  }
  const models::SaehdParamCounts pc = models::saehd_param_counts(n);
  out += "\nparameters:\n";
  for (const auto& [part, shape_part] : parts) {
    const int64_t c = shape_part == "encoder" ? pc.encoder : shape_part == "decoder" ? pc.decoder : pc.inter;
    std::snprintf(buf, sizeof buf, "  %-12s %13s\n", part.c_str(), grouped(c).c_str());
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "  %-12s %13s  (%.2fM)\n", "total", grouped(pc.total).c_str(), pc.total / 1e6);
  out += buf;
  const models::SaehdFlops f = models::saehd_flops(n);
  const int B = rec.settings.batch;
  std::snprintf(buf, sizeof buf,
                "FLOPs (2 x MAC of convs and denses): forward %.3f GFLOP/image (encoder %.3f, inter %.3f, decoder image "
                "%.3f, mask %.3f)\n  training %.3f GFLOP/image, %.2f GFLOP/iteration at batch %d per side; swap "
                "(merge) %.3f GFLOP/image\n",
                f.forward_per_image / 1e9, f.encoder / 1e9, f.inter / 1e9, f.decoder_image / 1e9, f.decoder_mask / 1e9,
                f.training_per_image / 1e9, 2.0 * B * f.training_per_image / 1e9, B, f.swap_per_image / 1e9);
  out += buf;
  return out;
}

}  // namespace facet::train
