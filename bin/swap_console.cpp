// SwapConsole (swap_console.h).
#include "bin/swap_console.h"

#include <cstdio>

namespace facet::cli {

swap::SwapReport SwapConsole::report() {
  swap::SwapReport rep;
  rep.log = [this](const std::string& line) {
    bar_.reset();  // a status line ends the progress line of the step before it
    bar_step_.clear();
    console_.info(line);
  };
  rep.status = [this](const std::string& line) { console_.status(line); };
  rep.progress = [this](const std::string& step, int64_t done, int64_t total, int64_t resumed) {
    if (!bar_ || bar_step_ != step) {
      bar_ = console_.progress(step, total, "frames");
      bar_->set_baseline(resumed);
      bar_step_ = step;
    }
    bar_->set_total(total);
    bar_->update(done);
  };
  return rep;
}

int SwapConsole::finish(const swap::SwapResult& r) {
  bar_.reset();
  console_.result("steps:");
  double total = 0;
  char line[512];
  for (const auto& s : r.steps) {
    std::snprintf(line, sizeof line, "  %-12s %7.1f s  %s", s.name.c_str(), s.seconds, s.note.c_str());
    console_.result(line);
    total += s.seconds;
  }
  std::snprintf(line, sizeof line, "  %-12s %7.1f s", "total", total);
  console_.result(line);
  if (r.stopped) {
    console_.result("stopped: run the same command to continue (workspace " + r.workspace + ")");
    return 130;
  }
  console_.result("result:      " + r.result);
  if (!r.comparison.empty()) console_.result("comparison:  " + r.comparison);
  if (!r.preview.empty()) console_.result("preview:     " + r.preview);
  console_.result("model:       " + r.model_dir + " (iteration " + std::to_string(r.iteration) + ")");
  console_.result("face sets:   " + r.src_faces + ", " + r.dst_faces);
  return 0;
}

}  // namespace facet::cli
