// Element types shared by every layer. f64 exists for the CPU reference (gradient checks);
// f16/bf16 are GPU storage types for activations and weights (compute accumulates in f32).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace facet {

enum class DType : uint8_t { F32, F64, F16, BF16 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::F16: return 2;
    case DType::BF16: return 2;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
  }
  return "?";
}

// Host-side bf16 <-> f32 conversion (round to nearest even), used for checkpoints and parity tests.
inline uint16_t f32_to_bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float bf16_bits_to_f32(uint16_t b) {
  uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
float f16_bits_to_f32(uint16_t h);
uint16_t f32_to_f16_bits(float f);

}  // namespace facet
