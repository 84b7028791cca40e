// The end of DFL's pretraining (SAEHD Model.py L638-646): a model pretrained on a generic face set
// keeps its encoder and decoders, and its inter part(s) start afresh ("inter" for DF, "inter_AB"
// and "inter_B" for LIAE), so the identity-specific code is learned from the real pair. The
// optimizer state is kept, as DFL keeps src_dst_opt; the iteration count restarts at 0 (the
// trainer does that).
#pragma once
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/models/saehd_model.h"

namespace facet::train {

// The parameter-name prefixes re-initialised for an architecture ("df..." or "liae...").
std::vector<std::string> parts_reset_after_pretrain(const std::string& archi);

// Re-initialises those parameters of `model` in place with a fresh model's initial values drawn
// from `seed` (deterministic: the same seed gives the same weights). Returns the parts reset.
std::vector<std::string> reset_after_pretrain(Context& ctx, models::SaehdModel& model, const models::SaehdOptions& net,
                                              uint64_t seed);

}  // namespace facet::train
