// `facet model info`: what a model folder (pipeline/train/model_folder.h) holds, read-only:
// architecture, resolution, face type, dims, parameter counts per part and in total, FLOPs per
// image, the iteration of the last checkpoint, training time, the last losses and every option
// with its change history. Counts come from the options alone (engine/models/saehd_stats.h), so
// nothing is allocated and the weights are never loaded.
//
// It reads defensively: a damaged or newer state.json or an unreadable loss history only becomes
// a warning; a malformed options.json still shows the raw values it holds (no counts then).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/models/saehd_stats.h"
#include "pipeline/train/model_folder.h"
#include "pipeline/train/train_options.h"

namespace facet::tools {

struct ModelInfo {
  std::string dir;
  bool record_ok = false;            // options.json parsed and validated
  train::ModelRecord record;
  std::string options_raw;           // options.json as read (shown when it does not parse)
  bool has_state = false, state_ok = false;
  train::TrainState state;
  int64_t iteration = 0;             // from state.json (also when only partly readable); 0 = never saved
  bool weights_present = false;
  int64_t weights_bytes = 0, optimizer_bytes = 0;
  models::SaehdParamCounts params;   // when record_ok
  models::SaehdFlops flops;
  std::vector<std::pair<std::string, int64_t>> part_params;  // encoder, inter(s), decoder(s)
  int64_t loss_rows = 0;
  bool has_last_loss = false;
  int64_t last_loss_iteration = 0;
  double last_src_loss = 0, last_dst_loss = 0;
  int backups = 0, previews = 0;
  std::vector<std::string> warnings;
};

// Throws facet::Error when `dir` is not a folder or has no options.json.
ModelInfo read_model_info(const std::string& dir);

// Human-readable report; `layers` appends the per-layer table of `facet train --dry-run`.
std::string format_model_info(const ModelInfo& m, bool layers = false);
std::string model_info_json(const ModelInfo& m);

}  // namespace facet::tools
