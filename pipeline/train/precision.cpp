// Training precision choices (see precision.h).
#include "pipeline/train/precision.h"

#include "engine/core/context.h"
#include "engine/core/error.h"

namespace facet::train {

Precision parse_precision(const std::string& s) {
  if (s == "auto") return Precision::Auto;
  if (s == "f32") return Precision::F32;
  if (s == "bf16") return Precision::BF16;
  throw Error("precision must be auto (bf16 on a GPU, f32 on the CPU), f32 or bf16, got \"" + s + "\"");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::Auto: return "auto";
    case Precision::F32: return "f32";
    case Precision::BF16: return "bf16";
  }
  return "?";
}

std::optional<DType> compute_dtype_for(Precision p, Device device, int compute_capability) {
  const bool bf16_cores = compute_capability >= kBf16MinComputeCapability;
  switch (p) {
    case Precision::F32: return std::nullopt;
    case Precision::Auto: return device.is_cuda() && bf16_cores ? std::optional<DType>(DType::BF16) : std::nullopt;
    case Precision::BF16:
      if (device.is_cpu()) {  // f32 tensors, bf16 products inside oneDNN's convolutions (compute_plan_for)
        FACET_CHECK(cpu_has_onednn(), "precision bf16 on the CPU needs a build with oneDNN (libdnnl-dev); ",
                    "use --precision f32 or auto");
        FACET_CHECK(cpu_has_native_bf16(), "precision bf16 on the CPU needs AVX512_BF16 or AMX, which this CPU ",
                    "lacks; use --precision f32 or auto");
        return std::nullopt;
      }
      FACET_CHECK(bf16_cores, "precision bf16 needs a GPU of compute capability 8.0 or later (Ampere); ",
                  device.str(), " has ", compute_capability / 10, ".", compute_capability % 10,
                  ": use --precision f32 or auto");
      return DType::BF16;
  }
  return std::nullopt;
}

std::optional<DType> compute_dtype_for(Precision p, Device device) {
  return compute_dtype_for(p, device, device.is_cuda() ? cuda_compute_capability(device.index) : 0);
}

std::string compute_label(std::optional<DType> compute) { return compute ? dtype_name(*compute) : "f32"; }

ComputePlan compute_plan_for(Precision p, Device device) {
  ComputePlan plan;
  plan.compute_dtype = compute_dtype_for(p, device);  // checks what the device can run
  if (device.is_cpu() && p == Precision::BF16) plan.cpu_conv = CpuConv::OneDnnBf16;
  return plan;
}

void ComputePlan::apply(Context& ctx) const {
  ctx.compute_dtype = compute_dtype;
  ctx.cpu_conv = cpu_conv;
}

std::string ComputePlan::label() const {
  return cpu_conv == CpuConv::OneDnnBf16 ? "bf16" : compute_label(compute_dtype);
}

std::string compute_label(const Context& ctx) {
  return ComputePlan{ctx.compute_dtype, ctx.cpu_conv}.label();
}

}  // namespace facet::train
