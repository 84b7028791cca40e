// facet: the command line. Exit codes: 0 success, 1 runtime error (bad input file, out of
// memory, a log file that cannot be opened, ...), 2 usage error (unknown option, missing
// argument); `facet swap`/`demo` also 130 when stopped by Ctrl-C. Results go to stdout,
// everything else to stderr, and all of it to --log-file when one is given (bin/console.h).
#include <string>
#include <utility>
#include <vector>

#include "bin/commands.h"
#include "bin/console.h"
#include "facet_config.h"
#include "pipeline/video/ffmpeg_log.h"

namespace {

// FFmpeg's warnings and errors go through the Console (so they reach the log file) while it lives.
struct FfmpegLogToConsole {
  explicit FfmpegLogToConsole(facet::cli::Console& c) {
    facet::video::set_ffmpeg_log_sink([&c](facet::video::FfmpegLogLevel level, const std::string& line) {
      if (level == facet::video::FfmpegLogLevel::Info)
        c.info("ffmpeg: " + line);
      else
        c.warn("ffmpeg: " + line);
    });
  }
  ~FfmpegLogToConsole() { facet::video::set_ffmpeg_log_sink(nullptr); }
};

std::string command_line(int argc, char** argv) {
  std::string s = "$ facet";
  for (int i = 1; i < argc; ++i) s += std::string(" ") + argv[i];
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  facet::cli::Console console;
  CLI::App app{"facet: face swapping with a native training engine (CPU and CUDA)"};
  app.set_version_flag("--version", std::string("facet ") + FACET_VERSION);
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, facet::cli::Action>> actions;
  // The Console's -q/--quiet and --log-file are added here, once per subcommand (and its own
  // subcommands), so no subcommand defines them itself.
  auto reg = [&](facet::cli::Action (*add)(CLI::App&, facet::cli::Console&)) {
    const size_t before = app.get_subcommands({}).size();
    facet::cli::Action a = add(app, console);
    CLI::App* sub = app.get_subcommands({})[before];
    console.add_options(sub);
    actions.emplace_back(sub, std::move(a));
  };
  reg(facet::cli::add_demo);
  reg(facet::cli::add_extract);
  reg(facet::cli::add_train);
  reg(facet::cli::add_merge);
  reg(facet::cli::add_swap);
  reg(facet::cli::add_video);
  reg(facet::cli::add_faceset);
  reg(facet::cli::add_mask);
  reg(facet::cli::add_model);
  reg(facet::cli::add_bench);
  reg(facet::cli::add_info);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  FfmpegLogToConsole ffmpeg_log(console);
  int rc = 2;
  try {
    console.open(command_line(argc, argv));
    for (auto& [sub, action] : actions)
      if (sub->parsed()) {
        rc = action();
        break;
      }
  } catch (const std::exception& e) {  // facet::Error and everything else: a runtime error
    console.error(e.what());
    rc = 1;
  }
  console.log_only("exit code " + std::to_string(rc));
  return rc;
}
