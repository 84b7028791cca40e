// The command line's output (see console.h): results to stdout, everything else to stderr, every
// line also to the --log-file with a timestamp. The progress text, rate and ETA come from
// pipeline/tools/progress_line.h; this file only decides where its lines go.
#include "bin/console.h"

#include <cerrno>
#include <cstring>
#include <exception>

#include "engine/core/error.h"
#include "pipeline/common/time_text.h"
#include "pipeline/tools/progress_line.h"

namespace facet::cli {

namespace {

// "a\nb\n" -> {"a", "b"}; "" -> {""}.
template <typename F>
void for_each_line(const std::string& text, F&& f) {
  size_t at = 0;
  do {
    const size_t nl = text.find('\n', at);
    f(text.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
    at = nl == std::string::npos ? text.size() + 1 : nl + 1;
  } while (at < text.size());
}

}  // namespace

struct ConsoleProgress::Impl {
  Console& c;
  tools::ProgressLine line;
  int64_t last = 0;
  bool updated = false;
  Impl(Console& console, std::string label, int64_t total, std::string unit)
      : c(console), line(std::move(label), total, std::move(unit), console.quiet(), stderr) {}
};

Console::Console() = default;

Console::~Console() {
  if (log_) std::fclose(log_);
}

void Console::add_options(CLI::App* sub) {
  sub->add_flag("-q,--quiet", quiet_, "No progress lines (results, warnings and errors still print)");
  sub->add_option("--log-file", log_path_,
                  "Also append every line (results, status, warnings, errors, progress every few seconds) to this "
                  "file, with timestamps");
  for (CLI::App* s : sub->get_subcommands({})) add_options(s);
}

void Console::open(const std::string& header) {
  std::lock_guard<std::recursive_mutex> lk(mu_);
  if (log_path_.empty() || log_) return;
  log_ = std::fopen(log_path_.c_str(), "a");
  if (!log_) throw Error(log_path_ + ": cannot open the log file (" + std::strerror(errno) + ")");
  if (!header.empty()) write_log(header);
}

void Console::write_log(const std::string& line) {
  if (!log_) return;
  // One line per fprintf, flushed: a run killed hard still leaves every line written so far.
  std::fprintf(log_, "%s %s\n", local_date_time_now().c_str(), line.c_str());
  std::fflush(log_);
}

void Console::emit(Stream s, const std::string& screen_prefix, const std::string& log_prefix, const std::string& text) {
  std::lock_guard<std::recursive_mutex> lk(mu_);
  FILE* out = s == Stream::Out ? stdout : s == Stream::Err ? stderr : nullptr;
  if (out && live_) live_->impl_->line.break_line();
  for_each_line(text, [&](const std::string& line) {
    if (out) std::fprintf(out, "%s%s\n", screen_prefix.c_str(), line.c_str());
    write_log(log_prefix + line);
  });
  if (out) std::fflush(out);
}

void Console::result(const std::string& line) { emit(Stream::Out, "", "", line); }
void Console::info(const std::string& line) { emit(Stream::Err, "", "", line); }
void Console::warn(const std::string& line) { emit(Stream::Err, "facet: warning: ", "warning: ", line); }
void Console::error(const std::string& line) { emit(Stream::Err, "facet: error: ", "error: ", line); }
void Console::status(const std::string& line) { emit(quiet_ ? Stream::None : Stream::Err, "", "", line); }

void Console::log_only(const std::string& line) {
  std::lock_guard<std::recursive_mutex> lk(mu_);
  write_log(line);
}

std::unique_ptr<ConsoleProgress> Console::progress(const std::string& label, int64_t total, const std::string& unit) {
  return std::make_unique<ConsoleProgress>(*this, label, total, unit);
}

std::function<void(const std::string&)> Console::logger(const std::string& prefix) {
  return [this, prefix](const std::string& line) { info(prefix + line); };
}

ConsoleProgress::ConsoleProgress(Console& c, std::string label, int64_t total, std::string unit)
    : impl_(std::make_unique<Impl>(c, std::move(label), total, std::move(unit))) {
  if (c.log_) impl_->line.set_mirror([&c](const std::string& text) { c.write_log(text); });
}

ConsoleProgress::~ConsoleProgress() {
  Console& c = impl_->c;
  std::lock_guard<std::recursive_mutex> lk(c.mu_);
  // A step that ended normally gets its final count; one left by an exception only ends its line
  // (the error message says what happened).
  if (impl_->updated && !impl_->line.finished() && std::uncaught_exceptions() == 0) impl_->line.finish(impl_->last);
  impl_->line.break_line();
  if (c.live_ == this) c.live_ = nullptr;
}

void ConsoleProgress::set_total(int64_t total) {
  std::lock_guard<std::recursive_mutex> lk(impl_->c.mu_);
  impl_->line.set_total(total);
}

void ConsoleProgress::set_baseline(int64_t done_before) {
  std::lock_guard<std::recursive_mutex> lk(impl_->c.mu_);
  impl_->line.set_baseline(done_before);
}

void ConsoleProgress::set_note(const std::string& note) {
  std::lock_guard<std::recursive_mutex> lk(impl_->c.mu_);
  impl_->line.set_note(note);
}

void ConsoleProgress::update(int64_t done) {
  Console& c = impl_->c;
  std::lock_guard<std::recursive_mutex> lk(c.mu_);
  impl_->last = done;
  impl_->updated = true;
  // Another progress line still drawn in place is ended first, so the two do not overwrite each other.
  if (c.live_ && c.live_ != this) c.live_->impl_->line.break_line();
  c.live_ = this;
  impl_->line.update(done);
}

void ConsoleProgress::finish(int64_t done) {
  Console& c = impl_->c;
  std::lock_guard<std::recursive_mutex> lk(c.mu_);
  if (c.live_ && c.live_ != this) c.live_->impl_->line.break_line();
  impl_->last = done;
  impl_->line.finish(done);
  if (c.live_ == this) c.live_ = nullptr;
}

double ConsoleProgress::elapsed() const { return impl_->line.elapsed(); }

}  // namespace facet::cli
