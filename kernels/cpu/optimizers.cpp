// Host optimizer updates (see optimizers.h for the formulas). One pass over the flat buffers per
// step, spread over the thread pool; the Philox block behind the lr_dropout mask is computed once
// per four elements.
#include "kernels/cpu/optimizers.h"

#include <algorithm>
#include <cmath>

#include "kernels/common/philox.h"
#include "kernels/cpu/parallel.h"

namespace facet::cpu {

namespace {

// Calls f(i, keep) for i in [0, n) outside the frozen range. keep follows
// philox_uniform(seed, offset + i) < keep_prob, written out here so that one Philox block serves
// four consecutive elements. Elements are independent, so the buffer is cut into chunks spread
// over the thread pool; a chunk may start inside a Philox block (it recomputes that block), so the
// mask does not depend on the chunking. Without lr_dropout, keep is a constant and the loop
// vectorises.
template <typename F>
void for_each_masked(int64_t n, const OptimHyper& h, F&& f) {
  auto run = [&](int64_t begin, int64_t end) {
    if (begin >= end) return;
    if (!(h.keep_prob < 1.f)) {
      for (int64_t i = begin; i < end; ++i) f(i, true);
      return;
    }
    int64_t i = begin;
    while (i < end) {
      const uint64_t idx = h.offset + static_cast<uint64_t>(i);
      const Philox4 r = philox4x32(idx >> 2, h.seed);
      for (unsigned k = static_cast<unsigned>(idx & 3); k < 4 && i < end; ++k, ++i) {
        const float u = static_cast<float>(r.v[k] >> 8) * (1.0f / 16777216.0f);  // == philox_uniform
        f(i, u < h.keep_prob);
      }
    }
  };
  parallel_chunks(n, kParallelGrain, [&](int64_t begin, int64_t end) {
    if (h.frozen_begin >= h.frozen_end) {
      run(begin, end);
      return;
    }
    run(begin, std::min(end, h.frozen_begin));  // the parts of the chunk outside [frozen_begin, frozen_end)
    run(std::max(begin, h.frozen_end), end);
  });
}

inline float sqrt_t(float x) { return std::sqrt(x); }
inline double sqrt_t(double x) { return std::sqrt(x); }

}  // namespace

template <typename T>
double sum_squares(const T* x, int64_t n) {
  // Partial sums over at most kParts chunks whose size follows n alone, added in chunk order: the
  // same result at any thread count. Within a chunk, eight independent partial sums (fixed
  // assignment) keep the adder busy.
  constexpr int64_t kParts = 256;
  const int64_t chunk = std::max<int64_t>(kParallelGrain, (n + kParts - 1) / kParts);
  double part[kParts] = {};
  parallel_chunks(n, chunk, [&](int64_t begin, int64_t end) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = begin;
    for (; i + 8 <= end; i += 8)
      for (int k = 0; k < 8; ++k) {
        const double v = static_cast<double>(x[i + k]);
        acc[k] += v * v;
      }
    for (; i < end; ++i) {
      const double v = static_cast<double>(x[i]);
      acc[0] += v * v;
    }
    part[begin / chunk] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  });
  double total = 0.0;
  for (int64_t c = 0; c * chunk < n; ++c) total += part[c];
  return total;
}

double clip_scale(double norm, double clipnorm) {
  return (clipnorm > 0.0 && norm >= clipnorm && norm > 0.0) ? clipnorm / norm : 1.0;
}

template <typename T>
void adam_step(T* w, const T* g, T* m, T* v, int64_t n, const OptimHyper& h, T grad_scale) {
  const T b1 = h.beta1, c1 = h.one_minus_beta1, b2 = h.beta2, c2 = h.one_minus_beta2, eps = h.eps;
  const T step = T(h.lr) / T(h.bias_correction1), bc2 = h.bias_correction2_sqrt;
  for_each_masked(n, h, [&](int64_t i, bool keep) {
    const T gs = g[i] * grad_scale;
    const T mi = b1 * m[i] + c1 * gs;
    const T vi = b2 * v[i] + c2 * (gs * gs);
    m[i] = mi;
    v[i] = vi;
    const T denom = sqrt_t(vi) / bc2 + eps;
    if (keep) w[i] = w[i] - step * (mi / denom);
  });
}

template <typename T>
void adabelief_step(T* w, const T* g, T* m, T* v, int64_t n, const OptimHyper& h, T grad_scale) {
  const T b1 = h.beta1, c1 = h.one_minus_beta1, b2 = h.beta2, c2 = h.one_minus_beta2, eps = h.eps, lr = h.lr;
  for_each_masked(n, h, [&](int64_t i, bool keep) {
    const T gs = g[i] * grad_scale;
    const T mi = b1 * m[i] + c1 * gs;
    const T d = gs - mi;
    const T vi = b2 * v[i] + c2 * (d * d);
    m[i] = mi;
    v[i] = vi;
    if (keep) w[i] = w[i] - (lr * mi) / (sqrt_t(vi) + eps);
  });
}

template <typename T>
void rmsprop_step(T* w, const T* g, T* a, int64_t n, const OptimHyper& h, T grad_scale) {
  const T rho = h.beta2, c = h.one_minus_beta2, eps = h.eps, lr = h.lr;
  for_each_masked(n, h, [&](int64_t i, bool keep) {
    const T gs = g[i] * grad_scale;
    const T ai = rho * a[i] + c * (gs * gs);
    a[i] = ai;
    if (keep) w[i] = w[i] - (lr * gs) / (sqrt_t(ai) + eps);
  });
}

template <typename T>
void lr_dropout_mask(T* out, int64_t n, float keep_prob, uint64_t seed, uint64_t offset) {
  OptimHyper h;
  h.keep_prob = keep_prob;
  h.seed = seed;
  h.offset = offset;
  for_each_masked(n, h, [&](int64_t i, bool keep) { out[i] = keep ? T(1) : T(0); });
}

#define FACET_INSTANTIATE(T)                                                                   \
  template double sum_squares<T>(const T*, int64_t);                                           \
  template void adam_step<T>(T*, const T*, T*, T*, int64_t, const OptimHyper&, T);             \
  template void adabelief_step<T>(T*, const T*, T*, T*, int64_t, const OptimHyper&, T);        \
  template void rmsprop_step<T>(T*, const T*, T*, int64_t, const OptimHyper&, T);              \
  template void lr_dropout_mask<T>(T*, int64_t, float, uint64_t, uint64_t);
FACET_INSTANTIATE(float)
FACET_INSTANTIATE(double)
#undef FACET_INSTANTIATE

}  // namespace facet::cpu
