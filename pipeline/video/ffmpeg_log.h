// How much the FFmpeg libraries print (decoder complaints about damaged data, x264's encoding
// statistics) and where it goes. This is FFmpeg's own process-wide setting, so the command line
// sets it once from its verbosity flag; libraries never change it behind the caller's back.
#pragma once
#include <functional>
#include <string>

namespace facet::video {

enum class FfmpegLogLevel { Quiet, Error, Warning, Info };

void set_ffmpeg_log_level(FfmpegLogLevel level);

// Sends FFmpeg's messages (those the level lets through) to `sink` as whole lines without the
// newline, "[h264 @ 0x...] error while decoding MB 3 7", with the level each was logged at
// (Error covers FFmpeg's panic and fatal too). It may be called from FFmpeg's own threads, one
// line at a time. An empty sink puts FFmpeg's default back (stderr). The caller keeps whatever
// the sink uses alive until it is removed.
using FfmpegLogSink = std::function<void(FfmpegLogLevel level, const std::string& line)>;
void set_ffmpeg_log_sink(FfmpegLogSink sink);

}  // namespace facet::video
