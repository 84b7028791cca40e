// The `facet video` tools over pipeline/video: a video (or part of it) to numbered frame images,
// a folder of frame images back to an H.264 video with the audio of a reference video, a
// re-encoded cut of a time range with its audio, and a readable description of a video.
// DeepFaceLab has the same steps as separate scripts (extract_video, video_from_sequence,
// cut_video) that shell out to ffmpeg; here they go through the FFmpeg libraries.
//
// Outputs are written under a temporary name and renamed into place at the end, so a failed or
// interrupted run never leaves a half-written video where a finished one is expected.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/video/frame_source.h"

namespace facet::tools {

// Called with frames done so far and the expected total (0 = unknown).
using ProgressFn = std::function<void(int64_t done, int64_t total)>;

// "25" -> 25/1, "12.5" -> 25/2, "30000/1001" -> 30000/1001; 23.976, 29.97, 47.952, 59.94 and
// 119.88 mean the NTSC rates N*1000/1001. Throws facet::Error for anything not a positive rate.
video::Rational parse_frame_rate(const std::string& text);

struct FrameExportOptions {
  std::string input;       // video file (or image folder)
  std::string output_dir;  // created when missing
  video::FrameSelection select;
  std::string format = "png";  // png | jpg
  int jpeg_quality = 95;
  bool force = false;      // delete the images already in output_dir first (otherwise that is an error)
};

struct FrameExportResult {
  video::VideoInfo info;   // of the input
  int64_t frames = 0;      // images written
  int64_t first_index = -1, last_index = -1;  // source frame indices of the first and last written
  std::vector<std::string> warnings;
  bool truncated = false;
  double seconds = 0;
};

// Image names: the source frame index, 0-based, 6 digits ("000123.png"), so frames picked with an
// every-Nth or range selection keep saying which source frame they are, and the folder reads back
// in order (natural name order) as a video.
std::string frame_image_name(int64_t index, const std::string& ext);

// Throws facet::Error when the input cannot be read, the output folder already holds images (and
// not force), or an image cannot be written.
FrameExportResult export_frames(const FrameExportOptions& opt, const ProgressFn& progress = {});

struct BuildVideoOptions {
  std::string input_dir;   // frame images, natural name order
  std::string output;      // video file; the container comes from the extension
  video::Rational fps{0, 0};  // {0,0}: the reference's rate, else 25
  std::string reference;   // a video: its frame rate (unless fps is given) and its audio
  bool audio = true;       // copy the reference's audio (when it has any)
  double audio_offset = 0; // seconds into the reference's audio that play with the first frame
  int crf = 18;
  std::string preset = "medium";
};

struct BuildVideoResult {
  int64_t frames = 0;
  int width = 0, height = 0;
  video::Rational fps;
  bool audio = false;      // the output has an audio track
  std::string encoder;
  int64_t resized = 0;     // frames of another size than the first, scaled to it
  std::vector<std::string> warnings;
  double seconds = 0;
};

BuildVideoResult build_video(const BuildVideoOptions& opt, const ProgressFn& progress = {});

struct CutVideoOptions {
  std::string input, output;
  video::FrameSelection select;  // the range to keep (start/end as frames or times)
  bool audio = true;
  int crf = 18;
  std::string preset = "medium";
};

struct CutVideoResult {
  int64_t frames = 0;
  double start = 0;        // seconds into the input of the first frame kept
  double duration = 0;     // of the output's video
  bool audio = false;
  std::string encoder;
  std::vector<std::string> warnings;
  double seconds = 0;
};

// Re-encodes the selected frames with their original timestamps (shifted to start at 0) and the
// audio of the same span.
CutVideoResult cut_video(const CutVideoOptions& opt, const ProgressFn& progress = {});

// Multi-line "key: value" description, and the same as one JSON object.
std::string format_video_info(const video::VideoInfo& info);
std::string video_info_json(const video::VideoInfo& info);

}  // namespace facet::tools
