// Where the command line's words go. Every subcommand gets the same two flags from here:
// `-q, --quiet` (no progress lines; results, warnings and errors still print) and `--log-file F`
// (every line — results, status, warnings, errors and the progress lines at a plain rate — is
// also appended to F with a timestamp, so a run left going for days leaves a readable record).
// Results go to stdout (scripts parse them), everything else to stderr. Progress is one line
// redrawn in place on a terminal, a plain line every few seconds otherwise.
//
// One Console is made in main() and handed to each subcommand's add_* function: no globals.
// Its methods may be called from any thread (pipeline callbacks); lines never interleave.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <CLI/CLI.hpp>

namespace facet::cli {

class ConsoleProgress;

class Console {
 public:
  Console();
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // Adds -q/--quiet and --log-file to a subcommand (and to each of its own subcommands).
  void add_options(CLI::App* sub);
  // Opens the log file, if one was asked for (appending); called by main() after parsing and
  // before the action runs. Throws facet::Error naming the file when it cannot be opened.
  // `header` (e.g. the command line) is its first line for this run.
  void open(const std::string& header = "");

  bool quiet() const { return quiet_; }
  const std::string& log_path() const { return log_path_; }

  // Each takes one line or several ("a\nb\n": a trailing newline adds no empty line).
  void result(const std::string& line);   // stdout + log
  void info(const std::string& line);     // stderr + log (status lines a run prints as it goes)
  void warn(const std::string& line);     // stderr "facet: warning: ..." + log "warning: ..."
  void error(const std::string& line);    // stderr "facet: error: ..." + log "error: ..."
  // A progress-like status line (training's line every N iterations): stderr unless quiet, and the log.
  void status(const std::string& line);
  // The log file only (nothing when there is none): the command line, the exit code.
  void log_only(const std::string& line);

  // A progress line with rate and ETA (total 0 = unknown). Nothing is shown when quiet, but the
  // log file still gets a plain line every few seconds and the final count.
  std::unique_ptr<ConsoleProgress> progress(const std::string& label, int64_t total, const std::string& unit = "frames");

  // info() as a callback for the pipeline's log hooks, each line prefixed (e.g. "merge: ").
  std::function<void(const std::string&)> logger(const std::string& prefix = "");

 private:
  friend class ConsoleProgress;
  enum class Stream { Out, Err, None };
  // With mu_ held: ends a live progress line, writes `screen` (+ prefix) and the log line.
  void emit(Stream s, const std::string& screen_prefix, const std::string& log_prefix, const std::string& text);
  void write_log(const std::string& line);  // mu_ held

  bool quiet_ = false;
  std::string log_path_;
  FILE* log_ = nullptr;
  std::recursive_mutex mu_;
  ConsoleProgress* live_ = nullptr;  // the progress line last drawn, ended before other output
};

class ConsoleProgress {
 public:
  ConsoleProgress(Console& c, std::string label, int64_t total, std::string unit);
  ~ConsoleProgress();  // finishes the line if finish() was not called
  ConsoleProgress(const ConsoleProgress&) = delete;
  ConsoleProgress& operator=(const ConsoleProgress&) = delete;

  void set_total(int64_t total);
  // Units done before this run (resumed work): counted in done, left out of the rate and ETA.
  void set_baseline(int64_t done_before);
  // Extra text after the rate and ETA ("  1198 faces").
  void set_note(const std::string& note);
  void update(int64_t done);   // rate-limited: 250 ms live, 5 s plain / log
  void finish(int64_t done);   // the final count, always (unless quiet) and to the log
  double elapsed() const;

 private:
  friend class Console;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facet::cli
