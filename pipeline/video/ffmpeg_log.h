// How much the FFmpeg libraries print to stderr (decoder complaints about damaged data, x264's
// encoding statistics). This is FFmpeg's own process-wide setting, so the command line sets it
// once from its verbosity flag; libraries never change it behind the caller's back.
#pragma once

namespace facet::video {

enum class FfmpegLogLevel { Quiet, Error, Warning, Info };

void set_ffmpeg_log_level(FfmpegLogLevel level);

}  // namespace facet::video
