// Training precision: what `facet train --precision` and `facet bench train --precision` choose.
//   auto  bf16 compute on a GPU of compute capability 8.0 or later, else f32 (the default)
//   f32   f32 everywhere (the reference path; on a GPU no tensor-core math)
//   bf16  bf16 compute. On a GPU the layers compute in bf16 tensors; on the CPU (which needs
//         AVX512_BF16 or AMX, and a build with oneDNN) tensors stay f32 and the convolutions
//         multiply in bf16 on oneDNN with f32 accumulation (Context::cpu_conv).
// Either way the master weights, their gradients, the optimizer state, the loss (DSSIM, MSE) and
// its reduction are f32: bf16 is only the dtype the layers compute in (Context::compute_dtype,
// engine/ops/cast.h). bf16 has f32's exponent range, so no loss scaling is needed.
#pragma once
#include <optional>
#include <string>

#include "engine/core/context.h"
#include "engine/core/device.h"
#include "engine/tensor/dtype.h"

namespace facet::train {

enum class Precision { Auto, F32, BF16 };

// bf16 compute needs bf16 tensor cores: compute capability 8.0 (Ampere) or later. Below it (Turing
// sm_75, Pascal sm_61) auto means f32 and bf16 is refused.
constexpr int kBf16MinComputeCapability = 80;

// "auto", "f32" or "bf16"; anything else throws facet::Error listing them.
Precision parse_precision(const std::string& s);
const char* precision_name(Precision p);

// The compute dtype for a run on `device`: nullopt means f32 (no casts at all). Throws
// facet::Error for bf16 on the CPU, saying what to do instead.
std::optional<DType> compute_dtype_for(Precision p, Device device);
// The same for a device of the given compute capability (major * 10 + minor).
std::optional<DType> compute_dtype_for(Precision p, Device device, int compute_capability);

// "bf16" or "f32": the label of a run with this compute dtype (status lines, state.json).
std::string compute_label(std::optional<DType> compute);

// Everything a precision choice sets on a context: the layers' compute dtype and how the CPU
// runs convolutions. Throws facet::Error where `device` cannot run it, saying what to do instead.
struct ComputePlan {
  std::optional<DType> compute_dtype;    // Context::compute_dtype
  CpuConv cpu_conv = CpuConv::OneDnnF32;  // Context::cpu_conv
  void apply(Context& ctx) const;
  std::string label() const;  // "bf16" or "f32"
};
ComputePlan compute_plan_for(Precision p, Device device);
// The label of what `ctx` computes in (the plan applied to it).
std::string compute_label(const Context& ctx);

}  // namespace facet::train
