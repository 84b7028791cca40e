// The faces the merge stage pastes, frame by frame, worked out from the alignments file before
// any pixel is touched: faces of consecutive frames are linked into tracks, the landmarks are
// smoothed along each track to cut the frame-to-frame jitter of the landmark detector, and each
// face gets DeepFaceLab's motion vector for the optional motion blur.
//
// Linking: faces of frames f and f+1 (both listed in the alignments) are paired greedily by the
// distance between their landmark centroids, closest pairs first, when that distance is below
// `link_distance` times the larger face's landmark box side. A frame that is absent from the
// alignments (never processed) or a face that moves too far ends a track.
//
// Smoothing filter: a centred moving average of the 68 landmarks over +-N frames of the same
// track (equal weights). At the ends of a track the window shrinks symmetrically (radius
// min(N, k, len-1-k)), so the filter never lags the face and the first and last frame of a track
// keep their own landmarks. N = 0 leaves the landmarks as extracted.
//
// Motion (DFL Merger.py, "Computing motion vectors"): the point (127, 127) of the full_face crop
// at 256 px is mapped back into the frame for the previous and the next frame of the track;
// motion_power = |p(next) - p(prev)| in frame pixels and motion_deg = -atan2(dy, dx) in degrees.
// A face without both neighbours has no motion (DFL computes it only in that case too). The
// smoothed landmarks are used, so the blur follows the face as it is pasted.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pipeline/faces/alignments.h"

namespace facet::merge {

struct MergeFace {
  int face_index = 0;
  std::string file;                 // its face image (informational)
  faces::Landmarks landmarks;       // frame pixels, smoothed when asked: what the merge aligns with
  double motion_power = 0.0;        // frame pixels between the previous and next frame's face
  double motion_deg = 0.0;
  int track = -1;                   // id of the track it belongs to
};

struct FaceTrackOptions {
  int smooth_radius = 0;        // N: average over +-N frames of the track (0 = off)
  double link_distance = 0.5;   // link faces whose centroids move less than this x the face size
};

// Frames that have at least one face -> their faces in face_index order.
using FrameFaces = std::map<int64_t, std::vector<MergeFace>>;

// Throws facet::Error for a face without 68 landmarks or a negative smoothing radius.
FrameFaces build_frame_faces(const faces::Alignments& al, const FaceTrackOptions& opt = {});

// DFL's motion anchor: (127, 127) of the 256 px full_face crop of these landmarks, in frame pixels.
faces::Point motion_anchor(const faces::Landmarks& lmrks68);

}  // namespace facet::merge
