// Optimizer updates over flat buffers (all parameters of a model in one array, their gradients
// and each state in arrays of the same layout), on the host. This is the reference for the fused
// kernels in kernels/cuda/optimizers.h: the same formulas, the same order of float operations
// (the GPU side uses explicitly rounded mul/add so that no fused multiply-add changes it), the
// same Philox mask, so the two agree to within the rounding of the clipping scale.
//
// Formulas (w weight, g gradient, t = 1-based step number):
//   Adam (PyTorch's torch.optim.Adam, no weight decay):
//     m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//     w -= (lr / (1 - b1^t)) * (m / (sqrt(v) / sqrt(1 - b2^t) + eps))
//   AdaBelief, DeepFaceLab's form (core/leras/optimizers/AdaBelief.py; no bias correction and no
//   eps inside v, unlike the paper):
//     m = b1 m + (1-b1) g;  v = b2 v + (1-b2) (g - m)^2;  w -= lr m / (sqrt(v) + eps)
//   RMSprop, DeepFaceLab's form (no momentum):
//     a = rho a + (1-rho) g^2;  w -= lr g / (sqrt(a) + eps)
// Before the update g is multiplied by grad_scale (global-norm clipping; 1 when off). With
// lr_dropout the weight step of element i is kept only where philox_uniform(seed, offset + i) <
// keep_prob (DFL: 0.3); the moments are always updated, as in DFL.
#pragma once
#include <cstdint>

namespace facet {

// Per-step scalars, computed on the host by the engine optimizer (shared with the CUDA kernels).
// 1 - beta is passed precomputed (in double, then rounded) as TensorFlow does for DFL's constants.
struct OptimHyper {
  float lr = 0.f;                 // this step's learning rate (lr_cos already applied)
  float beta1 = 0.9f;             // Adam / AdaBelief first moment; RMSprop: unused
  float one_minus_beta1 = 0.1f;
  float beta2 = 0.999f;           // Adam / AdaBelief second moment; RMSprop: rho
  float one_minus_beta2 = 0.001f;
  float eps = 1e-6f;
  float bias_correction1 = 1.f;       // Adam: 1 - b1^t
  float bias_correction2_sqrt = 1.f;  // Adam: sqrt(1 - b2^t)
  float keep_prob = 1.f;              // lr_dropout: update kept where uniform < keep_prob; >= 1: off
  uint64_t seed = 0, offset = 0;      // Philox stream of the lr_dropout mask
  // Elements [frozen_begin, frozen_end) are left as they are, weights and state alike (DFL's
  // trainable-weights list: LIAE's inter_AB without random warp). Multiples of 4 on CUDA.
  int64_t frozen_begin = 0, frozen_end = 0;
};

}  // namespace facet

namespace facet::cpu {

// Sum of squares accumulated in double (the global gradient norm is its square root).
template <typename T>
double sum_squares(const T* x, int64_t n);

// DFL / Keras clipnorm: c / norm when c > 0 and norm >= c, else 1.
double clip_scale(double norm, double clipnorm);

template <typename T>
void adam_step(T* w, const T* g, T* m, T* v, int64_t n, const OptimHyper& h, T grad_scale);
template <typename T>
void adabelief_step(T* w, const T* g, T* m, T* v, int64_t n, const OptimHyper& h, T grad_scale);
template <typename T>
void rmsprop_step(T* w, const T* g, T* a, int64_t n, const OptimHyper& h, T grad_scale);

// out[i] = 1 where the lr_dropout mask keeps element i's update, else 0 (tests, diagnostics).
template <typename T>
void lr_dropout_mask(T* out, int64_t n, float keep_prob, uint64_t seed, uint64_t offset);

}  // namespace facet::cpu
