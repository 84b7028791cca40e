// Progress lines for the tools (see progress_line.h).
#include "pipeline/tools/progress_line.h"

#include <unistd.h>

#include "pipeline/extract/progress.h"

namespace facet::tools {

std::string format_progress_text(const std::string& label, int64_t done, int64_t total, const std::string& unit,
                                 double elapsed) {
  char buf[256];
  std::string s = label + ": ";
  if (total > 0)
    std::snprintf(buf, sizeof buf, "%lld/%lld %s (%.1f%%)", static_cast<long long>(done), static_cast<long long>(total),
                  unit.c_str(), 100.0 * double(done) / double(total));
  else
    std::snprintf(buf, sizeof buf, "%lld %s", static_cast<long long>(done), unit.c_str());
  s += buf;
  if (elapsed > 0 && done > 0) {
    const double rate = double(done) / elapsed;
    std::snprintf(buf, sizeof buf, "  %.1f %s/s", rate, unit.c_str());
    s += buf;
    if (total > done) s += "  ETA " + extract::format_duration(double(total - done) / rate);
  }
  return s;
}

ProgressLine::ProgressLine(std::string label, int64_t total, std::string unit, bool quiet, FILE* out)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), quiet_(quiet), out_(out) {
  live_ = out_ && ::isatty(::fileno(out_));
  start_ = std::chrono::steady_clock::now();
  last_ = start_;  // the first plain line comes after one interval, not at 0%
}

ProgressLine::~ProgressLine() {
  if (open_ && live_) std::fprintf(out_, "\n");
}

double ProgressLine::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressLine::update(int64_t done) {
  if (quiet_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(live_ ? 250 : 5000)) return;
  last_ = now;
  print(done);
}

void ProgressLine::finish(int64_t done) {
  if (quiet_ || finished_) return;
  print(done);
  if (live_) std::fprintf(out_, "\n");
  open_ = false;
  finished_ = true;
  std::fflush(out_);
}

void ProgressLine::print(int64_t done) {
  const std::string line = format_progress_text(label_, done, total_, unit_, elapsed());
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
