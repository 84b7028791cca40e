// Philox4x32-10 counter-based RNG (Salmon et al., SC'11). Element i of a stream (seed, offset)
// is a pure function of (seed, offset + i), so CPU and CUDA produce the same numbers, any
// element can be generated independently, and a run is reproducible from (seed, offset) alone.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define FACET_HD __host__ __device__ __forceinline__
#else
#define FACET_HD inline
#endif

namespace facet {

struct Philox4 {
  uint32_t v[4];
};

FACET_HD Philox4 philox4x32(uint64_t counter, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c0 = n0; c1 = static_cast<uint32_t>(p1); c2 = n2; c3 = static_cast<uint32_t>(p0);
    k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// The i-th 32-bit word of the stream: four words per Philox block.
FACET_HD uint32_t philox_word(uint64_t seed, uint64_t index) {
  Philox4 r = philox4x32(index >> 2, seed);
  return r.v[index & 3];
}

// Uniform in [0, 1) with 24 random bits (exactly representable in float and double).
FACET_HD float philox_uniform(uint64_t seed, uint64_t index) {
  return static_cast<float>(philox_word(seed, index) >> 8) * (1.0f / 16777216.0f);
}

}  // namespace facet
