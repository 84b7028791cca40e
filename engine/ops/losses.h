// The SAEHD training losses (DeepFaceLab models/Model_SAEHD/Model.py) as differentiable ops. Each returns the
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

// DFL's nn.style_loss (core/leras/ops L247-266), per sample: both images Gaussian-blurred with
// sigma = blur_radius (skipped at 0), then per channel the spatial mean m and standard deviation
// s = sqrt(var + 1e-5) (population variance, as tf.nn.moments); the loss is
// (sum_c (m_a - m_b)^2 + sum_c (s_a - s_b)^2) * weight / C. a, b: [N, H, W, C]. A composite of
// the blur and elementwise ops, so every backend and gradient comes with them.
Tensor style_loss(Context& ctx, const Tensor& a, const Tensor& b, double blur_radius, double weight);

// tf.nn.sigmoid_cross_entropy_with_logits averaged per sample (DFL's XSeg loss, models/
// Model_XSeg/Model.py): mean over all non-batch elements of max(z, 0) - z t + log(1 + exp(-|z|)),
// the overflow-free form of -t log(sigmoid z) - (1 - t) log(1 - sigmoid z). logits z and labels
// t in [0, 1] of one shape [N, ...]; the labels are data (no gradient). A composite.
Tensor sigmoid_cross_entropy(Context& ctx, const Tensor& logits, const Tensor& labels);

}  // namespace facet
