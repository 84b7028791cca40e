// A progress line for the long steps of the command-line tools (video frames, face sets): done /
// total, percent, rate and ETA. On a terminal it is one line redrawn in place a few times a
// second; otherwise (a pipe, a log file) a plain line every few seconds, so logs stay readable.
// It writes to stderr by default, keeping stdout for results that scripts may parse. A mirror
// (the command line's log file) can get the same text at the plain rate, even when quiet.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace facet::tools {

// "label: 120/500 frames (24.0%)  38.2 frames/s  ETA 0:10" (total 0 = unknown: no percent, no ETA).
// `baseline` units were done before this run (resumed work): they count toward done but not the rate.
std::string format_progress_text(const std::string& label, int64_t done, int64_t total, const std::string& unit,
                                 double elapsed_seconds, int64_t baseline = 0);

class ProgressLine {
 public:
  static constexpr double kLiveSeconds = 0.25, kPlainSeconds = 5.0;

  // quiet: print nothing (a mirror still gets its lines). The line is redrawn in place when `out`
  // is a terminal.
  ProgressLine(std::string label, int64_t total, std::string unit = "frames", bool quiet = false, FILE* out = stderr);
  ~ProgressLine();  // ends a live line so later output starts on a fresh one
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void set_total(int64_t total) { total_ = total; }
  void set_baseline(int64_t done_before) { baseline_ = done_before; }
  // Extra text after the rate and ETA ("  1198 faces").
  void set_note(std::string note) { note_ = std::move(note); }
  // Also hands the text to `fn` every `seconds` and at finish(), whether or not anything is shown.
  void set_mirror(std::function<void(const std::string&)> fn, double seconds = kPlainSeconds);
  // Shows `done` if enough time passed since the last line (250 ms live, 5 s plain).
  void update(int64_t done);
  // Shows the final count (always, unless quiet) and ends the line.
  void finish(int64_t done);
  // Ends a live line now (other output is about to be written); the next update starts a new one.
  void break_line();
  bool finished() const { return finished_; }
  double elapsed() const;

 private:
  std::string text(int64_t done) const;
  void print(const std::string& line);

  std::string label_, unit_, note_;
  int64_t total_, baseline_ = 0;
  bool quiet_, live_, open_ = false, finished_ = false;
  FILE* out_;
  size_t last_len_ = 0;
  std::chrono::steady_clock::time_point start_, last_, mirror_last_;
  std::function<void(const std::string&)> mirror_;
  double mirror_seconds_ = kPlainSeconds;
};

}  // namespace facet::tools
