// Video encoding through the FFmpeg libraries, for merge output: H.264 (libx264 when this FFmpeg
// has it, else the best other H.264 encoder, else MPEG-4 part 2), yuv420p, quality by CRF, the
// source's frame rate and (optionally) its exact timestamps, and the first audio stream of a
// reference file copied packet by packet (no re-encode), cut to the video's time span.
// The container comes from the extension (.mp4, .mkv, .mov, ...).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "pipeline/video/frame_source.h"

namespace facet::video {

struct VideoWriterOptions {
  Rational fps{25, 1};
  // Unit of the pts passed to write(); {0,0} means 1/fps (pts = frame number). Pass the source's
  // VideoInfo::time_base and Frame::pts to keep its timestamps (variable frame rate included).
  Rational time_base{0, 0};
  int crf = 18;                    // x264 constant-rate factor: 0 lossless .. 51 worst; 18 ~ visually lossless
  std::string preset = "medium";   // x264 preset
  std::string encoder;             // force an encoder by FFmpeg name; "" = automatic choice above
  std::string audio_from;          // copy the first audio stream of this file; "" = no audio
  double audio_start = 0;          // seconds into audio_from that play at output time 0
  int threads = 0;                 // encoder threads; 0 = FFmpeg's choice
};

class VideoWriter {
 public:
  // Throws facet::Error naming the file: cannot create it, unknown container, no encoder, or
  // `audio_from` unreadable. A reference file without audio only gives a warning.
  VideoWriter(const std::string& path, int width, int height, const VideoWriterOptions& opt = {});
  ~VideoWriter();  // finishes the file if finish() was not called (errors then only go to stderr)
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // Appends a BGR (CV_8UC3) or gray frame of the size given at construction. pts in
  // options.time_base units, strictly increasing; -1 = the next frame number in 1/fps.
  void write(const cv::Mat& image, int64_t pts = -1);
  // Flushes the encoder, copies the remaining audio, writes the trailer. Throws on failure.
  void finish();

  const std::string& encoder_name() const;
  bool has_audio() const;
  int64_t frames_written() const;
  const std::vector<std::string>& warnings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facet::video
