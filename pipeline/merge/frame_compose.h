// Compositing a frame's faces for the merge stage: merge_faces (merge_face.h), restricted to the
// part of the frame the faces can touch. DFL's merger works on whole frames: every warp, blend
// and type conversion runs over all pixels, which at 1080p costs ~10x more than the face needs.
// A face changes nothing outside its output square (the mask is zero there), and every warp
// into or out of face space reads only pixels within the cubic kernel's reach of that square. So
// the computation runs on a crop that holds every face's square grown by 3 face pixels (the reach
// of a cubic kernel in face space, which in frame pixels scales with the face) plus 3 frame pixels.
// The result is the whole-frame result up to OpenCV's warp rounding: warpAffine quantises sample
// positions to 1/32 px relative to the output's origin, and the crop moves the origin, so a few
// pixels on steep mask edges differ by some levels (tests/pipeline/test_merge_stage_compose.cpp
// bounds it: <= 11/255 at < 2 % of the crop, most cases <= 1/255). Pixels the mask leaves alone
// stay bit-exact. Settings that act on the whole frame (denoise, bicubic degrade, colour
// degrade) and raw-predict take the whole-frame path, and allow_roi = false forces it.
#pragma once
#include <vector>

#include <opencv2/core/mat.hpp>

#include "pipeline/faces/align.h"
#include "pipeline/merge/merge_face.h"

namespace facet::merge {

struct FrameFace {
  FaceMergeInputs in;          // face_mat in frame coordinates; dst_hull_mask is filled in here
  faces::Landmarks landmarks;  // frame coordinates: the dst hull (mask mode "dst", the face region)
};

struct ComposedFrame {
  cv::Mat image;  // CV_8UC3 frame (R x R for raw-predict), rounded as merge_face rounds
  cv::Mat mask;   // CV_8UC1 merge mask (only when asked)
  bool seamless_failed = false;
  cv::Rect roi;   // the region that was computed (the whole frame when no crop was possible)
};

// frame: CV_8UC3. No faces: the frame itself (shared, not copied) and a zero mask.
// allow_roi = false forces the whole-frame computation (for comparison).
ComposedFrame compose_frame(const cv::Mat& frame, const std::vector<FrameFace>& faces, const MergeSettings& s,
                            bool want_mask, bool allow_roi = true);

// The crop of `frame_size` that the faces can change under settings `s`, or the whole frame.
cv::Rect compose_region(cv::Size frame_size, const std::vector<FrameFace>& faces, const MergeSettings& s);

}  // namespace facet::merge
