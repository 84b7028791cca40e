// Replaces what lies outside a face mask with the face's own colours, extrapolated outward by
// push-pull (Gortler et al., "The Lumigraph", SIGGRAPH 1996: a pyramid of mask-weighted colour
// averages, filled back from coarse to fine). The training faces of the source identity get it
// under masked training, so that the source decoder never learns the backdrop the source was
// filmed against: the swap then carries face colours, not that backdrop, into the blend band at
// the edge of the merge mask (the coloured fringe at the cheek a landmark hull leaves).
// A landmark hull is only roughly the face (it takes in backdrop along the jaw of a turned head);
// learned masks follow the face, and under a hull the band inside its edge is filled as well.
#pragma once
#include <opencv2/core/mat.hpp>

namespace facet::faces {

// image: CV_8UC3, filled in place where mask < 1: out = image * mask + fill * (1 - mask), the
// fill pushed out from the pixels where mask > 0.5 (a soft edge's outer half is backdrop, so it
// gives no colour). mask: CV_32FC1 in [0, 1] of the image's size. A mask with no pixel above 0.5
// leaves the image as it was.
// erode_px > 0 first shrinks the mask by that radius (then feathers it over half as much): for
// a landmark hull, which encloses some backdrop along the jaw and above the brows, so that the
// band where it may lie is filled too.
void fill_outside_mask(cv::Mat& image, const cv::Mat& mask, int erode_px = 0);

}  // namespace facet::faces
