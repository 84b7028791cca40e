// --start / --end on the commands that read part of a video (extract, video extract, video cut):
// one definition of the two options, their help text and their parse-time check.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

namespace facet::cli {

// Adds --start and --end (a frame number or a time, pipeline/extract/extract.h: apply_range_bound),
// checked when the command line is parsed, so a malformed value is a usage error (exit code 2).
void add_frame_range_options(CLI::App* sub, std::string& start, std::string& end, bool required = false);

}  // namespace facet::cli
