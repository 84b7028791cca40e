// CUDA twins of kernels/cpu/optimizers.h: one fused kernel per optimizer (read w, g, state; write
// w, state; lr_dropout mask drawn in-kernel from Philox), f32 only — parameters and optimizer
// state are fp32 master copies. Global-norm clipping is computed on the device: a two-stage
// deterministic reduction writes the scale to device memory and the update kernel reads it, so
// clipping never makes the host wait (the step stays capturable in a CUDA graph).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/optimizers.h"  // OptimHyper (plain struct, no CUDA types)

namespace facet::cuda {

// Scratch for clip_scale: partial sums of squares (double), fixed size for any n.
size_t clip_workspace_bytes();

// out[0] = clip scale (clipnorm / ||g|| when ||g|| >= clipnorm > 0, else 1), out[1] = ||g||.
// out: 2 floats on the device; workspace: clip_workspace_bytes() on the device.
void clip_scale(const float* g, int64_t n, float clipnorm, float* out, void* workspace, void* stream);

// grad_scale: device pointer to one float multiplied into g (out[0] of clip_scale), or null for 1.
void adam_step(float* w, const float* g, float* m, float* v, int64_t n, const OptimHyper& h, const float* grad_scale,
               void* stream);
void adabelief_step(float* w, const float* g, float* m, float* v, int64_t n, const OptimHyper& h,
                    const float* grad_scale, void* stream);
void rmsprop_step(float* w, const float* g, float* a, int64_t n, const OptimHyper& h, const float* grad_scale,
                  void* stream);

}  // namespace facet::cuda
