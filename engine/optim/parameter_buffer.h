// ParameterBuffer: all parameters of a model in ONE flat fp32 buffer and all their gradients in
// a second one of the same layout (f64 is accepted on the CPU, where the reference tests run
// mixed precision as f32 compute over f64 masters; the buffers take the parameters' dtype). Every parameter Tensor is re-pointed to its slice, so the
// handles a module already holds read and write the flat memory; each parameter's grad is a view
// of the flat gradient buffer, so backward accumulates straight into it. The payoff: zero_grad
// is one memset, the optimizer is one fused kernel over the whole model, the global gradient
// norm is one reduction, and a checkpoint is a handful of contiguous arrays.
//
// Slices start on 64-element (256-byte) boundaries so vectorised kernels and cuBLAS see aligned
// pointers; the padding is zero in both buffers and stays zero under every optimizer here.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet {

class ParameterBuffer {
 public:
  static constexpr int64_t kAlign = 64;  // elements

  // params: F32 tensors on one device (the master weights; F64 allowed on the CPU, all alike). Their current values are copied in;
  // afterwards each tensor's impl points into params(), its grad into grads(), and it is flagged
  // is_param / requires_grad. A tensor listed twice is taken once. Views made earlier with
  // Tensor::view/slice0 keep the old memory: take views after building the buffer.
  ParameterBuffer(Context& ctx, const std::vector<Tensor>& params);
  ParameterBuffer(const ParameterBuffer&) = delete;
  ParameterBuffer& operator=(const ParameterBuffer&) = delete;

  int64_t numel() const { return params_.numel(); }  // including alignment padding
  int64_t param_count() const { return count_; }      // sum of the tensors' sizes
  Device device() const { return params_.device(); }
  DType dtype() const { return params_.dtype(); }  // F32 (F64: CPU reference tests)
  const Tensor& params() const { return params_; }  // flat [numel()]
  const Tensor& grads() const { return grads_; }    // flat [numel()]
  size_t size() const { return tensors_.size(); }
  const std::vector<Tensor>& tensors() const { return tensors_; }
  int64_t offset(size_t i) const { return offsets_[i]; }  // element offset of tensor i

  // Tensor i's slice of any flat buffer with this layout and dtype (optimizer state, a checkpoint).
  Tensor view_of(const Tensor& flat, size_t i) const;

  void zero_grad(Context& ctx);  // one memset over the flat gradient buffer

  // The element range [begin, end) that `ts` occupy, alignment padding included (multiples of 64),
  // for Optimizer::freeze. They must all be in this buffer and consecutive in it (a module's
  // parameters are). Throws facet::Error otherwise.
  std::pair<int64_t, int64_t> range_of(const std::vector<Tensor>& ts) const;

  // The masters cast to `dt` by one kernel over the flat buffer (kept until the next call), and
  // tensor i's slice of it. For MasterCastScope.
  const Tensor& cast_masters(Context& ctx, DType dt);
  Tensor cast_view(size_t i) const;

 private:
  Tensor params_, grads_, cast_;
  std::vector<Tensor> tensors_;
  std::vector<int64_t> offsets_;
  int64_t count_ = 0;
};

// Mixed precision, once per step: while a scope lives, the masters are cast to ctx.compute_dtype
// by one kernel over the flat buffer, and autocast (engine/ops/cast.h) of a master takes its slice
// instead of launching a cast at every use (a layer per call, and the shared encoder runs on both
// sides). The values are the masters' when the scope opened, so open it after the optimizer step
// and close it before the next one: around one forward and backward. Bit-identical to casting in
// the layers (the same elementwise rounding). Without a compute dtype, or when the masters already
// have it, it does nothing.
class MasterCastScope {
 public:
  MasterCastScope(Context& ctx, ParameterBuffer& params);
  ~MasterCastScope();
  MasterCastScope(const MasterCastScope&) = delete;
  MasterCastScope& operator=(const MasterCastScope&) = delete;

 private:
  Context& ctx_;
};

}  // namespace facet
