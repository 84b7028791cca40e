// The `facet video`, `faceset` and `model` subcommands as a user runs them: --help works on each
// and shows defaults, usage errors exit 2, runtime errors (missing input) exit 1, and the
// commands run end to end on small inputs. Needs the facet binary of the same build (bin/facet
// beside tests/); skipped when it is absent.
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "pipeline/train/synthetic_faces.h"
#include "pipeline/train/train_options.h"
#include "pipeline_test_support.h"

namespace facet::tools {
namespace {

namespace fs = std::filesystem;
using facet::testing::run_capture;
using facet::testing::ScratchDir;

using facet::testing::exit_code_of;

TEST(ToolsCli, HelpAndExitCodes) {
  FACET_REQUIRE_BINARY(bin);
  ScratchDir dir("tools_cli");
  for (const char* sub : {"video", "video extract", "video build", "video cut", "video info", "faceset",
                          "faceset info", "faceset sort", "faceset dedupe", "model", "model info"})
    EXPECT_EQ(exit_code_of(bin + " " + sub + " --help"), 0) << sub;
  const std::string help = run_capture(bin + " faceset sort --help");
  EXPECT_NE(help.find("--by"), std::string::npos) << help;
  EXPECT_NE(help.find("blur"), std::string::npos) << help;  // the default is shown
  EXPECT_NE(run_capture(bin + " video build --help").find("18"), std::string::npos);  // --crf default

  // Usage errors: 2.
  for (const std::string args :
       {"video", "video extract -i x.mp4", "video extract -i x.mp4 -o d --start soon", "video cut -i x.mp4 -o y.mp4",
        "video build -i d -o y.mp4 --fps fast", "video build -i d -o y.mp4 --crf 80", "faceset", "faceset sort",
        "faceset sort d --by colour", "faceset dedupe d --threshold 2", "model info", "video info --bogus"})
    EXPECT_EQ(exit_code_of(bin + " " + args), 2) << args;
  // Runtime errors (missing inputs): 1.
  for (const std::string args :
       {"video info -i " + dir.file("missing.mp4"), "faceset info " + dir.file("missing"),
        "faceset sort " + dir.file("missing"), "model info " + dir.path(),
        "video build -i " + dir.file("missing") + " -o " + dir.file("o.mp4")})
    EXPECT_EQ(exit_code_of(bin + " " + args), 1) << args;
}

TEST(ToolsCli, FacesetAndModelRun) {
  FACET_REQUIRE_BINARY(bin);
  ScratchDir dir("tools_cli_run");
  train::SyntheticFaceSetOptions o;
  o.count = 4;
  o.size = 64;
  train::write_synthetic_face_set(dir.file("faces"), train::SyntheticIdentity::A, o);
  const std::string info = run_capture(bin + " faceset info " + dir.file("faces"));
  EXPECT_NE(info.find("faces:       4"), std::string::npos) << info;
  const std::string sorted = run_capture(bin + " faceset sort " + dir.file("faces") + " --by yaw -q");
  EXPECT_NE(sorted.find("4 faces sorted by yaw"), std::string::npos) << sorted;
  EXPECT_EQ(exit_code_of(bin + " faceset sort " + dir.file("faces") + " --by hist --apply -q"), 0);
  EXPECT_TRUE(fs::exists(dir.file("faces/00000_synthetic_a_000000_0.png")));
  const std::string dd = run_capture(bin + " faceset dedupe " + dir.file("faces") + " -q");
  EXPECT_NE(dd.find("0 near-duplicates among 4 faces"), std::string::npos) << dd;

  train::TrainRequest req;
  req.preset = "tiny";
  fs::create_directories(dir.file("model"));
  std::ofstream(dir.file("model/options.json")) << train::model_record_to_json(train::new_model_record(req, Device::cpu()));
  const std::string mi = run_capture(bin + " model info " + dir.file("model"));
  EXPECT_NE(mi.find("3,164,490"), std::string::npos) << mi;
}

}  // namespace
}  // namespace facet::tools
