// --start / --end options (see frame_range_option.h).
#include "bin/frame_range_option.h"

#include "engine/core/error.h"
#include "pipeline/extract/extract.h"

namespace facet::cli {

namespace {

// What is wrong with a --start / --end value, or "" when it is fine.
std::string range_error(const std::string& v) {
  video::FrameSelection s;
  try {
    extract::apply_range_bound(v, false, s);
  } catch (const Error& e) {
    const std::string m = e.what();  // "--start 'x': why" -> "why" (CLI11 names the option)
    return m.substr(m.find(": ") == std::string::npos ? 0 : m.find(": ") + 2);
  }
  return "";
}

}  // namespace

void add_frame_range_options(CLI::App* sub, std::string& start, std::string& end, bool required) {
  auto* s = sub->add_option("--start", start, "First frame (250) or time (12.5s, 1:05)")->check(range_error);
  auto* e = sub->add_option("--end", end, "End frame or time, exclusive")->check(range_error);
  if (required) s->required(), e->required();
}

}  // namespace facet::cli
