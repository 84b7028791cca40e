// Where merged frames go: a video file (H.264 through pipeline/video/video_writer.h) or a folder
// of PNG frames, and the same two choices for the optional mask output.
//
// PNG folders resume. Frame i is written as <folder>/<i, 6 digits>.png through a temporary name
// and a rename, so a frame file that exists is complete (an interrupted write leaves only a
// temporary file, removed on the next run); done(i) also checks that the file ends with PNG's
// IEND chunk. The folder holds a manifest, facet_merge.json (input, alignments, model and its
// iteration, every setting): a later run with the same manifest skips the frames already there;
// one with a different manifest is refused unless `force`, which deletes the frames and starts over.
//
// Video files do not resume: an MP4 that was cut off has no index and cannot be appended to. The
// video is written to "<stem>.partial<ext>" beside the output and renamed onto the output only
// when complete, so an interrupted merge never leaves a broken file under the output's name (an
// older complete output stays until the new one replaces it); the next run encodes from frame 0.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "pipeline/video/video_writer.h"

namespace facet::merge {

// True for names that end in a video container extension (.mp4 .mkv .mov .avi .webm .m4v).
bool is_video_path(const std::string& path);

// The conventional frame name: "000123.png".
std::string merged_frame_name(int64_t index);

// Fails early, before any work, with a facet::Error naming the path when `path` cannot be written:
// for a video, its folder must exist and be writable; for a folder, it must be creatable and writable.
void check_output_writable(const std::string& path, bool video);

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Frame `index` is already written completely (resume). Always false for video.
  virtual bool done(int64_t index) const = 0;
  // pts in the source's time base (video keeps the source timestamps).
  virtual void write(int64_t index, int64_t pts, const cv::Mat& image) = 0;
  virtual void finish() = 0;   // completes the output (video: flush, trailer, rename into place)
  virtual void abandon() = 0;  // interrupted or failed: a video's partial file is deleted
  virtual const std::string& path() const = 0;
  virtual std::vector<std::string> warnings() const { return {}; }  // e.g. the encoder's audio notes
};

// manifest: the JSON text identifying this merge (compared on resume).
std::unique_ptr<FrameSink> open_png_sink(const std::string& dir, const std::string& manifest, bool force);
std::unique_ptr<FrameSink> open_video_sink(const std::string& path, int width, int height,
                                           const video::VideoWriterOptions& opt);

// The partial file a video sink writes before renaming it onto `path`.
std::string partial_video_path(const std::string& path);

}  // namespace facet::merge
