// Gaussian blur of NHWC images, as DeepFaceLab's nn.gaussian_blur: DFL uses it for the soft loss
// mask (sigma = max(1, R//32)), blur_out_mask (sigma = R/128) and style_loss (sigma = R//8).
// Differentiable (the backward is the same blur of the output gradient).
#pragma once
#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet {

// x: [N, H, W, C]; sigma > 0. kernel_size 0 picks DFL's max(3, int(4*sigma)) made odd; an explicit
// size must be odd. Zero padding, output the size of x, every channel blurred alike.
Tensor gaussian_blur(Context& ctx, const Tensor& x, double sigma, int kernel_size = 0);

// The kernel size gaussian_blur uses for sigma (DFL's rule): 4 -> 17, 1 -> 5, 0.5 -> 3.
int gaussian_blur_kernel_size(double sigma);

}  // namespace facet
