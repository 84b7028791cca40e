// The merge stage's parts: face tracks (linking, the smoothing filter, DFL motion vectors), the
// stage settings file (round trip, patches, refusals, where a merge's settings start, the command
// line's flags over them), and the model runner against the model's own forwards (the mask-only
// branch included).
#include <cmath>
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include <fstream>

#include "engine/core/error.h"
#include "pipeline/merge/face_swapper.h"
#include "pipeline/merge/face_tracks.h"
#include "pipeline/merge/merge_stage_settings.h"
#include "pipeline/train/model_folder.h"
#include "test_merge_stage_support.h"

namespace facet::testing {
namespace {

using merge::FrameFaces;
using merge::MergeStageSettings;

faces::Landmarks face_at(double x, double y, double s = 100.0) {
  return place_face(synthetic_face_template(), s, 0.0, faces::Point(x, y));
}

faces::Alignments track_alignments(const std::vector<std::vector<faces::Landmarks>>& frames,
                                   const std::vector<int64_t>& indices = {}) {
  faces::Alignments al;
  for (size_t i = 0; i < frames.size(); ++i) {
    faces::FrameAlignments fa;
    fa.frame = indices.empty() ? int64_t(i) : indices[i];
    for (size_t k = 0; k < frames[i].size(); ++k) {
      faces::AlignedFace f;
      f.face_index = int(k);
      f.landmarks = frames[i][k];
      fa.faces.push_back(f);
    }
    al.frames.push_back(fa);
  }
  return al;
}

TEST(MergeTracks, MovingAverageRemovesJitterKeepsLinearMotionAndTrackEnds) {
  // Constant velocity (4, 1) px/frame with +-1.5 px alternating jitter on x.
  std::vector<std::vector<faces::Landmarks>> frames;
  for (int i = 0; i < 9; ++i) frames.push_back({face_at(100 + 4 * i + (i % 2 ? 1.5 : -1.5), 50 + i)});
  merge::FaceTrackOptions o;
  o.smooth_radius = 0;
  const FrameFaces raw = merge::build_frame_faces(track_alignments(frames), o);
  o.smooth_radius = 2;
  const FrameFaces sm = merge::build_frame_faces(track_alignments(frames), o);
  ASSERT_EQ(sm.size(), 9u);
  for (int i = 0; i < 9; ++i) {
    const faces::Point& p = sm.at(i)[0].landmarks[30];
    const faces::Point& q = raw.at(i)[0].landmarks[30];
    EXPECT_EQ(q, frames[size_t(i)][0][30]);  // radius 0 leaves them alone
    const int r = std::min({2, i, 8 - i});
    double mean_jitter = 0;  // the average of the jitter over the window
    for (int j = i - r; j <= i + r; ++j) mean_jitter += (j % 2 ? 1.5 : -1.5);
    mean_jitter /= (2 * r + 1);
    EXPECT_NEAR(p.x, frames[size_t(i)][0][30].x - (i % 2 ? 1.5 : -1.5) + mean_jitter, 1e-9) << i;
    EXPECT_NEAR(p.y, frames[size_t(i)][0][30].y, 1e-9) << i;  // linear motion is kept exactly
    if (i >= 2 && i <= 6) EXPECT_LE(std::abs(mean_jitter), 0.31) << i;
    EXPECT_EQ(sm.at(i)[0].track, sm.at(0)[0].track);
  }
  EXPECT_EQ(sm.at(0)[0].landmarks[0], frames[0][0][0]);  // ends keep their own landmarks
  EXPECT_EQ(sm.at(8)[0].landmarks[0], frames[8][0][0]);
}

TEST(MergeTracks, MotionVectorsAsDfl) {
  std::vector<std::vector<faces::Landmarks>> frames;
  for (int i = 0; i < 4; ++i) frames.push_back({face_at(100 + 3 * i, 80 - 4 * i)});  // right and up
  const FrameFaces f = merge::build_frame_faces(track_alignments(frames));
  EXPECT_EQ(f.at(0)[0].motion_power, 0.0);  // no previous frame
  EXPECT_EQ(f.at(3)[0].motion_power, 0.0);  // no next frame
  for (int i : {1, 2}) {
    EXPECT_NEAR(f.at(i)[0].motion_power, 10.0, 1e-6);                               // |(6, -8)|
    EXPECT_NEAR(f.at(i)[0].motion_deg, -std::atan2(-8.0, 6.0) * 180 / M_PI, 1e-6);  // up = positive degrees
  }
  // The anchor is the centre of DFL's 256 px full-face crop.
  const faces::Affine m = faces::get_transform_mat(frames[1][0], 256, faces::FaceType::Full);
  const faces::Point a = faces::transform_point(merge::motion_anchor(frames[1][0]), m);
  EXPECT_NEAR(a.x, 127, 1e-6);
  EXPECT_NEAR(a.y, 127, 1e-6);
}

TEST(MergeTracks, FacesLinkByPositionAndGapsBreakTracks) {
  // Two faces whose face_index order swaps between frames; frame 3 is missing from the alignments.
  std::vector<std::vector<faces::Landmarks>> frames = {
      {face_at(50, 50), face_at(400, 50)},
      {face_at(404, 52), face_at(54, 52)},
      {face_at(58, 54), face_at(408, 54)},
      {face_at(62, 56), face_at(412, 56)},
  };
  const FrameFaces f = merge::build_frame_faces(track_alignments(frames, {0, 1, 2, 4}));
  const int left = f.at(0)[0].track, right = f.at(0)[1].track;
  EXPECT_NE(left, right);
  EXPECT_EQ(f.at(1)[1].track, left);
  EXPECT_EQ(f.at(1)[0].track, right);
  EXPECT_EQ(f.at(2)[0].track, left);
  EXPECT_NE(f.at(4)[0].track, left);  // frame 3 was never processed: a new track
  EXPECT_NE(f.at(4)[1].track, right);
  // A face that jumps further than half its size starts a new track too.
  const FrameFaces j = merge::build_frame_faces(track_alignments({{face_at(50, 50)}, {face_at(250, 50)}}));
  EXPECT_NE(j.at(0)[0].track, j.at(1)[0].track);
  EXPECT_THROW(merge::build_frame_faces(track_alignments({{faces::Landmarks(5)}})), Error);
}

TEST(MergeStageSettings, JsonRoundTripPatchesAndRefusals) {
  MergeStageSettings s;
  EXPECT_EQ(s.merge, merge::MergeSettings{});
  s.merge.mode = merge::MergeMode::Seamless;
  s.merge.erode_mask_modifier = -30;
  s.smooth_landmarks = 3;
  s.direction = merge::SwapDirection::Dst;
  EXPECT_EQ(merge::apply_settings_json(MergeStageSettings{}, merge::to_json(s)), s);

  // A patch changes only what it names; DFL's integer ids work for the merger's keys.
  const MergeStageSettings p = merge::apply_settings_json(s, R"({"mask_mode": 0, "smooth_landmarks": 0})");
  EXPECT_EQ(p.merge.mask_mode, merge::MaskMode::Full);
  EXPECT_EQ(p.smooth_landmarks, 0);
  EXPECT_EQ(p.merge.mode, merge::MergeMode::Seamless);
  EXPECT_EQ(p.direction, merge::SwapDirection::Dst);

  ScratchDir dir("merge_settings");
  merge::save_merge_stage_settings(dir.file("s.json"), s);
  EXPECT_EQ(merge::load_merge_stage_settings(dir.file("s.json")), s);

  auto msg = [&](const std::string& j) {
    try {
      merge::apply_settings_json(s, j);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg(R"({"smooth_landmarks": -1})").find("smooth_landmarks"), std::string::npos);
  EXPECT_NE(msg(R"({"swap_direction": "sideways"})").find("swap direction"), std::string::npos);
  EXPECT_NE(msg(R"({"erode_mask_modifier": 999})").find("erode_mask_modifier"), std::string::npos);
  EXPECT_NE(msg(R"({"colour": "rct"})").find("colour"), std::string::npos);
  EXPECT_NE(msg("[1]").find("JSON object"), std::string::npos);
  try {
    merge::load_merge_stage_settings(dir.file("missing.json"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.json"), std::string::npos);
  }
}

// The one rule of `facet merge` and `facet swap`: the named file, else the model's own, else DFL's.
TEST(MergeStageSettings, BaseIsTheNamedFileElseTheModelsElseDefaults) {
  ScratchDir dir("merge_settings_base");
  const std::string model = dir.file("model");
  std::filesystem::create_directories(model);
  EXPECT_EQ(merge::model_merge_settings_file(model), model + "/merge_settings.json");
  merge::MergeSettingsBase none = merge::load_merge_settings_base("", model);
  EXPECT_EQ(none.file, "");
  EXPECT_EQ(none.settings, MergeStageSettings{});
  EXPECT_EQ(merge::load_merge_settings_base("", "").file, "");  // no model folder: the defaults

  MergeStageSettings kept;
  kept.merge.erode_mask_modifier = 20;
  merge::save_merge_stage_settings(merge::model_merge_settings_file(model), kept);
  const merge::MergeSettingsBase beside = merge::load_merge_settings_base("", model);
  EXPECT_EQ(beside.file, merge::model_merge_settings_file(model));
  EXPECT_EQ(beside.settings, kept);

  MergeStageSettings named;
  named.smooth_landmarks = 4;
  merge::save_merge_stage_settings(dir.file("named.json"), named);
  const merge::MergeSettingsBase chosen = merge::load_merge_settings_base(dir.file("named.json"), model);
  EXPECT_EQ(chosen.file, dir.file("named.json"));
  EXPECT_EQ(chosen.settings, named);  // the model's file is not merged in
  EXPECT_THROW(merge::load_merge_settings_base(dir.file("missing.json"), model), Error);

  // The model's own file, present but broken: refused with its name, not silently replaced by defaults.
  { std::ofstream(merge::model_merge_settings_file(model)) << "{ not json"; }
  try {
    merge::load_merge_settings_base("", model);
    ADD_FAILURE() << "a broken " << merge::model_merge_settings_file(model) << " was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(merge::model_merge_settings_file(model)), std::string::npos) << e.what();
  }
}

TEST(MergeStageSettings, FlagsChangeOnlyWhatIsGiven) {
  MergeStageSettings base;
  base.merge.mode = merge::MergeMode::Seamless;
  base.merge.blur_mask_modifier = 40;
  base.direction = merge::SwapDirection::Dst;
  EXPECT_EQ(merge::apply_settings_flags(base, {}), base);

  merge::MergeSettingsFlags f;
  f.mask_mode = "full";
  f.color_transfer_mode = "idt";
  f.sharpen_mode = "box";
  f.blursharpen_amount = 15;
  f.random_seed = 12345678901234ull;
  f.smooth_landmarks = 2;
  f.swap_direction = "src";
  const MergeStageSettings s = merge::apply_settings_flags(base, f);
  EXPECT_EQ(s.merge.mode, merge::MergeMode::Seamless);  // not given: the base's
  EXPECT_EQ(s.merge.blur_mask_modifier, 40);
  EXPECT_EQ(s.merge.mask_mode, merge::MaskMode::Full);
  EXPECT_EQ(s.merge.color_transfer, merge::ColorTransferMode::Idt);
  EXPECT_EQ(s.merge.sharpen_mode, merge::SharpenMode::Box);
  EXPECT_EQ(s.merge.blursharpen_amount, 15);
  EXPECT_EQ(s.merge.random_seed, 12345678901234ull);
  EXPECT_EQ(s.smooth_landmarks, 2);
  EXPECT_EQ(s.direction, merge::SwapDirection::Src);

  // Refusals are facet::Error naming the setting, the merger's own included.
  auto msg = [&](const merge::MergeSettingsFlags& bad) {
    try {
      merge::apply_settings_flags(base, bad);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  merge::MergeSettingsFlags erode;
  erode.erode_mask_modifier = 999;
  EXPECT_NE(msg(erode).find("erode_mask_modifier"), std::string::npos);
  merge::MergeSettingsFlags smooth;
  smooth.smooth_landmarks = -1;
  EXPECT_NE(msg(smooth).find("smooth_landmarks"), std::string::npos);
  merge::MergeSettingsFlags mode;
  mode.mode = "sideways";
  EXPECT_NE(msg(mode).find("mode"), std::string::npos);
}

TEST(MergeFaceSwapper, MatchesTheModelsOwnForwards) {
  ScratchDir dir("merge_swapper");
  const std::string model_dir = make_micro_model(dir.path());
  merge::FaceSwapper sw(model_dir, false);
  EXPECT_EQ(sw.resolution(), 64);
  EXPECT_EQ(sw.face_type(), faces::FaceType::Full);
  EXPECT_EQ(sw.iteration(), 2);
  EXPECT_EQ(sw.device(), "cpu");

  cv::RNG rng(5);
  std::vector<cv::Mat> crops(3);
  for (cv::Mat& c : crops) {
    c.create(64, 64, CV_32FC3);
    rng.fill(c, cv::RNG::UNIFORM, 0.0, 1.0);
  }
  Context ctx(Device::cpu());
  auto model = train::load_trained_model(ctx, model_dir);
  NoGradGuard ng(ctx);
  std::vector<float> host;
  for (const cv::Mat& c : crops) host.insert(host.end(), c.ptr<float>(), c.ptr<float>() + 64 * 64 * 3);
  const Tensor x = Tensor::from_vector(ctx, {3, 64, 64, 3}, host, DType::F32, ctx.device());
  const models::ImageAndMask swap = model->swap(ctx, x), dst = model->reconstruct_dst(ctx, x),
                             src = model->reconstruct_src(ctx, x);

  auto check = [&](const std::vector<merge::SwapPrediction>& p, const models::ImageAndMask& drawn,
                   const models::ImageAndMask* own) {
    ASSERT_EQ(p.size(), 3u);
    const std::vector<float> img = drawn.image.to_float(ctx), msk = drawn.mask.to_float(ctx);
    std::vector<float> own_msk;
    if (own) own_msk = own->mask.to_float(ctx);
    for (int b = 0; b < 3; ++b) {
      ASSERT_EQ(p[size_t(b)].face.type(), CV_32FC3);
      EXPECT_EQ(std::memcmp(p[size_t(b)].face.data, img.data() + b * 64 * 64 * 3, 64 * 64 * 3 * 4), 0) << b;
      EXPECT_EQ(std::memcmp(p[size_t(b)].mask.data, msk.data() + b * 64 * 64, 64 * 64 * 4), 0) << b;
      if (own) EXPECT_EQ(std::memcmp(p[size_t(b)].input_mask.data, own_msk.data() + b * 64 * 64, 64 * 64 * 4), 0) << b;
      else EXPECT_TRUE(p[size_t(b)].input_mask.empty());
    }
  };
  check(sw.predict(crops, merge::SwapDirection::Src, true), swap, &dst);
  check(sw.predict(crops, merge::SwapDirection::Src, false), swap, nullptr);
  check(sw.predict(crops, merge::SwapDirection::Dst, true), dst, &src);
  EXPECT_THROW(sw.predict({cv::Mat(32, 32, CV_32FC3)}, merge::SwapDirection::Src, false), Error);
  EXPECT_THROW(merge::parse_swap_direction("b"), Error);
}

}  // namespace
}  // namespace facet::testing
