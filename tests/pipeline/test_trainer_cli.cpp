// `facet train` as a user runs it: --dry-run prints the parameter counts; a real SIGINT sent to
// a training process makes it save and exit 0, and the model resumes from there; the colour
// options (--ct-mode, --random-hsv-power) are range-checked. Needs the facet binary of the same
// build (bin/facet next to tests/); skipped when it is absent.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "test_trainer_support.h"

namespace facet::train {
namespace {

namespace fs = std::filesystem;
using facet::testing::read_text_file;
using facet::testing::ScratchDir;

TEST(TrainerCli, DryRunOutputHasParameterCounts) {
  FACET_REQUIRE_BINARY(bin);
  ScratchDir dir("trainer_cli_dry");
  const std::string out = facet::testing::run_capture(bin + " train --dry-run --preset tiny --model " + dir.file("m") + " 2>&1");
  EXPECT_NE(out.find("3,164,490"), std::string::npos) << out;
  EXPECT_NE(out.find("encoder"), std::string::npos) << out;
  EXPECT_NE(out.find("GFLOP"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir.file("m"))) << "a dry run wrote the model folder";
  // A usage error exits 2, a runtime error 1.
  EXPECT_EQ(WEXITSTATUS(std::system((bin + " train --bogus >/dev/null 2>&1").c_str())), 2);
  EXPECT_EQ(WEXITSTATUS(std::system((bin + " train --src /nonexistent --dst /nonexistent --model " + dir.file("m2") +
                                     " >/dev/null 2>&1").c_str())), 1);
}

TEST(TrainerCli, SigintSavesAndExitsZeroThenResumes) {
  FACET_REQUIRE_BINARY(bin);
  ScratchDir dir("trainer_cli_sigint");
  facet::testing::write_face_sets(dir.path(), 6, 64);
  const std::string model = dir.file("model"), log = dir.file("log.txt");
  // Everything the child needs is prepared before fork(): between fork and exec a multithreaded
  // process may only call async-signal-safe functions (open, dup2, execv, _exit).
  const std::vector<std::string> args = {bin, "train", "--src", dir.path() + "/src", "--dst", dir.path() + "/dst",
                                         "--model", model, "--preset", "tiny", "--ae-dims", "16", "--e-dims", "8",
                                         "--d-dims", "8", "--d-mask-dims", "4", "--batch", "2", "--status-every", "1",
                                         "--preview-every", "0", "--cpu", "--seed", "3"};
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) ::dup2(fd, 1), ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  // Wait until it has trained a few iterations (rows in the loss history), then Ctrl-C it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string csv = read_text_file(model + "/loss_history.csv");
    if (std::count(csv.begin(), csv.end(), '\n') >= 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(kill(pid, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  const std::string out = read_text_file(log);
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("stop requested (SIGINT)"), std::string::npos) << out;
  const TrainState st = ModelFolder(model).read_state();
  EXPECT_GE(st.iteration, 3);
  // Resume to a target two iterations further.
  const std::string cmd = bin + " train --src " + dir.path() + "/src --dst " + dir.path() + "/dst --model " + model +
                          " --iters " + std::to_string(st.iteration + 2) + " --cpu 2>&1";
  const std::string out2 = facet::testing::run_capture(cmd);
  EXPECT_NE(out2.find("resuming"), std::string::npos) << out2;
  EXPECT_EQ(ModelFolder(model).read_state().iteration, st.iteration + 2) << out2;
}

// --ct-mode takes none or rct only (DFL's lct, mkl, idt, sot are not implemented) and
// --random-hsv-power DFL's range 0..0.3: anything else is a usage error naming the option; the
// dry run shows the values in effect.
TEST(TrainerCli, ColourOptionsAreCheckedAndShown) {
  FACET_REQUIRE_BINARY(bin);
  ScratchDir dir("trainer_cli_color");
  const std::string base = bin + " train --dry-run --preset tiny --model " + dir.file("m");
  for (const std::string bad : {" --ct-mode lct", " --ct-mode mkl", " --random-hsv-power 0.5"}) {
    const std::string cmd = base + bad + " >" + dir.file("out.txt") + " 2>&1";
    EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 2) << bad;
    const std::string out = read_text_file(dir.file("out.txt"));
    EXPECT_NE(out.find(bad.substr(1, bad.find(' ', 1) - 1)), std::string::npos) << out;
  }
  const std::string out = facet::testing::run_capture(base + " --ct-mode rct --random-hsv-power 0.1 2>&1");
  EXPECT_NE(out.find("ct_mode rct"), std::string::npos) << out;
  EXPECT_NE(out.find("random_hsv_power 0.1"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir.file("m")));
}

// Pretraining from the command line: --pretrain with --pretrain-faces alone (no --src/--dst),
// then --no-pretrain with the real pair ends it; neither face option at all is a usage error.
TEST(TrainerCli, PretrainThenTrain) {
  FACET_REQUIRE_BINARY(bin);
  ScratchDir dir("trainer_cli_pretrain");
  facet::testing::write_face_sets(dir.path(), 6, 64);
  const std::string model = dir.file("model");
  const std::string micro = " --preset tiny --ae-dims 16 --e-dims 8 --d-dims 8 --d-mask-dims 4 --batch 2"
                            " --preview-every 0 --cpu --seed 3 --model " + model;
  const std::string usage = bin + " train" + micro + " >" + dir.file("usage.txt") + " 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(usage.c_str())), 2);
  EXPECT_NE(read_text_file(dir.file("usage.txt")).find("--pretrain-faces"), std::string::npos);

  const std::string pre = facet::testing::run_capture(bin + " train" + micro + " --pretrain --pretrain-faces " +
                                                      dir.path() + "/src --iters 2 2>&1; echo exit=$?");
  EXPECT_NE(pre.find("pretraining on " + dir.path() + "/src"), std::string::npos) << pre;
  EXPECT_NE(pre.find("stopped at iteration 2"), std::string::npos) << pre;
  EXPECT_NE(pre.find("exit=0"), std::string::npos) << pre;
  const std::string post = facet::testing::run_capture(bin + " train" + micro + " --no-pretrain --src " + dir.path() +
                                                       "/src --dst " + dir.path() + "/dst --iters 1 2>&1; echo exit=$?");
  EXPECT_NE(post.find("pretraining ended at iteration 2"), std::string::npos) << post;
  EXPECT_NE(post.find("stopped at iteration 1"), std::string::npos) << post;
  EXPECT_NE(post.find("exit=0"), std::string::npos) << post;
}

}  // namespace
}  // namespace facet::train
