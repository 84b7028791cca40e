// Progress and summary lines for extraction, kept apart from the stage so the command line
// decides where and how often they go (a live line on a terminal, a line every few seconds in a
// log) and tests can check the text.
#pragma once
#include <string>

#include "pipeline/common/time_text.h"  // format_duration, for the ETA and the summary
#include "pipeline/extract/extract.h"

namespace facet::extract {

// "1200/4800 frames (25.0%)  38.2 frames/s  ETA 1:34  1198 faces" (parts that are unknown are left out).
std::string format_progress(const ExtractProgress& p);

// Multi-line summary of a finished run: frames, faces, detection rate, speed, where things went.
std::string format_summary(const ExtractResult& r, const std::string& output_dir);

}  // namespace facet::extract
