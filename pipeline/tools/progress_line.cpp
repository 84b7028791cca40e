// Progress lines for the tools (see progress_line.h).
#include "pipeline/tools/progress_line.h"

#include <unistd.h>

#include "pipeline/common/time_text.h"

namespace facet::tools {

std::string format_progress_text(const std::string& label, int64_t done, int64_t total, const std::string& unit,
                                 double elapsed, int64_t baseline) {
  char buf[256];
  std::string s = label + ": ";
  if (total > 0)
    std::snprintf(buf, sizeof buf, "%lld/%lld %s (%.1f%%)", static_cast<long long>(done), static_cast<long long>(total),
                  unit.c_str(), 100.0 * double(done) / double(total));
  else
    std::snprintf(buf, sizeof buf, "%lld %s", static_cast<long long>(done), unit.c_str());
  s += buf;
  const int64_t this_run = done - baseline;
  if (elapsed > 0 && this_run > 0) {
    const double rate = double(this_run) / elapsed;
    std::snprintf(buf, sizeof buf, "  %.1f %s/s", rate, unit.c_str());
    s += buf;
    if (total > done) s += "  ETA " + format_duration(double(total - done) / rate);
  }
  return s;
}

ProgressLine::ProgressLine(std::string label, int64_t total, std::string unit, bool quiet, FILE* out)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), quiet_(quiet), out_(out) {
  live_ = out_ && ::isatty(::fileno(out_));
  start_ = std::chrono::steady_clock::now();
  last_ = mirror_last_ = start_;  // the first plain line comes after one interval, not at 0%
}

ProgressLine::~ProgressLine() { break_line(); }

void ProgressLine::set_mirror(std::function<void(const std::string&)> fn, double seconds) {
  mirror_ = std::move(fn);
  mirror_seconds_ = seconds;
}

double ProgressLine::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressLine::text(int64_t done) const {
  return format_progress_text(label_, done, total_, unit_, elapsed(), baseline_) + note_;
}

void ProgressLine::update(int64_t done) {
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool show = !quiet_ && now - last_ >= std::chrono::duration<double>(live_ ? kLiveSeconds : kPlainSeconds);
  const bool mirror = mirror_ && now - mirror_last_ >= std::chrono::duration<double>(mirror_seconds_);
  if (!show && !mirror) return;
  const std::string line = text(done);
  if (show) last_ = now, print(line);
  if (mirror) mirror_last_ = now, mirror_(line);
}

void ProgressLine::finish(int64_t done) {
  if (finished_) return;
  finished_ = true;
  const std::string line = text(done);
  if (!quiet_) {
    print(line);
    break_line();
  }
  if (mirror_) mirror_(line);
}

void ProgressLine::break_line() {
  if (open_ && live_) {
    std::fprintf(out_, "\n");
    std::fflush(out_);
  }
  open_ = false;
  last_len_ = 0;
}

void ProgressLine::print(const std::string& line) {
  if (live_) {
    // Pad with spaces so a shorter line fully covers the previous one.
    std::fprintf(out_, "\r%s%*s", line.c_str(), int(last_len_ > line.size() ? last_len_ - line.size() : 0), "");
    last_len_ = line.size();
    open_ = true;
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace facet::tools
