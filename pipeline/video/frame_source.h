// Where frames come from: a video file (video_reader.h, FFmpeg libraries) or a folder of images
// (image_folder.h). Both give the same stream of BGR frames with their index in the source and
// presentation time, and honour the same selection options (every Nth frame, a frame range or a
// time range), so extraction does not care which one it reads. open_frame_source picks by path.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace facet::video {

struct Rational {
  int64_t num = 0, den = 1;
  double value() const { return den ? double(num) / double(den) : 0.0; }
  bool valid() const { return num > 0 && den > 0; }
};

struct VideoInfo {
  std::string path;
  Rational fps;               // average frame rate (e.g. 30000/1001)
  int64_t frame_count = 0;    // from the container, or counted when it does not say
  bool frame_count_exact = true;  // false if only estimated from duration * fps
  double duration = 0;        // seconds
  int width = 0, height = 0;  // displayed size (after rotation)
  int coded_width = 0, coded_height = 0;  // as stored (before rotation)
  int rotation = 0;           // clockwise degrees applied to display frames: 0, 90, 180 or 270
  bool has_audio = false;
  std::string codec;          // e.g. "h264"; "image" for image folders
  Rational time_base;         // unit of Frame::pts
  double start_time = 0;      // seconds of the first frame's pts
};

struct Frame {
  cv::Mat image;      // BGR 8-bit, rotated upright
  int64_t index = 0;  // 0-based index in the source (decode order of presented frames)
  int64_t pts = 0;    // in VideoInfo::time_base units
  double time = 0;    // seconds from the start of the stream
};

// Which frames to produce. A frame is produced when it lies in [first_frame, end_frame) and in
// [start_time, end_time) and (index - first selected index) is a multiple of every_nth.
struct FrameSelection {
  int every_nth = 1;
  int64_t first_frame = 0;
  int64_t end_frame = -1;  // exclusive; -1 = to the end
  double start_time = 0;   // seconds, relative to the stream start
  double end_time = -1;    // exclusive; -1 = to the end
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual const VideoInfo& info() const = 0;
  // The next selected frame; false at the end. Decode problems that end the stream early are
  // recorded in warnings() (frames produced before them stay valid).
  virtual bool next(Frame& out) = 0;
  virtual const std::vector<std::string>& warnings() const = 0;
  // True when the source ended before the frame count it announced (truncated or damaged file).
  virtual bool truncated() const = 0;
};

struct SourceOptions {
  FrameSelection select;
  Rational folder_fps{25, 1};  // frame rate given to image folders (DFL's default)
  int decode_threads = 0;      // FFmpeg decoder threads; 0 = FFmpeg's choice
};

// A folder gives an image-folder source, anything else a video. Throws facet::Error naming the
// path and the problem (missing, not a video, no video stream, empty folder, ...).
std::unique_ptr<FrameSource> open_frame_source(const std::string& path, const SourceOptions& opt = {});

// Applies a FrameSelection to a stream of (index, time) in increasing order.
class FrameSelector {
 public:
  explicit FrameSelector(const FrameSelection& s);  // throws facet::Error for an invalid selection
  bool accept(int64_t index, double time);         // call once per frame, in order
  bool done(int64_t index, double time) const;     // no frame at or after this one can be accepted

 private:
  FrameSelection s_;
  int64_t anchor_ = -1;  // first in-range index: every_nth counts from it
};

}  // namespace facet::video
