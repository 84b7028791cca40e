// Colour transfer between two face crops: DeepFaceLab's core/imagelib/color_transfer.py in C++
// (rct, lct, mkl, idt, sot, mix, hist-match) and the merger's dispatch over its ctm modes.
//
// Every function takes `image` (the picture whose colours change; DFL calls it target, x0, i0 or
// src depending on the function) and `reference` (whose colour statistics it should take on):
// float32 BGR in [0,1], same size (1 or 3 channels where noted). Random choices (idt's rotations,
// sot's directions) come from a seeded generator, so a result is reproducible; DFL draws them from
// numpy's unseeded global state.
#pragma once
#include <cstdint>

#include <opencv2/core.hpp>

#include "pipeline/merge/merge_settings.h"

namespace facet::merge {

// Reinhard mean/std transfer in OpenCV's float L*a*b* (L 0..100). Pixels whose mask is below
// mask_cutoff are set to 0 but still counted in the mean and std (DFL's behaviour). Per channel
// t' = (t - mu_t) * sd_r / sd_t + mu_r, then L clipped to [0,100], a/b to [-127,127], back to BGR.
// Masks are optional CV_32FC1 of the image size.
cv::Mat rct(const cv::Mat& image, const cv::Mat& reference, const cv::Mat& image_mask = cv::Mat(),
            const cv::Mat& reference_mask = cv::Mat(), float mask_cutoff = 0.5f);

// Linear colour transfer, DFL's 'pca' mode: C = biased covariance + eps*I, Q = E sqrt(L) E^T,
// out = Q_r Q_i^-1 (x - mu_i) + mu_r, clipped to [0,1]. Any channel count (mix uses 1).
cv::Mat lct(const cv::Mat& image, const cv::Mat& reference, double eps = 1e-5);

// Monge-Kantorovich linear map (Pitie & Kokaram): A = cov(image), B = cov(reference) (unbiased),
// A = Ua Da^2 Ua^T, C = Da Ua^T B Ua Da = Uc Dc^2 Uc^T, T = Ua Da^-1 Uc Dc Uc^T Da^-1 Ua^T,
// out = (x - mu_i) T + mu_r, clipped to [0,1]. Eigenvalues clipped below at double epsilon.
cv::Mat mkl(const cv::Mat& image, const cv::Mat& reference);

// Iterative distribution transfer (Pitie): n_rot random rotations; per rotated axis, bins-bin
// histograms over the joint range give piecewise-linear CDFs, each point goes through the image's
// CDF and the reference's inverse CDF, and the points move by 1/n_rot of the rotated-back
// displacement. Clipped to [0,1]. DFL composes the two CDFs through interpolation knots at the
// upper bin edges with np.interp(left=0); composing per point instead keeps an image unchanged
// when its reference has the same distribution (docs/merge.md has the details).
cv::Mat idt(const cv::Mat& image, const cv::Mat& reference, int bins = 256, int n_rot = 20, uint64_t seed = 0);

// Sliced optimal transport (Bonneel / OTColorTransfer): steps x batch_size random unit
// directions; each step moves every pixel by the mean over the batch of the 1-D sorted-matching
// displacement along each direction. If reg_sigma_xy != 0 the displacement field is regularised
// with bilateralFilter(d=0, sigmaColor=reg_sigma_v, sigmaSpace=reg_sigma_xy). Not clipped (as DFL).
cv::Mat sot(const cv::Mat& image, const cv::Mat& reference, int steps = 10, int batch_size = 5,
            float reg_sigma_xy = 16.f, float reg_sigma_v = 5.f, uint64_t seed = 0);

// DFL's color_transfer_mix: on uint8 L*a*b*, lct on L; sot (defaults) on the chroma of the
// L=100 images; recombined. Returns float [0,1].
cv::Mat mix(const cv::Mat& image, const cv::Mat& reference, uint64_t seed = 0);

// DFL's color_hist_match: per channel, exact-value CDF matching (np.unique); the image's
// quantiles are scaled to `threshold` instead of 255 and interpolated against the reference's
// 255-scaled quantiles. threshold 255 is plain histogram matching. Channels beyond 3 are copied.
cv::Mat hist_match(const cv::Mat& image, const cv::Mat& reference, double threshold = 255.0);

// The merger's colour step (MergeMasked.py): rct with both statistics masks = mask_area;
// lct/mkl/idt unmasked; the -m modes multiply both images by mask_area first; sot-m uses
// 10 steps, batch 30 and is clipped. mask_area is the binarised R x R face mask (CV_32FC1).
cv::Mat apply_color_transfer(ColorTransferMode mode, const cv::Mat& image, const cv::Mat& reference,
                             const cv::Mat& mask_area, uint64_t seed = 0);

}  // namespace facet::merge
