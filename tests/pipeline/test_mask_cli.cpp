// `facet mask` as a user runs it: --help on each subcommand, usage errors exit 2, runtime errors
// (no faces, not a mask model, a face that cannot be changed) exit 1 naming the problem, and
// train -> apply -> remove end to end on labelled synthetic faces, resuming on a second train.
// Needs the facet binary of the same build; skipped when it is absent.
#include <sys/wait.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "pipeline/faces/face_set.h"
#include "pipeline_test_support.h"
#include "test_mask_support.h"

namespace facet::mask {
namespace {

namespace fs = std::filesystem;
using facet::testing::exit_code_of;
using facet::testing::run_capture;
using facet::testing::ScratchDir;

TEST(MaskCli, HelpErrorsAndTrainApplyRemove) {
  FACET_REQUIRE_BINARY(bin);
  for (const char* sub : {"mask", "mask train", "mask apply", "mask remove"})
    EXPECT_EQ(exit_code_of(bin + " " + sub + " --help"), 0) << sub;
  EXPECT_NE(run_capture(bin + " mask train --help").find("256"), std::string::npos);  // defaults shown
  for (const char* args : {"mask", "mask train", "mask train --faces d", "mask apply --faces d", "mask remove",
                           "mask train --faces d --model m --batch 0"})
    EXPECT_EQ(exit_code_of(bin + " " + args), 2) << args;

  ScratchDir dir("mask_cli");
  const std::string faces = dir.file("faces"), model = dir.file("model");
  fs::create_directories(faces);
  testing::write_occluded_faces(faces, 9, 0, 4, 64, true);
  const std::string missing = run_capture(bin + " mask train --faces " + dir.file("nope") + " --model " + model + " 2>&1");
  EXPECT_NE(missing.find("nope"), std::string::npos) << missing;
  EXPECT_EQ(exit_code_of(bin + " mask train --faces " + dir.file("nope") + " --model " + model), 1);
  EXPECT_EQ(exit_code_of(bin + " mask apply --model " + faces + " --faces " + faces), 1);  // not a mask model

  const std::string train = bin + " mask train --faces " + faces + " --model " + model +
                            " --resolution 64 --base-channels 2 --batch 2 --preview-every 0 --cpu";
  const std::string out = run_capture(train + " --iters 2 2>&1");
  EXPECT_NE(out.find("stopped at iteration 2"), std::string::npos) << out;
  EXPECT_NE(out.find("4 labelled faces"), std::string::npos) << out;
  const std::string again = run_capture(train + " --iters 3 2>&1");
  EXPECT_NE(again.find("resumed"), std::string::npos) << again;
  EXPECT_NE(again.find("stopped at iteration 3"), std::string::npos) << again;

  EXPECT_EQ(exit_code_of(bin + " mask apply --cpu --model " + model + " --faces " + faces), 0);
  for (const auto& e : faces::load_face_set(faces).faces) EXPECT_FALSE(e.meta.xseg_mask.empty()) << e.filename;
  EXPECT_EQ(exit_code_of(bin + " mask remove --faces " + faces), 0);
  for (const auto& e : faces::load_face_set(faces).faces) EXPECT_TRUE(e.meta.xseg_mask.empty()) << e.filename;
}

}  // namespace
}  // namespace facet::mask
