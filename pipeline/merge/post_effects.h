// The merger's effects after compositing (DFL MergeMasked.py step 11, core/imagelib/blursharpen.py,
// reduce_colors.py): motion blur and blur/sharpen of the re-extracted face, denoise and bicubic
// degradation of the background frame, colour degradation of the final image. float32 images.
#pragma once
#include <opencv2/core.hpp>

#include "pipeline/merge/merge_settings.h"

namespace facet::merge {

// DFL: k = int(motion_power * power/100); if k >= 1, k = clip(k + 1, 2, 50); 0 = no blur.
int motion_blur_kernel_size(double motion_power, int motion_blur_power);

// LinearMotionBlur: a size x size kernel whose middle row ((size-1)/2) is ones, rotated by
// angle_deg about ((size/2 - 0.5), (size/2 - 0.5)) (bilinear), normalised, applied by filter2D.
cv::Mat linear_motion_blur(const cv::Mat& img, int size, double angle_deg);

// blursharpen(img, mode, kernel_size, amount): amount > 0 sharpens (box: K = d + (d - box)*amount;
// gaussian: img*(1 + a/2) - GaussianBlur(img)*a/2); amount < 0 runs medianBlur(5) passes, a full
// pass per 10 units and a partial blend for the remainder. Even kernel sizes become odd.
cv::Mat blursharpen(const cv::Mat& img, SharpenMode mode, int kernel_size, int amount);

// image_denoise_power: medianBlur(5) passes, a full pass per 100 units while n >= 100, then
// blends of (n % 100)/100, n stepping down by 10 each pass (DFL's loop as written).
cv::Mat denoise(const cv::Mat& img, int power);

// bicubic_degrade_power: resize by p = 1 - power/101 (int sizes) and back, both cubic.
cv::Mat bicubic_degrade(const cv::Mat& img, int power);

// A palette of at most n_colors by median cut over the 8-bit colours (PIL's ADAPTIVE palette
// is also median cut; the palette entries differ in detail). Input/output float [0,1].
cv::Mat reduce_colors(const cv::Mat& img, int n_colors);

// color_degrade_power: img*(1 - p/100) + reduce_colors(img, 256)*p/100.
cv::Mat color_degrade(const cv::Mat& img, int power);

}  // namespace facet::merge
