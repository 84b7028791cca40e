#include "pipeline/train/pretrain.h"

#include <map>

#include "engine/core/error.h"

namespace facet::train {

std::vector<std::string> parts_reset_after_pretrain(const std::string& archi) {
  if (archi.rfind("liae", 0) == 0) return {"inter_AB", "inter_B"};
  FACET_CHECK(archi.rfind("df", 0) == 0, "pretrain: unknown architecture '", archi, "'");
  return {"inter"};
}

std::vector<std::string> reset_after_pretrain(Context& ctx, models::SaehdModel& model, const models::SaehdOptions& net,
                                              uint64_t seed) {
  const std::vector<std::string> parts = parts_reset_after_pretrain(net.archi);
  // A whole fresh model on a context of its own: its initialisers draw from `seed` exactly as a
  // new model's would, whatever this run's random stream has reached.
  Context fresh_ctx(ctx.device(), seed);
  const auto fresh = models::SaehdModel::create(fresh_ctx, net, nn::LayerInit{ctx.device(), DType::F32});
  fresh_ctx.synchronize();  // its stream finished the initialisers before ours reads them
  std::map<std::string, Tensor> init;
  for (auto& [name, t] : fresh->named_parameters()) init[name] = t;
  int64_t reset = 0;
  for (auto& [name, t] : model.named_parameters()) {
    bool in_part = false;
    for (const std::string& p : parts) in_part = in_part || name.rfind(p + "/", 0) == 0;
    if (!in_part) continue;
    const auto it = init.find(name);
    FACET_CHECK(it != init.end() && it->second.shape() == t.shape(), "pretrain: parameter ", name,
                " has no counterpart in a fresh model");
    t.copy_from(ctx, it->second);
    ++reset;
  }
  FACET_CHECK(reset > 0, "pretrain: no parameter of ", parts.front(), " found to re-initialise");
  ctx.synchronize();  // the copies are done before the fresh model is freed
  return parts;
}

}  // namespace facet::train
