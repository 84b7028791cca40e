// Merge settings <-> JSON and validation. The names and ranges are DFL's (MergerConfigMasked's
// add_* clamps): a settings file reads like DFL's merger session, and a value DFL would never
// produce is refused with the setting's name instead of being clamped silently.
#include "pipeline/merge/merge_settings.h"

#include <array>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

#include "engine/core/range_check.h"

namespace facet::merge {
namespace {

using json = nlohmann::json;

template <typename E, size_t N>
using NameTable = std::array<std::pair<E, const char*>, N>;

const NameTable<MergeMode, 7> kModeNames = {{{MergeMode::Original, "original"},
                                             {MergeMode::Overlay, "overlay"},
                                             {MergeMode::HistMatch, "hist-match"},
                                             {MergeMode::Seamless, "seamless"},
                                             {MergeMode::SeamlessHistMatch, "seamless-hist-match"},
                                             {MergeMode::RawRgb, "raw-rgb"},
                                             {MergeMode::RawPredict, "raw-predict"}}};
// The XSeg modes (6-9) are not selectable by name or id yet: the merge stage has no face
// segmenter to run. merge_face() takes the segmenter's masks from a caller that has one.
const NameTable<MaskMode, 10> kMaskNames = {{{MaskMode::Full, "full"},
                                             {MaskMode::Dst, "dst"},
                                             {MaskMode::LearnedPrd, "learned-prd"},
                                             {MaskMode::LearnedDst, "learned-dst"},
                                             {MaskMode::LearnedPrdTimesDst, "learned-prd*learned-dst"},
                                             {MaskMode::LearnedPrdPlusDst, "learned-prd+learned-dst"},
                                             {MaskMode::XSegPrd, "XSeg-prd"},
                                             {MaskMode::XSegDst, "XSeg-dst"},
                                             {MaskMode::XSegPrdTimesDst, "XSeg-prd*XSeg-dst"},
                                             {MaskMode::LearnedTimesXSeg, "learned-prd*learned-dst*XSeg-prd*XSeg-dst"}}};
const NameTable<ColorTransferMode, 9> kColorNames = {{{ColorTransferMode::None, "none"},
                                                      {ColorTransferMode::Rct, "rct"},
                                                      {ColorTransferMode::Lct, "lct"},
                                                      {ColorTransferMode::Mkl, "mkl"},
                                                      {ColorTransferMode::MklM, "mkl-m"},
                                                      {ColorTransferMode::Idt, "idt"},
                                                      {ColorTransferMode::IdtM, "idt-m"},
                                                      {ColorTransferMode::SotM, "sot-m"},
                                                      {ColorTransferMode::MixM, "mix-m"}}};
const NameTable<SharpenMode, 3> kSharpenNames = {
    {{SharpenMode::None, "none"}, {SharpenMode::Box, "box"}, {SharpenMode::Gaussian, "gaussian"}}};

template <typename E, size_t N>
std::string name_of(const NameTable<E, N>& table, E e) {
  for (const auto& [v, n] : table)
    if (v == e) return n;
  return "<invalid " + std::to_string(static_cast<int>(e)) + ">";
}

template <typename E, size_t N>
std::string choices(const NameTable<E, N>& table) {
  std::string s;
  for (const auto& [v, n] : table) s += (s.empty() ? "" : ", ") + std::string("\"") + n + "\"";
  return s;
}

[[noreturn]] void bad(const std::string& key, const std::string& what) {
  throw std::invalid_argument("merge settings: \"" + key + "\" " + what);
}

// Strings are DFL's names (case-sensitive, as DFL's dicts); integers are DFL's ids. "None" is
// also accepted for the colour transfer because DFL's ctm_dict spells it that way.
template <typename E, size_t N>
E enum_from_json(const json& v, const std::string& key, const NameTable<E, N>& table) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    for (const auto& [e, n] : table)
      if (s == n || (s == "None" && std::string(n) == "none")) return e;
    bad(key, "has unknown value \"" + s + "\"; expected one of " + choices(table));
  }
  if (v.is_number_integer()) {
    const long long id = v.get<long long>();
    for (const auto& [e, n] : table)
      if (static_cast<long long>(e) == id) return e;
    bad(key, "has unknown id " + std::to_string(id) + "; expected one of " + choices(table));
  }
  bad(key, "must be a string (one of " + choices(table) + ")");
}

void check_setting(const std::string& key, long long v, long long lo, long long hi) {
  if (v < lo || v > hi)
    throw std::invalid_argument("merge settings: " + out_of_range_message("\"" + key + "\"", v, lo, hi));
}

int int_from_json(const json& v, const std::string& key) {
  if (v.is_number_integer()) {
    const long long x = v.get<long long>();
    check_setting(key, x, -1000000, 1000000);
    return static_cast<int>(x);
  }
  if (v.is_number_float()) {  // 10.0 is fine, 10.5 is not: DFL's settings are integers
    const double d = v.get<double>();
    if (d == static_cast<double>(static_cast<long long>(d)) && d >= -1e6 && d <= 1e6)
      return static_cast<int>(d);
  }
  bad(key, "must be an integer, got " + v.dump());
}

template <typename E, size_t N>
void check_enum(const std::string& key, E e, const NameTable<E, N>& table) {
  for (const auto& [v, n] : table)
    if (v == e) return;
  bad(key, "has invalid value " + std::to_string(static_cast<int>(e)) + "; expected one of " + choices(table));
}

}  // namespace

bool MergeSettings::operator==(const MergeSettings& o) const {
  return mode == o.mode && mask_mode == o.mask_mode && color_transfer == o.color_transfer &&
         masked_hist_match == o.masked_hist_match && hist_match_threshold == o.hist_match_threshold &&
         erode_mask_modifier == o.erode_mask_modifier && blur_mask_modifier == o.blur_mask_modifier &&
         motion_blur_power == o.motion_blur_power && output_face_scale == o.output_face_scale &&
         sharpen_mode == o.sharpen_mode && blursharpen_amount == o.blursharpen_amount &&
         image_denoise_power == o.image_denoise_power && bicubic_degrade_power == o.bicubic_degrade_power &&
         color_degrade_power == o.color_degrade_power && random_seed == o.random_seed;
}

std::string to_string(MergeMode m) { return name_of(kModeNames, m); }
std::string to_string(MaskMode m) { return name_of(kMaskNames, m); }

bool uses_learned_dst_mask(MaskMode m) {
  return m == MaskMode::LearnedDst || m == MaskMode::LearnedPrdTimesDst || m == MaskMode::LearnedPrdPlusDst ||
         m == MaskMode::LearnedTimesXSeg;
}
bool uses_xseg_prd_mask(MaskMode m) {
  return m == MaskMode::XSegPrd || m == MaskMode::XSegPrdTimesDst || m == MaskMode::LearnedTimesXSeg;
}
bool uses_xseg_dst_mask(MaskMode m) {
  return m == MaskMode::XSegDst || m == MaskMode::XSegPrdTimesDst || m == MaskMode::LearnedTimesXSeg;
}
std::string to_string(ColorTransferMode m) { return name_of(kColorNames, m); }
std::string to_string(SharpenMode m) { return name_of(kSharpenNames, m); }

void validate(const MergeSettings& s) {
  check_enum("mode", s.mode, kModeNames);
  if (!uses_xseg_prd_mask(s.mask_mode) && !uses_xseg_dst_mask(s.mask_mode)) check_enum("mask_mode", s.mask_mode, kMaskNames);
  check_enum("color_transfer_mode", s.color_transfer, kColorNames);
  check_enum("sharpen_mode", s.sharpen_mode, kSharpenNames);
  check_setting("hist_match_threshold", s.hist_match_threshold, 0, 255);
  check_setting("erode_mask_modifier", s.erode_mask_modifier, -400, 400);
  check_setting("blur_mask_modifier", s.blur_mask_modifier, 0, 400);
  check_setting("motion_blur_power", s.motion_blur_power, 0, 100);
  check_setting("output_face_scale", s.output_face_scale, -50, 50);
  check_setting("blursharpen_amount", s.blursharpen_amount, -100, 100);
  check_setting("image_denoise_power", s.image_denoise_power, 0, 500);
  check_setting("bicubic_degrade_power", s.bicubic_degrade_power, 0, 100);
  check_setting("color_degrade_power", s.color_degrade_power, 0, 100);
}

std::string to_json(const MergeSettings& s, int indent) {
  json j;
  j["mode"] = to_string(s.mode);
  j["mask_mode"] = to_string(s.mask_mode);
  j["color_transfer_mode"] = to_string(s.color_transfer);
  j["masked_hist_match"] = s.masked_hist_match;
  j["hist_match_threshold"] = s.hist_match_threshold;
  j["erode_mask_modifier"] = s.erode_mask_modifier;
  j["blur_mask_modifier"] = s.blur_mask_modifier;
  j["motion_blur_power"] = s.motion_blur_power;
  j["output_face_scale"] = s.output_face_scale;
  j["sharpen_mode"] = to_string(s.sharpen_mode);
  j["blursharpen_amount"] = s.blursharpen_amount;
  j["image_denoise_power"] = s.image_denoise_power;
  j["bicubic_degrade_power"] = s.bicubic_degrade_power;
  j["color_degrade_power"] = s.color_degrade_power;
  j["random_seed"] = s.random_seed;
  return j.dump(indent);
}

MergeSettings merge_settings_from_json(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(std::string("merge settings: not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw std::invalid_argument("merge settings: expected a JSON object, got " + j.dump());

  MergeSettings s;
  for (const auto& [key, v] : j.items()) {
    if (key == "mode") s.mode = enum_from_json(v, key, kModeNames);
    else if (key == "mask_mode") s.mask_mode = enum_from_json(v, key, kMaskNames);
    else if (key == "color_transfer_mode") s.color_transfer = enum_from_json(v, key, kColorNames);
    else if (key == "sharpen_mode") s.sharpen_mode = enum_from_json(v, key, kSharpenNames);
    else if (key == "masked_hist_match") {
      if (!v.is_boolean()) bad(key, "must be true or false, got " + v.dump());
      s.masked_hist_match = v.get<bool>();
    } else if (key == "hist_match_threshold") s.hist_match_threshold = int_from_json(v, key);
    else if (key == "erode_mask_modifier") s.erode_mask_modifier = int_from_json(v, key);
    else if (key == "blur_mask_modifier") s.blur_mask_modifier = int_from_json(v, key);
    else if (key == "motion_blur_power") s.motion_blur_power = int_from_json(v, key);
    else if (key == "output_face_scale") s.output_face_scale = int_from_json(v, key);
    else if (key == "blursharpen_amount") s.blursharpen_amount = int_from_json(v, key);
    else if (key == "image_denoise_power") s.image_denoise_power = int_from_json(v, key);
    else if (key == "bicubic_degrade_power") s.bicubic_degrade_power = int_from_json(v, key);
    else if (key == "color_degrade_power") s.color_degrade_power = int_from_json(v, key);
    else if (key == "random_seed") {
      if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<long long>() >= 0))
        bad(key, "must be a non-negative integer, got " + v.dump());
      s.random_seed = v.get<uint64_t>();
    } else {
      bad(key, "is not a merge setting (known: mode, mask_mode, color_transfer_mode, masked_hist_match, "
               "hist_match_threshold, erode_mask_modifier, blur_mask_modifier, motion_blur_power, "
               "output_face_scale, sharpen_mode, blursharpen_amount, image_denoise_power, "
               "bicubic_degrade_power, color_degrade_power, random_seed)");
    }
  }
  validate(s);
  return s;
}

}  // namespace facet::merge
