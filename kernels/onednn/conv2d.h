// Regular 2-D convolution on oneDNN, the CPU backend's fast path for f32 tensors (the im2col +
// GEMM kernels of kernels/cpu/conv2d.h stay the reference every result here is tested against).
//
// Why oneDNN: its JIT kernels (brgemm / jit convolutions for the CPU's ISA, chosen at run time)
// are 2-2.5x faster than im2col + OpenBLAS on the SAEHD layers at f32, and on CPUs with native
// bf16 dot products (AVX512_BF16, AMX) they run bf16 convolutions at about twice that again.
//
// Layout: our tensors stay NHWC (activations) and OHWI (weights) at the boundary. Activations are
// handed to oneDNN as NHWC, which its kernels take directly; the weights are reordered per call
// into the blocked layout the chosen kernel wants (they change every step, and the reorder costs
// a small fraction of the convolution). Padding is passed as separate before/after amounts, so
// TF SAME's asymmetric padding is exact.
//
// Batch independence by construction: the forward runs a batch-1 primitive once per image, so an
// image's output is computed by the same kernel with the same blocking whatever batch it came in
// (kernel choice inside oneDNN may follow the batch size). Backward-data and backward-weights run
// on the whole batch: they happen only in training, whose batch is fixed.
//
// Everything a call needs -- primitives, reordered weights, bf16 copies, scratchpads -- is created
// on the first call for a problem and kept in the cache, so a steady-state step allocates nothing.
// A ConvCache belongs to one engine context and is used by one thread at a time.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/cpu/conv2d.h"

namespace facet::onednn {

// The precision oneDNN multiplies in. Inputs and outputs are f32 either way; BF16 rounds the
// activations, weights and output gradients to bf16 for the products and accumulates in f32.
enum class Math { F32, BF16 };

// Whether this CPU has native bf16 dot products (AVX512_BF16 or AMX), so that Math::BF16 is fast
// (oneDNN emulates it on other CPUs, slower than f32).
bool cpu_has_native_bf16();

// What a forward applies to its output in the same pass, as a oneDNN post-op: the SAEHD layers'
// leaky ReLU after conv + bias, so the output is written once instead of written, read and
// rewritten. `x > 0 ? x : slope * x`, the same arithmetic as the separate op.
struct Epilogue {
  bool leaky_relu = false;
  float slope = 0;
};

// One problem the cache has built primitives for, for tests and reports.
struct ProblemInfo {
  std::string pass;   // "forward", "backward_data", "backward_weights", "depthwise_forward"
  int64_t batch;      // the batch size the primitive runs at (1 for every forward)
  std::string kernel; // oneDNN's implementation name, e.g. "brgconv:avx512_core"
  Math math;
};

class ConvCache {
 public:
  ConvCache();
  ~ConvCache();
  ConvCache(const ConvCache&) = delete;
  ConvCache& operator=(const ConvCache&) = delete;

  // The same contracts as cpu::conv2d_forward / conv2d_backward_data / conv2d_backward_filter
  // (outputs overwritten; bias and dbias may be null), on f32 NHWC / OHWI buffers.
  void forward(const cpu::Conv2dGeom& g, Math math, const float* x, const float* w, const float* bias, float* y,
               Epilogue epilogue = {});
  void backward_data(const cpu::Conv2dGeom& g, Math math, const float* dy, const float* w, float* dx);
  void backward_filter(const cpu::Conv2dGeom& g, Math math, const float* x, const float* dy, float* dw,
                       float* dbias);

  // cpu::depthwise_conv2d_forward's contract (g.k == g.c, w [kh, kw, c]), run as a grouped
  // convolution. Forward only: the face nets are inference, and the SAEHD models have no depthwise
  // layers, so their backward stays on the reference kernels.
  void depthwise_forward(const cpu::Conv2dGeom& g, Math math, const float* x, const float* w, const float* bias,
                         float* y);

  std::vector<ProblemInfo> problems() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facet::onednn
