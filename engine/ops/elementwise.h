// Elementwise ops (numpy broadcasting for binary ops), activations, scalar ops, and sums/means
// over axes. Every op here is differentiable and records itself on the context's tape.
// This file is the model for op files: validate -> allocate -> dispatch -> record backward.
#pragma once
#include <vector>

#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet {

Tensor add(Context& ctx, const Tensor& a, const Tensor& b);
Tensor sub(Context& ctx, const Tensor& a, const Tensor& b);
Tensor mul(Context& ctx, const Tensor& a, const Tensor& b);
Tensor div(Context& ctx, const Tensor& a, const Tensor& b);
Tensor maximum(Context& ctx, const Tensor& a, const Tensor& b);  // gradient goes to a on ties
Tensor minimum(Context& ctx, const Tensor& a, const Tensor& b);

Tensor add_scalar(Context& ctx, const Tensor& x, double s);
Tensor mul_scalar(Context& ctx, const Tensor& x, double s);
Tensor rsub_scalar(Context& ctx, const Tensor& x, double s);  // s - x
Tensor rdiv_scalar(Context& ctx, const Tensor& x, double s);  // s / x
Tensor pow_scalar(Context& ctx, const Tensor& x, double p);
Tensor clamp(Context& ctx, const Tensor& x, double lo, double hi);

Tensor relu(Context& ctx, const Tensor& x);
Tensor leaky_relu(Context& ctx, const Tensor& x, double slope);
Tensor sigmoid(Context& ctx, const Tensor& x);
Tensor tanh(Context& ctx, const Tensor& x);
Tensor neg(Context& ctx, const Tensor& x);
Tensor square(Context& ctx, const Tensor& x);
Tensor sqrt(Context& ctx, const Tensor& x);
Tensor rsqrt(Context& ctx, const Tensor& x);
Tensor exp(Context& ctx, const Tensor& x);
Tensor log(Context& ctx, const Tensor& x);
Tensor abs(Context& ctx, const Tensor& x);

// Sum / mean over `axes` (empty = all axes). keepdims keeps reduced axes as size 1.
Tensor sum(Context& ctx, const Tensor& x, const std::vector<int>& axes = {}, bool keepdims = false);
Tensor mean(Context& ctx, const Tensor& x, const std::vector<int>& axes = {}, bool keepdims = false);

// TF's stop_gradient: x's values as a constant, a view sharing x's memory that the tape does not
// trace back through (no copy; the graph below x gets no gradient from what uses it).
Tensor stop_gradient(const Tensor& x);

// Not recorded: reduces a broadcast gradient back to `shape` (the backward of broadcasting).
Tensor sum_to(Context& ctx, const Tensor& g, const Shape& shape);
// Not recorded: y += alpha * x in place (same shape, device, dtype).
void axpy_(Context& ctx, double alpha, const Tensor& x, Tensor& y);

// The broadcast shape of a and b (numpy rules), or an error naming `op`.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

}  // namespace facet
