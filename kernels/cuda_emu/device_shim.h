// Included first in every kernels/cuda source compiled for the emulated device (g++
// -include): what nvcc gives device code and a host compiler lacks. NVIDIA's own headers are used
// as they are (types, bf16/half conversions with round-to-nearest-even, runtime declarations);
// this adds the thread coordinates, barriers, warp shuffles, per-block shared memory and the
// device math functions our kernels call.
//
// Arithmetic: the __f*_rn intrinsics are single IEEE operations; the emulated library is built
// with -ffp-contract=off, so nothing is fused behind them (nvcc may contract a*b+c into an FMA
// elsewhere: emulated results can differ from a GPU's in the last bit, never by more).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/cuda_emu/device_coords.h"
#include "kernels/cuda_emu/scheduler.h"

#define FACET_CUDA_EMULATED 1

// One block runs at a time, so a function-scope static is exactly that block's shared memory.
#undef __shared__
#define __shared__ static
#undef __launch_bounds__
#define __launch_bounds__(...)

constexpr int warpSize = 32;

inline void __syncthreads() { facet::emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { facet::emu::sync_warp(mask); }

namespace facet::emu::detail {
template <typename T>
T shuffle(unsigned mask, T v, int source, int width, const char* what) {
  static_assert(sizeof(T) <= sizeof(uint64_t) && std::is_trivially_copyable_v<T>, "shuffle of a value over 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  bits = warp_shuffle(mask, bits, source, width, what);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}
// Lane arithmetic as the CUDA C++ guide defines it for a warp split into segments of `width`.
inline int segment_base(int lane, int width) { return lane / width * width; }
}  // namespace facet::emu::detail

template <typename T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = warpSize) {
  const int lane = facet::emu::lane_id();
  int src = lane ^ lane_mask;
  // reading from a later segment returns the caller's own value
  if (src >= facet::emu::detail::segment_base(lane, width) + width) src = lane;
  return facet::emu::detail::shuffle(mask, v, src, width, "__shfl_xor_sync");
}
template <typename T>
T __shfl_sync(unsigned mask, T v, int src_lane, int width = warpSize) {
  const int lane = facet::emu::lane_id();
  const int src = facet::emu::detail::segment_base(lane, width) + (src_lane % width);
  return facet::emu::detail::shuffle(mask, v, src, width, "__shfl_sync");
}
template <typename T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
  const int lane = facet::emu::lane_id();
  const int base = facet::emu::detail::segment_base(lane, width);
  const int src = lane + static_cast<int>(delta) < base + width ? lane + static_cast<int>(delta) : lane;
  return facet::emu::detail::shuffle(mask, v, src, width, "__shfl_down_sync");
}
template <typename T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
  const int lane = facet::emu::lane_id();
  const int base = facet::emu::detail::segment_base(lane, width);
  const int src = lane - static_cast<int>(delta) >= base ? lane - static_cast<int>(delta) : lane;
  return facet::emu::detail::shuffle(mask, v, src, width, "__shfl_up_sync");
}

// Round-to-nearest single operations (never contracted, see the file comment).
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float rsqrtf(float a) { return 1.0f / std::sqrt(a); }

// CUDA's device min/max overloads (host C++ has only std::min/std::max).
template <typename A, typename B, typename = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
constexpr std::common_type_t<A, B> min(A a, B b) {
  using T = std::common_type_t<A, B>;
  return static_cast<T>(a) < static_cast<T>(b) ? static_cast<T>(a) : static_cast<T>(b);
}
template <typename A, typename B, typename = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
constexpr std::common_type_t<A, B> max(A a, B b) {
  using T = std::common_type_t<A, B>;
  return static_cast<T>(a) < static_cast<T>(b) ? static_cast<T>(b) : static_cast<T>(a);
}
