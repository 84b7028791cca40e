// The SAEHD training losses (reference/deepfacelab.md §2) as differentiable ops. Each returns the
// per-sample loss vector [N], as DFL does; scale and sum them into the step's loss as DFL does
// (it differentiates the sum over the batch).
#pragma once
#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet {

// DFL's nn.dssim with max_val 1: Gaussian window (sigma, centred at (fs-1)/2, any fs >= 1 up to
// the image size), VALID filtering, (1 - ssim)/2 per channel, mean over channels.
// a, b: [N, H, W, C] of one dtype and device. Gradients flow to both images.
Tensor dssim(Context& ctx, const Tensor& a, const Tensor& b, int filter_size, double sigma = 1.5);

// Per-sample mean over all non-batch elements of mask * (a - b)^2 (mse_loss) or mask * |a - b|
// (l1_loss; its gradient uses sign(0) = 0). a, b: [N, ...] of one shape. mask: undefined (no
// weighting), a's shape, or a's shape with the last axis 1 (e.g. [N,H,W,1], broadcast over
// channels). The mean divides by the element count, not by the mask's area (as DFL). The mask is
// a constant weight: no gradient flows into it.
Tensor mse_loss(Context& ctx, const Tensor& a, const Tensor& b, const Tensor& mask = {});
Tensor l1_loss(Context& ctx, const Tensor& a, const Tensor& b, const Tensor& mask = {});

}  // namespace facet
