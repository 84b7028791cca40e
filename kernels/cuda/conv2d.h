// CUDA twins of kernels/cpu/conv2d.h. Regular convolution goes to cuDNN (legacy v9 API, NHWC
// tensors, KRSC = OHWI filters, fp32 compute; f32 data uses FMA math so it matches the CPU
// reference, bf16 data uses tensor cores). Depthwise convolution is our own kernels.
//
// TF SAME padding can be asymmetric (the extra pixel after); cuDNN only pads symmetrically. The
// symmetric part, min(before, after) per axis, goes to cuDNN; the excess is materialised by
// copying the input into a zero-bordered workspace buffer (and, backwards, by computing the
// input gradient into that buffer and cropping it). "Pad one more on both sides and crop the
// output" would only be right for stride 1: with stride 2 it shifts every window by one pixel.
//
// cuDNN algorithms are chosen by the cudnnGet*Algorithm_v7 heuristics (deterministic-only when
// asked) once per problem and kept, with their descriptors, in a ConvAlgoCache owned by the caller
// (one per context: no globals). Every call takes its scratch memory from the caller.
// Bias add / bias gradient reuse kernels/cuda/matmul.h (its column reduction is two-pass and
// atomic-free); the depthwise filter gradient is two-pass and atomic-free too, so the whole
// backward is deterministic whenever cuDNN's algorithms are.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/common/dtype.h"
#include "kernels/cpu/conv2d.h"

namespace facet::cuda {

struct Handles;
using cpu::Conv2dGeom;

// Chosen cuDNN algorithms + descriptors per problem (geometry, dtype, deterministic flag, device).
// Thread-safe. Destroy it before the cuDNN handle it was used with.
class ConvAlgoCache {
 public:
  ConvAlgoCache();
  ~ConvAlgoCache();
  ConvAlgoCache(const ConvAlgoCache&) = delete;
  ConvAlgoCache& operator=(const ConvAlgoCache&) = delete;
  struct Impl;
  Impl& impl() { return *impl_; }
  size_t size() const;  // number of cached problems

 private:
  std::unique_ptr<Impl> impl_;
};

struct ConvConfig {
  bool deterministic = false;        // pick only algorithms cuDNN marks CUDNN_DETERMINISTIC
  ConvAlgoCache* cache = nullptr;    // null: query heuristics and build descriptors on every call
};

// Device scratch bytes that each of conv2d_forward / _backward_data / _backward_filter needs for
// this problem (one size for all three, so one buffer serves a whole training step's layer).
size_t conv2d_workspace_bytes(const Handles& h, DType dt, const Conv2dGeom& g, const ConvConfig& cfg);

// y = conv(x, w) (+ bias); bias may be null. dt: F32 or BF16.
void conv2d_forward(const Handles& h, DType dt, const Conv2dGeom& g, const void* x, const void* w, const void* bias,
                    void* y, void* workspace, size_t workspace_bytes, const ConvConfig& cfg);
// dx (overwritten) from dy and w.
void conv2d_backward_data(const Handles& h, DType dt, const Conv2dGeom& g, const void* dy, const void* w, void* dx,
                          void* workspace, size_t workspace_bytes, const ConvConfig& cfg);
// dw (overwritten) and, when dbias is not null, dbias = sum of dy over n, oh, ow.
void conv2d_backward_filter(const Handles& h, DType dt, const Conv2dGeom& g, const void* x, const void* dy, void* dw,
                            void* dbias, void* workspace, size_t workspace_bytes, const ConvConfig& cfg);

// Zero-bordered copy: xp [n, hp, wp, c] gets x [n, h, w, c] at row `top`, column `left`.
void conv2d_pad_input(DType dt, const Conv2dGeom& g, int64_t top, int64_t left, int64_t hp, int64_t wp, const void* x,
                      void* xp, void* stream);
// The inverse crop: dx [n, h, w, c] = dxp [n, hp, wp, c] from row `top`, column `left`.
void conv2d_crop_grad(DType dt, const Conv2dGeom& g, int64_t top, int64_t left, int64_t hp, int64_t wp,
                      const void* dxp, void* dx, void* stream);

// Depthwise (g.k == g.c, weights [kh, kw, c]); dt: F32 or BF16. Outputs are overwritten.
void depthwise_conv2d_forward(DType dt, const Conv2dGeom& g, const void* x, const void* w, const void* bias, void* y,
                              void* stream);
void depthwise_conv2d_backward_data(DType dt, const Conv2dGeom& g, const void* dy, const void* w, void* dx,
                                    void* stream);
size_t depthwise_conv2d_workspace_bytes(const Conv2dGeom& g);  // for backward_filter
void depthwise_conv2d_backward_filter(DType dt, const Conv2dGeom& g, const void* x, const void* dy, void* dw,
                                      void* dbias, void* workspace, void* stream);

}  // namespace facet::cuda
