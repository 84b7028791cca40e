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
      FACET_CHECK(device.is_cuda(), "precision bf16 needs a GPU: this run is on ", device.str(),
                  " (the CPU computes in f32; use --precision f32 or auto)");
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

}  // namespace facet::train
