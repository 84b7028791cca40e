// Times as text (see time_text.h).
#include "pipeline/common/time_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace facet {

namespace {

enum class Zone { Utc, Local };

std::string now_formatted(const char* format, Zone zone) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  if (zone == Zone::Utc) gmtime_r(&t, &tm);
  else localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string utc_now() { return now_formatted("%Y-%m-%dT%H:%M:%SZ", Zone::Utc); }

std::string local_date_time_now() { return now_formatted("%Y-%m-%d %H:%M:%S", Zone::Local); }

std::string local_clock_now() { return now_formatted("%H:%M:%S", Zone::Local); }

std::string format_duration(double seconds) {
  const long long t = std::llround(std::max(0.0, seconds));
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
  return buf;
}

}  // namespace facet
