// The merge stage: a destination video (or frame folder), its alignments file and face set, and
// a trained model in; the finished video (or PNG frames) out, with the swapped face in every frame
// that has one. docs/merge.md, "The merge stage".
//
// Per frame: its faces from the alignments file (only those whose face image still exists in the
// face set, so deleting a face image removes that face from the merge), landmarks smoothed over
// time (face_tracks.h), aligned as extraction aligned them (the model's face type, which must be
// the face set's, at the model's resolution), the model's swap forward on batches of faces
// (face_swapper.h), composited with merge_faces (merge_face.h), written. Frames without faces are
// written exactly as decoded.
//
// Threads: a reader decodes frames and cuts the aligned dst faces; the calling thread batches
// faces from several frames through the model; compositing workers merge the faces into their
// frames; a writer encodes in frame order. Bounded queues between them keep memory flat and let
// decoding, inference, compositing and encoding run at the same time.
//
// Output: H.264 yuv420p (crf, preset) with the source's frame rate, frame count, timestamps and
// (packet-copied) audio, or PNG frames 000000.png, 000001.png, ... named by source frame index.
// PNG output resumes (frames written completely are skipped); video output is written to a
// partial file and renamed when complete, and an interrupted video merge starts over
// (merge_output.h). An optional mask output (video or PNG folder) gets the merge mask.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/merge/merge_stage_settings.h"

namespace facet::merge {

struct MergeStageOptions {
  std::string input;        // dst video file or folder of frame images
  std::string alignments;   // its alignments file (facet extract)
  std::string faces_dir;    // its face set; faces whose image was deleted are not merged
  std::string model_dir;    // trained model folder (facet train)
  std::string mask_model_dir;  // the XSeg mask modes' mask model folder (facet mask train); "" = none
  std::string output;       // video file (by extension) or PNG frame folder
  bool png = false;         // PNG frames into `output` whatever its name
  std::string mask_output;  // "" = none; a video file (by extension) or a PNG frame folder
  MergeStageSettings settings;
  int crf = 18;                  // x264 quality (0 lossless .. 51)
  std::string preset = "medium"; // x264 preset
  bool use_gpu = true;           // run the model on the GPU when there is one
  bool force = false;            // PNG output of another merge: delete it and start over
  bool whole_frame = false;      // composite on whole frames as DFL does (slower; see frame_compose.h)
  int batch = 0;                 // faces per model run; 0 = 8 on the CPU, 32 on a GPU
  int compose_threads = 0;       // compositing workers; 0 = hardware threads - 1 (at least 1, at most 8)
  int queue_frames = 0;          // frames buffered between stages; 0 = 2 x batch (at least 8)
  std::function<bool()> should_stop;  // polled per frame: stop cleanly (PNG output keeps what was written)
  std::function<void(int64_t frames_done, int64_t frames_total, double elapsed)> progress;  // per written frame
  std::function<void(const std::string&)> log;  // notes and warnings as they happen
};

struct MergeStageResult {
  std::string output, mask_output, device;
  bool video = false;               // output is a video file
  int64_t frames = 0;               // frames read from the input
  int64_t frames_written = 0;       // by this run
  int64_t frames_resumed = 0;       // skipped: already in the PNG output
  int64_t frames_with_faces = 0;    // of those written by this run
  int64_t faces_merged = 0;
  int64_t faces_dropped = 0;        // listed in the alignments, face image deleted
  int64_t seamless_failures = 0;
  bool stopped = false;             // should_stop() ended the run early
  bool truncated = false;           // the input ended before the frame count it announced
  double seconds = 0, fps = 0;      // wall time; frames (read) per second
  // Busy seconds of each stage (they overlap, so they add up to more than `seconds`).
  double decode_seconds = 0, infer_seconds = 0, compose_seconds = 0, write_seconds = 0;
  std::vector<std::string> warnings;
};

// Runs the merge. Throws facet::Error (std::invalid_argument for a bad merger setting) naming the
// file and the problem: missing input, alignments file or face set; a model folder without a
// checkpoint; a model whose face type differs from the face set's or whose resolution exceeds the
// face size; an output that cannot be written; PNG output of another merge (without force).
MergeStageResult run_merge(const MergeStageOptions& opt);

struct MergePreviewResult {
  int64_t frame = 0;
  int faces = 0;       // merged into it (0: the frame is written unchanged)
  std::string path;
};

// Renders frame `frame` (source index) with opt.settings into a PNG at `out_png` (written
// atomically); the output options of `opt` are not used. Throws facet::Error when the frame is
// past the end of the input.
MergePreviewResult render_merge_preview(const MergeStageOptions& opt, int64_t frame, const std::string& out_png);

}  // namespace facet::merge
