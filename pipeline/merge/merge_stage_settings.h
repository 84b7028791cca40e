// What a merge looks like, as one settings file: DeepFaceLab's merger settings (merge_settings.h)
// plus the two choices the frame loop adds, landmark smoothing over time and the swap direction.
// The JSON is one flat object: DFL's keys ("mode", "mask_mode", ...) and "smooth_landmarks",
// "swap_direction". `facet merge --save-settings` writes it, `--settings` reads it, and the
// command line's flags are applied on top as a second, partial object (a patch).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "pipeline/merge/face_swapper.h"
#include "pipeline/merge/merge_settings.h"

namespace facet::merge {

struct MergeStageSettings {
  MergeSettings merge;                         // DFL's defaults
  int smooth_landmarks = 0;                    // +-N frames centred moving average (face_tracks.h); 0..100
  SwapDirection direction = SwapDirection::Src;

  bool operator==(const MergeStageSettings& o) const {
    return merge == o.merge && smooth_landmarks == o.smooth_landmarks && direction == o.direction;
  }
  bool operator!=(const MergeStageSettings& o) const { return !(*this == o); }
};

// Every key, pretty-printed.
std::string to_json(const MergeStageSettings& s, int indent = 2);

// Applies the keys of a JSON object onto `base` (missing keys keep base's values) and validates
// the result. Unknown keys, wrong types and out-of-range values throw (std::invalid_argument
// from the merger's settings, facet::Error for the stage keys), naming the key.
MergeStageSettings apply_settings_json(const MergeStageSettings& base, const std::string& json_text);

// Reads a settings file (all keys optional) over the defaults. Throws facet::Error naming the file.
MergeStageSettings load_merge_stage_settings(const std::string& path);
// Writes the settings atomically.
void save_merge_stage_settings(const std::string& path, const MergeStageSettings& s);

// The settings file a model folder keeps: <model_dir>/merge_settings.json, what `facet swap`
// merged that model with last, so a model carries its look with it.
std::string model_merge_settings_file(const std::string& model_dir);

// Where a merge's settings start, one rule for `facet merge` and `facet swap`: the file named
// (`named_file`, "" for none), else the model's own file when it exists, else DFL's defaults.
struct MergeSettingsBase {
  MergeStageSettings settings;
  std::string file;  // the file read; "" = DFL's defaults
};
MergeSettingsBase load_merge_settings_base(const std::string& named_file, const std::string& model_dir);

// The settings a command line sets, each unset unless its flag was given. The names are the
// settings file's keys.
struct MergeSettingsFlags {
  std::optional<std::string> mode, mask_mode, color_transfer_mode, sharpen_mode, swap_direction;
  std::optional<int> erode_mask_modifier, blur_mask_modifier, output_face_scale, motion_blur_power,
      hist_match_threshold, blursharpen_amount, smooth_landmarks;
  std::optional<uint64_t> random_seed;
};

// The given flags applied over `base` as a patch (apply_settings_json). Throws facet::Error naming
// the setting that is out of range or unknown.
MergeStageSettings apply_settings_flags(const MergeStageSettings& base, const MergeSettingsFlags& flags);

}  // namespace facet::merge
