// Wall-clock strings (see wall_clock.h).
#include "pipeline/common/wall_clock.h"

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

}  // namespace facet
