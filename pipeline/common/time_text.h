// Times as text: the wall-clock strings a run writes and the durations it reports. One home for
// each format, so every file and line that records a time spells it the same way.
#pragma once
#include <string>

namespace facet {

// "2026-11-22T08:40:01Z" (ISO 8601, UTC): how options.json and state.json record times.
std::string utc_now();

// "2026-11-22 08:40:01" in local time: the stamp on each line of a --log-file.
std::string local_date_time_now();

// "08:40:01" in local time: the clock on the trainer's status lines (DeepFaceLab's "[%H:%M:%S]").
std::string local_clock_now();

// "1:02:05" (h:mm:ss) or "4:05" (m:ss) for a duration in seconds, rounded: elapsed times and
// ETAs of extraction, the video tools and `facet model info`. (The trainer's status line keeps
// DeepFaceLab's zero-padded "00:12:30" instead.)
std::string format_duration(double seconds);

}  // namespace facet
