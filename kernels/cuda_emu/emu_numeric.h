// Number conversions shared by the emulated cuBLAS and cuDNN: storage types (float, double,
// half, bfloat16) to and from the accumulator type, with the CUDA headers' host conversions
// (round to nearest even), and the TF32 rounding tensor cores apply to fp32 inputs.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

namespace facet::emu {

inline float to_acc(float v) { return v; }
inline float to_acc(__nv_bfloat16 v) { return __bfloat162float(v); }
inline float to_acc(__half v) { return __half2float(v); }
inline double to_acc(double v) { return v; }

template <typename T, typename A>
T from_acc(A v);
template <>
inline float from_acc<float, float>(float v) { return v; }
template <>
inline __nv_bfloat16 from_acc<__nv_bfloat16, float>(float v) { return __float2bfloat16(v); }
template <>
inline __half from_acc<__half, float>(float v) { return __float2half(v); }
template <>
inline double from_acc<double, double>(double v) { return v; }

// TF32 keeps 10 of float's 23 mantissa bits; converted as cvt.rna.tf32.f32 does (to nearest,
// ties away from zero). Inf and NaN pass through.
inline float round_to_tf32(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  if ((u & 0x7f800000u) == 0x7f800000u) return v;
  u = (u + 0x1000u) & ~0x1fffu;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

}  // namespace facet::emu
