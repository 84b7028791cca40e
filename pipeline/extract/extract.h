// The extraction stage: a video (or image folder) in, a face set and an alignments file out.
// frames -> BlazeFace -> FaceMesh (+ refinement pass) -> 68 iBUG points -> Umeyama alignment
// onto DeepFaceLab's template -> face images of the chosen type, size and format, each carrying
// its metadata (docs/formats-faceset.md) -> <output>/<source stem>.alignments.json.
//
// How it runs: one thread decodes and batches frames, W workers (each with its own engine
// Context and models) find faces and align, crop, encode the face images (and debug frames),
// and the calling thread writes the files in frame order and keeps the alignments. So on a CPU
// the nets and the encoders of consecutive batches overlap on all cores, and on a GPU one worker
// feeds big batches.
//
// Safety: the alignments file is rewritten atomically every few seconds and at the end, and lists
// a frame only after its face images are on disk. Re-running resumes: frames already in the
// alignments file are skipped (a frame without faces is listed too, so it is not retried).
// `force` deletes this source's face images, debug frames and alignments first. A truncated
// video is extracted as far as it decodes (warning in the result); any error stops the run after
// saving the alignments of every frame finished before it, then propagates.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/detect/face_finder.h"
#include "pipeline/faces/face_type.h"
#include "pipeline/faces/image_chunks.h"
#include "pipeline/video/frame_source.h"

namespace facet::extract {

struct ExtractOptions {
  std::string input;       // video file or folder of frame images
  std::string output_dir;  // face set folder (created when missing); the alignments file goes here
  std::string debug_dir;   // "" = no debug frames; else one JPEG per processed frame with boxes drawn
  std::string assets_dir;  // model folder; "" = the default search (detect/model_files.h)
  faces::FaceType face_type = faces::FaceType::Full;
  int face_size = 512;
  faces::ImageFormat format = faces::ImageFormat::Jpeg;
  int jpeg_quality = 95;
  video::FrameSelection select;
  detect::FinderOptions finder;
  bool force = false;
  bool use_gpu = true;      // use the CUDA device when this build has one and it is present
  int batch = 0;            // frames per net run; 0 = 8 on the CPU, 64 on a GPU
  int workers = 0;          // face-finding threads; 0 = one per core on the CPU (at most 4), 1 on a GPU
  double save_interval = 5; // seconds between alignments checkpoints
  std::function<bool()> should_stop;  // polled between batches (e.g. Ctrl-C): stop cleanly, keep all done
};

struct ExtractProgress {
  int64_t frames_done = 0;      // frames processed by this run
  int64_t frames_resumed = 0;   // frames skipped because the alignments file already had them
  int64_t frames_expected = 0;  // estimated selected frames in the source (0 = unknown)
  int64_t faces_written = 0;
  double elapsed = 0;           // seconds since the run started
  double fps = 0;               // frames processed per second
  double eta = -1;              // seconds left (-1 = unknown)
};

struct ExtractResult {
  std::string alignments_path;
  std::string device;              // "cpu" or "cuda:0"
  int64_t frames_processed = 0;    // by this run
  int64_t frames_resumed = 0;
  int64_t frames_with_faces = 0;   // of the processed ones
  int64_t frames_without_faces = 0;
  int64_t frames_multiple_faces = 0;
  int64_t faces_written = 0;
  bool truncated = false;          // the video ended before the frame count it announced
  bool stopped = false;            // should_stop() asked to stop early
  std::vector<std::string> warnings;
  double seconds = 0;              // wall time of the whole run
  double fps = 0;                  // frames_processed / seconds
  detect::FinderTimings timings;   // summed over workers
};

using ProgressFn = std::function<void(const ExtractProgress&)>;

// Runs the stage. Throws facet::Error (after saving what was done) for a missing or unreadable
// input, a missing model, an output folder that cannot be written, an alignments file made with
// other face type / size settings (use force), or a write that fails midway.
ExtractResult run_extract(const ExtractOptions& opt, const ProgressFn& progress = {});

// "<stem>.alignments.json" for a source path (video file or folder).
std::string alignments_file_name(const std::string& input);

// Applies a --start / --end value to a selection: a plain integer is a frame index ("250"); a
// number with a decimal point or an "s" suffix ("12.5", "10s") or a clock time ("1:05", "0:01:05.5")
// is a time in seconds. `end` values are exclusive. Throws facet::Error for anything else.
void apply_range_bound(const std::string& value, bool end, video::FrameSelection& sel);

// Estimated number of frames the selection picks from a source described by `info` (0 = unknown).
int64_t expected_frames(const video::VideoInfo& info, const video::FrameSelection& sel);

}  // namespace facet::extract
