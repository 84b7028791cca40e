// Video decoding through the FFmpeg libraries (libavformat/libavcodec/libswscale; no ffmpeg
// process): any container and codec this FFmpeg build reads. Frames come out as upright BGR
// cv::Mat (the display-matrix rotation of phone videos is applied) with their index and pts.
// Errors name the file and say what is wrong: missing, not a video, no video stream. A truncated
// or damaged file is decoded as far as it goes; what ends it is reported in warnings() and
// truncated(), and the frames produced before stay valid.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "pipeline/video/frame_source.h"

namespace facet::video {

class VideoReader : public FrameSource {
 public:
  explicit VideoReader(const std::string& path, const SourceOptions& opt = {});
  ~VideoReader() override;
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  const VideoInfo& info() const override;
  bool next(Frame& out) override;
  const std::vector<std::string>& warnings() const override;
  bool truncated() const override;
  int64_t frames_decoded() const;  // every frame the decoder produced so far, selected or not

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Opens the file, reads its headers (counting packets only when the container has no frame
// count) and returns the stream description. Throws facet::Error like VideoReader.
VideoInfo probe_video(const std::string& path);

}  // namespace facet::video
