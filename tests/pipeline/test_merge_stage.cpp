// The merge stage end to end on a synthetic clip and a micro model (test_merge_stage_support.h):
// video output keeps frame count, fps, timestamps, duration and audio; faceless frames pass
// through bit-exact in PNG output and within a PSNR bound in H.264; bad inputs give clear errors;
// interrupted merges resume (PNG) or start over without leaving a broken file (video); the
// preview renders the same pixels as the full merge.
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "engine/core/error.h"
#include "pipeline/mask/mask_trainer.h"
#include "pipeline/merge/merge_output.h"
#include "test_merge_stage_support.h"

namespace facet::testing {
namespace {

namespace fs = std::filesystem;
using merge::MergeStageOptions;
using merge::MergeStageResult;

class MergeStage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir("merge_stage");
    model_ = new std::string(make_micro_model(dir_->file("train")));
    clip_ = new Clip(make_clip(dir_->file("clip")));
  }
  static void TearDownTestSuite() {
    delete clip_;
    delete model_;
    delete dir_;
  }
  static ScratchDir* dir_;
  static std::string* model_;
  static Clip* clip_;
};
ScratchDir* MergeStage::dir_ = nullptr;
std::string* MergeStage::model_ = nullptr;
Clip* MergeStage::clip_ = nullptr;

// H.264 (crf 18, yuv420p, preset ultrafast) re-encoding of a frame that passed through unchanged
// stays this close to the decoded input: measured 38.8-40.8 dB on this clip (the lowest for frame
// 5, predicted from merged neighbours); 35 dB leaves room for other x264 builds.
constexpr double kPassThroughPsnr = 35.0;

TEST_F(MergeStage, VideoKeepsFramesFpsTimestampsDurationAudio) {
  const std::string out = dir_->file("out.mp4"), mask = dir_->file("mask.mp4");
  MergeStageOptions o = merge_options(*clip_, *model_, out);
  o.mask_output = mask;
  o.settings.merge.mask_mode = merge::MaskMode::Full;  // paste the whole predicted square, as predicted
  o.settings.merge.color_transfer = merge::ColorTransferMode::None;
  const MergeStageResult r = merge::run_merge(o);
  EXPECT_TRUE(r.video);
  EXPECT_EQ(r.frames, kClipFrames);
  EXPECT_EQ(r.frames_written, kClipFrames);
  EXPECT_EQ(r.frames_with_faces, 7);  // frames 2..9 without the deleted face of frame 5
  EXPECT_EQ(r.faces_dropped, 1);
  EXPECT_FALSE(fs::exists(merge::partial_video_path(out)));

  const video::VideoInfo in = video::probe_video(clip_->video), res = video::probe_video(out);
  EXPECT_EQ(res.frame_count, in.frame_count);
  EXPECT_EQ(res.fps.num * in.fps.den, in.fps.num * res.fps.den);
  EXPECT_NEAR(res.duration, in.duration, 1e-3);
  EXPECT_EQ(res.width, kClipW);
  EXPECT_EQ(res.height, kClipH);
  EXPECT_EQ(res.has_audio, clip_->has_audio);
  if (!clip_->has_audio) std::printf("note: no ffmpeg CLI, the clip has no audio to carry over\n");
  EXPECT_EQ(video::probe_video(mask).frame_count, in.frame_count);

  std::vector<double> t_in, t_out;
  const std::vector<cv::Mat> a = decode_all(clip_->video, &t_in), b = decode_all(out, &t_out);
  ASSERT_EQ(a.size(), size_t(kClipFrames));
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(t_out[i], t_in[i], 1e-6) << "frame " << i;
    const double psnr = cv::PSNR(a[i], b[i]);
    if (!clip_frame_merged(int(i))) {
      EXPECT_GE(psnr, kPassThroughPsnr) << "faceless frame " << i;
    } else {  // the middle of the face changed far beyond codec noise (the micro model draws no real face)
      const cv::Rect mid(20 + 7 * (int(i) - 2) + 16, 24 + int(i) % 3 + 16, 32, 32);
      const double face_psnr = cv::PSNR(a[i](mid), b[i](mid));
      EXPECT_LT(face_psnr, kPassThroughPsnr - 10) << "merged frame " << i;
    }
  }
}

TEST_F(MergeStage, PngPassesFacelessFramesThroughBitExact) {
  const std::string out = dir_->file("png"), masks = dir_->file("png_masks");
  MergeStageOptions o = merge_options(*clip_, *model_, out);
  o.mask_output = masks;
  const MergeStageResult r = merge::run_merge(o);
  EXPECT_FALSE(r.video);
  EXPECT_EQ(r.frames_written, kClipFrames);
  const std::vector<cv::Mat> in = decode_all(clip_->video);
  for (int i = 0; i < kClipFrames; ++i) {
    const cv::Mat m = cv::imread(out + "/" + merge::merged_frame_name(i), cv::IMREAD_UNCHANGED);
    const cv::Mat k = cv::imread(masks + "/" + merge::merged_frame_name(i), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(m.empty()) << i;
    ASSERT_EQ(k.type(), CV_8UC1) << i;
    if (clip_frame_merged(i)) {
      EXPECT_FALSE(same_pixels(m, in[size_t(i)])) << "frame " << i << " should carry a merged face";
      EXPECT_GT(cv::countNonZero(k), 100) << i;
      // Outside the mask nothing moved.
      cv::Mat outside = k == 0, diff;
      cv::absdiff(m, in[size_t(i)], diff);
      cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
      EXPECT_EQ(cv::countNonZero(diff & outside), 0) << i;
    } else {
      EXPECT_TRUE(same_pixels(m, in[size_t(i)])) << "faceless frame " << i << " changed";
      EXPECT_EQ(cv::countNonZero(k), 0) << i;
    }
  }
}

// The XSeg mask modes run a mask model on the dst crops and the predicted faces: without one they
// are refused by name; with one (a tiny model bootstrapped from the clip's hulls) the merge mask
// follows the segmenter, not the full square, and nothing outside it moves.
TEST_F(MergeStage, XSegModesRunTheMaskModel) {
  MergeStageOptions o = merge_options(*clip_, *model_, dir_->file("xseg_png"));
  o.mask_output = dir_->file("xseg_masks");
  o.settings.merge.mask_mode = merge::MaskMode::XSegPrdTimesDst;
  try {
    merge::run_merge(o);
    FAIL() << "an XSeg mode without a mask model must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--mask-model"), std::string::npos) << e.what();
  }
  mask::MaskTrainConfig mc;
  mc.face_dirs = {clip_->faces_dir};
  mc.model_dir = dir_->file("mask_model");
  mc.net = {64, 2};
  mc.batch = 2;
  mc.target_iter = 2;
  mc.preview_every = 0;
  mc.handle_signals = false;
  mc.log = [](const std::string&) {};
  mask::train_mask_model(mc);
  o.mask_model_dir = mc.model_dir;
  const MergeStageResult r = merge::run_merge(o);
  EXPECT_EQ(r.frames_written, kClipFrames);
  MergeStageOptions full = merge_options(*clip_, *model_, dir_->file("full_png"));
  full.mask_output = dir_->file("full_masks");
  full.settings.merge.mask_mode = merge::MaskMode::Full;
  merge::run_merge(full);
  const std::vector<cv::Mat> in = decode_all(clip_->video);
  int differing = 0;
  for (int i = 0; i < kClipFrames; ++i) {
    const cv::Mat m = cv::imread(o.output + "/" + merge::merged_frame_name(i), cv::IMREAD_UNCHANGED);
    const cv::Mat k = cv::imread(o.mask_output + "/" + merge::merged_frame_name(i), cv::IMREAD_UNCHANGED);
    const cv::Mat kf = cv::imread(full.mask_output + "/" + merge::merged_frame_name(i), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(m.empty() || k.empty() || kf.empty()) << i;
    differing += cv::norm(k, kf, cv::NORM_INF) > 0;
    cv::Mat outside = k == 0, diff;
    cv::absdiff(m, in[size_t(i)], diff);
    cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
    EXPECT_EQ(cv::countNonZero(diff & outside), 0) << i;
  }
  EXPECT_GT(differing, 0);
}

TEST_F(MergeStage, ModelFaceTypeOrResolutionMismatchIsRefused) {
  // Same weights, but the model folder says it was trained on whole_face crops.
  const std::string wf = dir_->file("model_wf");
  fs::copy(*model_, wf, fs::copy_options::recursive);
  std::string opts = read_text_file(wf + "/options.json");
  const size_t p = opts.find("\"face_type\": \"f\"");
  ASSERT_NE(p, std::string::npos) << opts;
  opts.replace(p, 16, "\"face_type\": \"wf\"");
  std::ofstream(wf + "/options.json", std::ios::binary) << opts;
  std::string msg = error_of([&] { merge::run_merge(merge_options(*clip_, wf, dir_->file("wf.mp4"))); });
  EXPECT_NE(msg.find("whole_face"), std::string::npos) << msg;
  EXPECT_NE(msg.find("full_face"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir_->file("wf.mp4")));

  // A 64 px model on a face set extracted at 48 px.
  const Clip small = make_clip(dir_->file("clip48"), 48);
  msg = error_of([&] { merge::run_merge(merge_options(small, *model_, dir_->file("r.mp4"))); });
  EXPECT_NE(msg.find("resolution 64"), std::string::npos) << msg;
  EXPECT_NE(msg.find("48 px"), std::string::npos) << msg;
  msg = error_of([&] { merge::render_merge_preview(merge_options(small, *model_, ""), 3, dir_->file("p.png")); });
  EXPECT_NE(msg.find("resolution 64"), std::string::npos) << msg;
}

TEST_F(MergeStage, MissingInputsAndUnwritableOutputAreClearErrors) {
  MergeStageOptions o = merge_options(*clip_, *model_, dir_->file("x.mp4"));
  o.alignments = dir_->file("nope.alignments.json");
  std::string msg = error_of([&] { merge::run_merge(o); });
  EXPECT_NE(msg.find("alignments file"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nope.alignments.json"), std::string::npos) << msg;

  o = merge_options(*clip_, dir_->file("no_model"), dir_->file("x.mp4"));
  msg = error_of([&] { merge::run_merge(o); });
  EXPECT_NE(msg.find("model folder"), std::string::npos) << msg;

  // A regular file where the output's folder should be.
  const std::string blocker = dir_->file("blocker");
  std::ofstream(blocker) << "x";
  o = merge_options(*clip_, *model_, blocker + "/out.mp4");
  msg = error_of([&] { merge::run_merge(o); });
  EXPECT_NE(msg.find("cannot write the output video"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a folder"), std::string::npos) << msg;
  o.output = blocker + "/frames";
  msg = error_of([&] { merge::run_merge(o); });
  EXPECT_NE(msg.find("cannot create the output folder"), std::string::npos) << msg;
  o = merge_options(*clip_, *model_, dir_->file("missing_dir") + "/out.mp4");
  msg = error_of([&] { merge::run_merge(o); });
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  o = merge_options(*clip_, *model_, clip_->video);  // would overwrite the input
  msg = error_of([&] { merge::run_merge(o); });
  EXPECT_NE(msg.find("is the input"), std::string::npos) << msg;
}

TEST_F(MergeStage, InterruptedPngMergeResumes) {
  // Reference: one uninterrupted run.
  const std::string ref = dir_->file("ref");
  merge::run_merge(merge_options(*clip_, *model_, ref));

  const std::string out = dir_->file("resume");
  MergeStageOptions o = merge_options(*clip_, *model_, out);
  o.batch = 1, o.queue_frames = 1, o.compose_threads = 1;
  std::atomic<int64_t> written{0};
  o.progress = [&](int64_t done, int64_t, double) { written = done; };
  o.should_stop = [&] { return written >= 4; };
  const MergeStageResult r1 = merge::run_merge(o);
  EXPECT_TRUE(r1.stopped);
  EXPECT_GE(r1.frames_written, 4);
  EXPECT_LT(r1.frames_written, kClipFrames);
  int present = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
    present += e.path().extension() == ".png";
  }
  EXPECT_EQ(present, r1.frames_written);

  // A torn frame and a stray temporary file, as a kill mid-write (or a crash without rename) leaves.
  const int64_t next = r1.frames_written;
  { std::ofstream(out + "/" + merge::merged_frame_name(next), std::ios::binary) << "\x89PNG\r\n\x1a\n"; }
  { std::ofstream(out + "/" + merge::merged_frame_name(next + 1) + ".tmp", std::ios::binary) << "junk"; }

  MergeStageOptions o2 = merge_options(*clip_, *model_, out);
  const MergeStageResult r2 = merge::run_merge(o2);
  EXPECT_FALSE(r2.stopped);
  EXPECT_EQ(r2.frames_resumed, r1.frames_written);
  EXPECT_EQ(r2.frames_written, kClipFrames - r1.frames_written);
  EXPECT_FALSE(fs::exists(out + "/" + merge::merged_frame_name(next + 1) + ".tmp"));
  for (int i = 0; i < kClipFrames; ++i) {
    const std::string name = merge::merged_frame_name(i);
    EXPECT_TRUE(same_pixels(cv::imread(out + "/" + name), cv::imread(ref + "/" + name))) << name;
  }

  // Other settings on the same folder: refused, then started over with force.
  o2.settings.merge.erode_mask_modifier = 20;
  const std::string msg = error_of([&] { merge::run_merge(o2); });
  EXPECT_NE(msg.find("--force"), std::string::npos) << msg;
  o2.force = true;
  const MergeStageResult r3 = merge::run_merge(o2);
  EXPECT_EQ(r3.frames_resumed, 0);
  EXPECT_EQ(r3.frames_written, kClipFrames);
}

TEST_F(MergeStage, InterruptedVideoMergeStartsOverWithoutABrokenFile) {
  const std::string out = dir_->file("stop.mp4");
  MergeStageOptions o = merge_options(*clip_, *model_, out);
  o.batch = 1, o.queue_frames = 1, o.compose_threads = 1;
  std::atomic<int64_t> written{0};
  o.progress = [&](int64_t done, int64_t, double) { written = done; };
  o.should_stop = [&] { return written >= 3; };
  const MergeStageResult r1 = merge::run_merge(o);
  EXPECT_TRUE(r1.stopped);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(merge::partial_video_path(out)));
  ASSERT_FALSE(r1.warnings.empty());
  EXPECT_NE(r1.warnings.back().find("from the start"), std::string::npos) << r1.warnings.back();

  const MergeStageResult r2 = merge::run_merge(merge_options(*clip_, *model_, out));
  EXPECT_EQ(r2.frames_written, kClipFrames);
  EXPECT_EQ(video::probe_video(out).frame_count, kClipFrames);
}

TEST_F(MergeStage, PreviewMatchesTheFullMergeAndSettingsApply) {
  MergeStageOptions o = merge_options(*clip_, *model_, dir_->file("full"));
  o.settings.smooth_landmarks = 2;
  o.settings.merge.mask_mode = merge::MaskMode::Dst;
  o.settings.merge.erode_mask_modifier = 10;
  o.settings.merge.blur_mask_modifier = 30;
  o.settings.merge.motion_blur_power = 60;
  merge::run_merge(o);
  for (int f : {1, 4}) {
    const std::string p = dir_->file("prev" + std::to_string(f) + ".png");
    const merge::MergePreviewResult r = merge::render_merge_preview(o, f, p);
    EXPECT_EQ(r.frame, f);
    EXPECT_EQ(r.faces, clip_frame_merged(f) ? 1 : 0);
    EXPECT_TRUE(same_pixels(cv::imread(p), cv::imread(dir_->file("full") + "/" + merge::merged_frame_name(f))));
  }
  // Other settings give another picture; the other direction draws another face.
  MergeStageOptions o2 = o;
  o2.settings.merge.mask_mode = merge::MaskMode::Full;
  merge::render_merge_preview(o2, 4, dir_->file("full_mask.png"));
  EXPECT_FALSE(same_pixels(cv::imread(dir_->file("full_mask.png")), cv::imread(dir_->file("prev4.png"))));
  o2.settings.direction = merge::SwapDirection::Dst;
  merge::render_merge_preview(o2, 4, dir_->file("dst_dir.png"));
  EXPECT_FALSE(same_pixels(cv::imread(dir_->file("full_mask.png")), cv::imread(dir_->file("dst_dir.png"))));
  const std::string msg = error_of([&] { merge::render_merge_preview(o, 99, dir_->file("p99.png")); });
  EXPECT_NE(msg.find("past the end"), std::string::npos) << msg;
}

TEST_F(MergeStage, LiaeModelMergesBothDirections) {
  const std::string liae = make_micro_model(dir_->file("train_liae"), "liae-ud");
  MergeStageOptions o = merge_options(*clip_, liae, dir_->file("liae"));
  const MergeStageResult r = merge::run_merge(o);
  EXPECT_EQ(r.frames_with_faces, 7);
  o.settings.direction = merge::SwapDirection::Dst;
  o.output = dir_->file("liae_dst");
  merge::run_merge(o);
  const std::string f = merge::merged_frame_name(4);
  EXPECT_FALSE(same_pixels(cv::imread(dir_->file("liae") + "/" + f), cv::imread(dir_->file("liae_dst") + "/" + f)));
  EXPECT_TRUE(same_pixels(cv::imread(dir_->file("liae") + "/" + merge::merged_frame_name(0)),
                          cv::imread(dir_->file("liae_dst") + "/" + merge::merged_frame_name(0))));
}

// `facet merge` as a user runs it (the binary of the same build, bin/facet next to tests/).
TEST_F(MergeStage, CommandLineSettingsPreviewAndErrors) {
  FACET_REQUIRE_BINARY(bin);
  const std::string s1 = dir_->file("s1.json"), s2 = dir_->file("s2.json"), log = dir_->file("cli.log");
  auto run = [&](const std::string& args) { return std::system((bin + " merge " + args + " >" + log + " 2>&1").c_str()); };
  ASSERT_EQ(run("--mode seamless --erode 20 --sharpen box:15 --smooth-landmarks 2 --save-settings '" + s1 + "'"), 0)
      << read_text_file(log);
  ASSERT_EQ(run("--settings '" + s1 + "' --blur 40 --swap-direction dst --save-settings '" + s2 + "'"), 0);
  const merge::MergeStageSettings st = merge::load_merge_stage_settings(s2);
  EXPECT_EQ(st.merge.mode, merge::MergeMode::Seamless);  // from the file
  EXPECT_EQ(st.merge.erode_mask_modifier, 20);
  EXPECT_EQ(st.merge.blursharpen_amount, 15);
  EXPECT_EQ(st.merge.sharpen_mode, merge::SharpenMode::Box);
  EXPECT_EQ(st.merge.blur_mask_modifier, 40);            // from the flags
  EXPECT_EQ(st.direction, merge::SwapDirection::Dst);
  EXPECT_EQ(st.smooth_landmarks, 2);

  const std::string common = "-i '" + clip_->video + "' --alignments '" + clip_->alignments + "' --faces '" +
                             clip_->faces_dir + "' --model '" + *model_ + "' --cpu --preset ultrafast -q ";
  const std::string prev = dir_->file("cli_prev.png");
  ASSERT_EQ(run(common + "--settings '" + s1 + "' --preview-frame 4 --out '" + prev + "'"), 0) << read_text_file(log);
  EXPECT_FALSE(cv::imread(prev).empty());
  ASSERT_EQ(run(common + "-o '" + dir_->file("cli.mp4") + "'"), 0) << read_text_file(log);
  EXPECT_EQ(video::probe_video(dir_->file("cli.mp4")).frame_count, kClipFrames);

  EXPECT_EQ(WEXITSTATUS(run(common + "--erode 999 -o x.mp4")), 1);
  EXPECT_NE(read_text_file(log).find("erode_mask_modifier"), std::string::npos) << read_text_file(log);
  EXPECT_EQ(WEXITSTATUS(run("-i '" + clip_->video + "' --alignments nope.json --faces '" + clip_->faces_dir +
                            "' --model '" + *model_ + "' -o x.mp4")), 1);
  EXPECT_NE(read_text_file(log).find("alignments file nope.json does not exist"), std::string::npos)
      << read_text_file(log);
  EXPECT_EQ(WEXITSTATUS(run("-i '" + clip_->video + "'")), 2);

  // Settings kept beside the model are the base when no --settings file is named.
  const std::string beside = *model_ + "/merge_settings.json";
  fs::copy_file(s1, beside, fs::copy_options::overwrite_existing);
  const std::string s3 = dir_->file("s3.json");
  const int rc = run(common + "--blur 30 --preview-frame 4 --out '" + prev + "' --save-settings '" + s3 + "'");
  fs::remove(beside);
  ASSERT_EQ(rc, 0) << read_text_file(log);
  const merge::MergeStageSettings st3 = merge::load_merge_stage_settings(s3);
  EXPECT_EQ(st3.merge.mode, merge::MergeMode::Seamless);  // from the model's file
  EXPECT_EQ(st3.merge.erode_mask_modifier, 20);
  EXPECT_EQ(st3.merge.blur_mask_modifier, 30);            // the flag
}

}  // namespace
}  // namespace facet::testing
