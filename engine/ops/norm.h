// The normalisation and activation of DeepFaceLab's XSeg segmenter (core/leras/layers/FRNorm2D.py
// and TLU.py; Singh & Krishnan, "Filter Response Normalization Layer", CVPR 2020): per sample and
// channel, x / sqrt(mean over H,W of x^2 + |eps|), scaled and shifted per channel, then the
// thresholded linear unit max(x, tau). Composites of the elementwise ops, so both backends and
// every gradient come with those; the op table checks them as a whole.
#pragma once
#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet {

// x [N,H,W,C]; gamma, beta [C]; eps [1] (a learned parameter in DFL, used as |eps|).
Tensor filter_response_norm(Context& ctx, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& eps);

// max(x, tau) with tau [C] over the last axis (the gradient goes to x on ties).
Tensor tlu(Context& ctx, const Tensor& x, const Tensor& tau);

}  // namespace facet
