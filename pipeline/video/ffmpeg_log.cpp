// FFmpeg's log level and an optional line sink (see ffmpeg_log.h). FFmpeg has one log callback
// per process and calls it with fragments of lines from any thread, so the sink and the partial
// line live in one function-local state guarded by a mutex.
#include "pipeline/video/ffmpeg_log.h"

#include <algorithm>
#include <cstdarg>
#include <mutex>

extern "C" {
#include <libavutil/log.h>
}

namespace facet::video {

namespace {

struct SinkState {
  std::mutex mu;
  FfmpegLogSink sink;
  std::string pending;  // text of the line being assembled
  int level = AV_LOG_INFO;  // the most severe level among its fragments
  int print_prefix = 1;     // av_log_format_line2's "at the start of a line" state
  std::string last;         // the last line sent, and how often it came again since (a damaged
  int repeats = 0;          // stream can repeat one complaint thousands of times)
};

void flush_repeats(SinkState& s) {
  if (s.repeats > 0 && s.sink)
    s.sink(FfmpegLogLevel::Warning, "(last message repeated " + std::to_string(s.repeats) + " times)");
  s.repeats = 0;
}

SinkState& sink_state() {
  static SinkState s;
  return s;
}

FfmpegLogLevel level_of(int av_level) {
  if (av_level <= AV_LOG_ERROR) return FfmpegLogLevel::Error;
  if (av_level <= AV_LOG_WARNING) return FfmpegLogLevel::Warning;
  return FfmpegLogLevel::Info;
}

void sink_callback(void* avcl, int level, const char* fmt, va_list vl) {
  if (level > av_log_get_level()) return;
  SinkState& s = sink_state();
  std::lock_guard<std::mutex> lk(s.mu);
  char buf[1024];
  av_log_format_line2(avcl, level, fmt, vl, buf, sizeof buf, &s.print_prefix);
  s.pending += buf;
  s.level = std::min(s.level, level);
  for (size_t nl; (nl = s.pending.find_first_of("\r\n")) != std::string::npos;) {
    const std::string line = s.pending.substr(0, nl);
    s.pending.erase(0, nl + 1);
    const int level_now = s.level;
    s.level = AV_LOG_INFO;
    if (line.empty() || !s.sink) continue;
    if (line == s.last) {
      ++s.repeats;
      continue;
    }
    flush_repeats(s);
    s.last = line;
    s.sink(level_of(level_now), line);
  }
}

}  // namespace

void set_ffmpeg_log_level(FfmpegLogLevel level) {
  switch (level) {
    case FfmpegLogLevel::Quiet: av_log_set_level(AV_LOG_QUIET); break;
    case FfmpegLogLevel::Error: av_log_set_level(AV_LOG_ERROR); break;
    case FfmpegLogLevel::Warning: av_log_set_level(AV_LOG_WARNING); break;
    case FfmpegLogLevel::Info: av_log_set_level(AV_LOG_INFO); break;
  }
}

void set_ffmpeg_log_sink(FfmpegLogSink sink) {
  SinkState& s = sink_state();
  const bool on = static_cast<bool>(sink);
  {
    std::lock_guard<std::mutex> lk(s.mu);
    flush_repeats(s);
    s.last.clear();
    s.sink = std::move(sink);
    s.pending.clear();
    s.level = AV_LOG_INFO;
    s.print_prefix = 1;
  }
  av_log_set_callback(on ? sink_callback : av_log_default_callback);
}

}  // namespace facet::video
