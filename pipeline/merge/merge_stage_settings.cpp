// The merge stage's settings file (see merge_stage_settings.h). The merger's own keys are
// validated by merge_settings_from_json, so there is one place that knows their names and ranges.
#include "pipeline/merge/merge_stage_settings.h"

#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/core/range_check.h"
#include "engine/io/atomic_file.h"
#include "engine/io/read_file.h"

namespace facet::merge {

using json = nlohmann::json;

std::string to_json(const MergeStageSettings& s, int indent) {
  json j = json::parse(to_json(s.merge, -1));
  j["smooth_landmarks"] = s.smooth_landmarks;
  j["swap_direction"] = to_string(s.direction);
  return j.dump(indent);
}

MergeStageSettings apply_settings_json(const MergeStageSettings& base, const std::string& json_text) {
  json patch;
  try {
    patch = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw Error(std::string("merge settings: not valid JSON: ") + e.what());
  }
  FACET_CHECK(patch.is_object(), "merge settings: expected a JSON object, got ", patch.dump());
  MergeStageSettings s = base;
  json merger = json::parse(to_json(base.merge, -1));
  for (const auto& [key, v] : patch.items()) {
    if (key == "smooth_landmarks") {
      FACET_CHECK(v.is_number_integer(), "merge setting smooth_landmarks must be an integer, got ", v.dump());
      const long long n = v.get<long long>();
      check_range<long long>("merge setting smooth_landmarks", n, 0, 100);
      s.smooth_landmarks = int(n);
    } else if (key == "swap_direction") {
      FACET_CHECK(v.is_string(), "merge setting swap_direction must be \"src\" or \"dst\", got ", v.dump());
      s.direction = parse_swap_direction(v.get<std::string>());
    } else {
      merger[key] = v;
    }
  }
  s.merge = merge_settings_from_json(merger.dump());
  return s;
}

MergeStageSettings load_merge_stage_settings(const std::string& path) {
  const std::string text = read_text_file(path);
  try {
    return apply_settings_json(MergeStageSettings{}, text);
  } catch (const std::exception& e) {
    throw Error(path + ": " + e.what());
  }
}

void save_merge_stage_settings(const std::string& path, const MergeStageSettings& s) {
  write_string_atomically(path, to_json(s) + "\n");
}

std::string model_merge_settings_file(const std::string& model_dir) {
  return (std::filesystem::path(model_dir) / "merge_settings.json").string();
}

MergeSettingsBase load_merge_settings_base(const std::string& named_file, const std::string& model_dir) {
  MergeSettingsBase b;
  if (!named_file.empty()) {
    b.file = named_file;
  } else if (!model_dir.empty() && std::filesystem::exists(model_merge_settings_file(model_dir))) {
    b.file = model_merge_settings_file(model_dir);
  }
  if (!b.file.empty()) b.settings = load_merge_stage_settings(b.file);
  return b;
}

MergeStageSettings apply_settings_flags(const MergeStageSettings& base, const MergeSettingsFlags& flags) {
  json patch = json::object();
  auto put = [&](const char* key, const auto& value) {
    if (value) patch[key] = *value;
  };
  put("mode", flags.mode);
  put("mask_mode", flags.mask_mode);
  put("color_transfer_mode", flags.color_transfer_mode);
  put("erode_mask_modifier", flags.erode_mask_modifier);
  put("blur_mask_modifier", flags.blur_mask_modifier);
  put("output_face_scale", flags.output_face_scale);
  put("motion_blur_power", flags.motion_blur_power);
  put("hist_match_threshold", flags.hist_match_threshold);
  put("random_seed", flags.random_seed);
  put("smooth_landmarks", flags.smooth_landmarks);
  put("swap_direction", flags.swap_direction);
  put("sharpen_mode", flags.sharpen_mode);
  put("blursharpen_amount", flags.blursharpen_amount);
  try {
    return apply_settings_json(base, patch.dump());
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // the merger's own settings errors (std::invalid_argument)
    throw Error(e.what());
  }
}

}  // namespace facet::merge
