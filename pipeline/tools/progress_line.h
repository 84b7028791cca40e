// A progress line for the long steps of the command-line tools (video frames, face sets): done /
// total, percent, rate and ETA. On a terminal it is one line redrawn in place a few times a
// second; otherwise (a pipe, a log file) a plain line every few seconds, so logs stay readable.
// It writes to stderr by default, keeping stdout for results that scripts may parse.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace facet::tools {

// "label: 120/500 frames (24.0%)  38.2 frames/s  ETA 0:10" (total 0 = unknown: no percent, no ETA).
std::string format_progress_text(const std::string& label, int64_t done, int64_t total, const std::string& unit,
                                 double elapsed_seconds);

class ProgressLine {
 public:
  // quiet: print nothing. The line is redrawn in place when `out` is a terminal.
  ProgressLine(std::string label, int64_t total, std::string unit = "frames", bool quiet = false, FILE* out = stderr);
  ~ProgressLine();  // ends a live line so later output starts on a fresh one
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void set_total(int64_t total) { total_ = total; }
  // Shows `done` if enough time passed since the last line (250 ms live, 5 s plain).
  void update(int64_t done);
  // Shows the final count (always, unless quiet) and ends the line.
  void finish(int64_t done);
  double elapsed() const;

 private:
  void print(int64_t done);

  std::string label_, unit_;
  int64_t total_;
  bool quiet_, live_, open_ = false, finished_ = false;
  FILE* out_;
  size_t last_len_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace facet::tools
