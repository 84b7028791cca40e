// Linear-layer ops: matrix product, Dense (fully connected), per-channel bias add and PReLU.
// "Channel" is the last axis (NHWC activations, [..., features] for Dense), so every op here
// sees its input as [rows, C]. All are differentiable and record themselves on the tape.
#pragma once
#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet {

// op(a) [M, K] x op(b) [K, N] -> [M, N]; a is stored [K, M] when trans_a, b is [N, K] when trans_b.
Tensor matmul(Context& ctx, const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// x [..., in] x w [in, out] (+ bias [out]) -> [..., out]: leading axes are flattened into rows.
// The weight layout is DFL's (in, out). bias may be an undefined Tensor.
Tensor dense(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());

// x [..., C] + b [C]; the bias gradient sums over all leading axes (deterministically on the GPU).
Tensor bias_add(Context& ctx, const Tensor& x, const Tensor& b);

// x >= 0 ? x : alpha[c] * x with alpha [C] over the last axis.
Tensor prelu(Context& ctx, const Tensor& x, const Tensor& alpha);

}  // namespace facet
