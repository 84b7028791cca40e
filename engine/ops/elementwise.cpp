// Elementwise ops, broadcasting and reductions over the elementwise primitives of
// engine/ops/backend.h: validate -> allocate -> run -> record the backward.
#include "engine/ops/elementwise.h"

#include <algorithm>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/ops/backend.h"

namespace facet {

namespace {

Tensor unary(Context& ctx, const char* name, UnaryOp op, const Tensor& x, double alpha) {
  Tensor y = Tensor::empty(ctx, x.shape(), x.dtype(), x.device());
  backend::unary_forward(ctx, name, op, x, y, alpha);
  if (needs_grad(ctx, {&x})) {
    record(ctx, name, y, {x}, [&ctx, op, x, y, alpha, name](const Tensor& gy) -> std::vector<Tensor> {
      Tensor gx = Tensor::empty(ctx, x.shape(), x.dtype(), x.device());
      backend::unary_backward(ctx, name, op, x, y, gy, gx, alpha);
      return {gx};
    });
  }
  return y;
}

BroadcastGeom make_broadcast(const Shape& out, const Shape& a, const Shape& b) {
  BroadcastGeom g;
  g.rank = static_cast<int>(out.size());
  auto strides = [&](const Shape& s, int64_t* st) {
    int off = g.rank - static_cast<int>(s.size());
    int64_t acc = 1;
    for (int d = g.rank - 1; d >= 0; --d) {
      int sd = d - off;
      int64_t size = sd >= 0 ? s[sd] : 1;
      st[d] = size == 1 ? 0 : acc;
      acc *= size;
    }
  };
  for (int d = 0; d < g.rank; ++d) g.shape[d] = out[d];
  strides(a, g.stride_a);
  strides(b, g.stride_b);
  return g;
}

Tensor binary_raw(Context& ctx, const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  check_same_device_dtype(name, a, b);
  Shape out = broadcast_shapes(name, a.shape(), b.shape());
  FACET_CHECK(out.size() <= static_cast<size_t>(kMaxRank), name, ": rank above ", kMaxRank);
  Tensor y = Tensor::empty(ctx, out, a.dtype(), a.device());
  BroadcastGeom g = make_broadcast(out, a.shape(), b.shape());
  backend::binary_forward(ctx, name, op, a, b, y, g);
  return y;
}

ReduceGeom make_reduce(const Shape& in, const std::vector<bool>& reduced) {
  ReduceGeom g;
  int64_t stride = 1;
  std::vector<int64_t> strides(in.size());
  for (int d = static_cast<int>(in.size()) - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= in[d];
  }
  for (size_t d = 0; d < in.size(); ++d) {
    if (reduced[d]) {
      g.reduced_size[g.reduced_rank] = in[d];
      g.reduced_stride[g.reduced_rank++] = strides[d];
      g.reduce_count *= in[d];
    } else {
      g.kept_size[g.kept_rank] = in[d];
      g.kept_stride[g.kept_rank++] = strides[d];
      g.out_count *= in[d];
    }
  }
  return g;
}

// Sums x over the flagged axes into a tensor of shape out_shape (same element count as kept axes).
Tensor reduce_raw(Context& ctx, const Tensor& x, const std::vector<bool>& reduced, const Shape& out_shape, double scale) {
  FACET_CHECK(x.rank() <= kMaxRank, "sum: rank above ", kMaxRank);
  ReduceGeom g = make_reduce(x.shape(), reduced);
  Tensor y = Tensor::empty(ctx, out_shape, x.dtype(), x.device());
  backend::reduce_sum(ctx, "sum", x, y, g, scale);
  return y;
}

// Broadcast of g (shape `small` expanded) to `shape`: implemented as g * ones via add with zeros.
Tensor broadcast_to(Context& ctx, const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  Tensor zeros = Tensor::zeros(ctx, shape, g.dtype(), g.device());
  return binary_raw(ctx, "broadcast_to", BinaryOp::Add, zeros, g);
}

Tensor binary(Context& ctx, const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(ctx, name, op, a, b);
  if (needs_grad(ctx, {&a, &b})) {
    record(ctx, name, y, {a, b}, [&ctx, op, a, b, y](const Tensor& gy) -> std::vector<Tensor> {
      Tensor ga, gb;
      switch (op) {
        case BinaryOp::Add: ga = gy; gb = gy; break;
        case BinaryOp::Sub: ga = gy; gb = neg(ctx, gy); break;
        case BinaryOp::Mul: ga = mul(ctx, gy, b); gb = mul(ctx, gy, a); break;
        case BinaryOp::Div: ga = div(ctx, gy, b); gb = neg(ctx, div(ctx, mul(ctx, gy, y), b)); break;
        case BinaryOp::Max:
        case BinaryOp::Min: {
          // The winner takes the gradient; a wins ties.
          BinaryOp won = op == BinaryOp::Max ? BinaryOp::GreaterEq : BinaryOp::LessEq;
          Tensor mask_a = binary_raw(ctx, "select_grad", won, a, b);
          ga = mul(ctx, gy, mask_a);
          gb = mul(ctx, gy, rsub_scalar(ctx, mask_a, 1.0));
          break;
        }
        default: throw Error("binary: op has no gradient");
      }
      return {sum_to(ctx, ga, a.shape()), sum_to(ctx, gb, b.shape())};
    });
  }
  return y;
}

std::vector<bool> axes_mask(const char* op, const std::vector<int>& axes, int rank) {
  std::vector<bool> m(static_cast<size_t>(rank), axes.empty());
  for (int a : axes) {
    int d = norm_axis(a, rank);
    FACET_CHECK(d >= 0 && d < rank, op, ": axis ", a, " out of range for rank ", rank);
    m[static_cast<size_t>(d)] = true;
  }
  return m;
}

Tensor reduce_op(Context& ctx, const char* name, const Tensor& x, const std::vector<int>& axes, bool keepdims, bool is_mean) {
  std::vector<bool> m = axes_mask(name, axes, x.rank());
  Shape kept_shape, out_shape;
  int64_t count = 1;
  for (int d = 0; d < x.rank(); ++d) {
    if (m[d]) {
      count *= x.dim(d);
      kept_shape.push_back(1);
      if (keepdims) out_shape.push_back(1);
    } else {
      kept_shape.push_back(x.dim(d));
      out_shape.push_back(x.dim(d));
    }
  }
  double scale = is_mean ? 1.0 / static_cast<double>(count ? count : 1) : 1.0;
  Tensor y = reduce_raw(ctx, x, m, out_shape, scale);
  if (needs_grad(ctx, {&x})) {
    record(ctx, name, y, {x}, [&ctx, x, kept_shape, scale](const Tensor& gy) -> std::vector<Tensor> {
      Tensor g = broadcast_to(ctx, gy.view(kept_shape), x.shape());
      if (scale != 1.0) g = mul_scalar(ctx, g, scale);
      return {g};
    });
  }
  return y;
}

}  // namespace

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    FACET_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
                " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor sum_to(Context& ctx, const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  int off = g.rank() - static_cast<int>(shape.size());
  FACET_CHECK(off >= 0, "sum_to: cannot reduce ", shape_str(g.shape()), " to ", shape_str(shape));
  std::vector<bool> m(static_cast<size_t>(g.rank()));
  for (int d = 0; d < g.rank(); ++d) m[d] = d < off || (shape[d - off] == 1 && g.dim(d) != 1);
  return reduce_raw(ctx, g, m, shape, 1.0);
}

void axpy_(Context& ctx, double alpha, const Tensor& x, Tensor& y) {
  check_same_device_dtype("axpy_", x, y);
  FACET_CHECK(x.numel() == y.numel(), "axpy_: sizes ", shape_str(x.shape()), " and ", shape_str(y.shape()));
  backend::axpy(ctx, "axpy_", alpha, x, y);
}

Tensor add(Context& ctx, const Tensor& a, const Tensor& b) { return binary(ctx, "add", BinaryOp::Add, a, b); }
Tensor sub(Context& ctx, const Tensor& a, const Tensor& b) { return binary(ctx, "sub", BinaryOp::Sub, a, b); }
Tensor mul(Context& ctx, const Tensor& a, const Tensor& b) { return binary(ctx, "mul", BinaryOp::Mul, a, b); }
Tensor div(Context& ctx, const Tensor& a, const Tensor& b) { return binary(ctx, "div", BinaryOp::Div, a, b); }
Tensor maximum(Context& ctx, const Tensor& a, const Tensor& b) { return binary(ctx, "maximum", BinaryOp::Max, a, b); }
Tensor minimum(Context& ctx, const Tensor& a, const Tensor& b) { return binary(ctx, "minimum", BinaryOp::Min, a, b); }

Tensor add_scalar(Context& ctx, const Tensor& x, double s) { return unary(ctx, "add_scalar", UnaryOp::AddScalar, x, s); }
Tensor mul_scalar(Context& ctx, const Tensor& x, double s) { return unary(ctx, "mul_scalar", UnaryOp::MulScalar, x, s); }
Tensor rsub_scalar(Context& ctx, const Tensor& x, double s) { return unary(ctx, "rsub_scalar", UnaryOp::RsubScalar, x, s); }
Tensor rdiv_scalar(Context& ctx, const Tensor& x, double s) { return unary(ctx, "rdiv_scalar", UnaryOp::RdivScalar, x, s); }
Tensor pow_scalar(Context& ctx, const Tensor& x, double p) { return unary(ctx, "pow_scalar", UnaryOp::PowScalar, x, p); }
Tensor clamp(Context& ctx, const Tensor& x, double lo, double hi) {
  return unary(ctx, "clamp_max", UnaryOp::ClampMax, unary(ctx, "clamp_min", UnaryOp::ClampMin, x, lo), hi);
}

Tensor relu(Context& ctx, const Tensor& x) { return unary(ctx, "relu", UnaryOp::Relu, x, 0); }
Tensor leaky_relu(Context& ctx, const Tensor& x, double slope) { return unary(ctx, "leaky_relu", UnaryOp::LeakyRelu, x, slope); }
Tensor sigmoid(Context& ctx, const Tensor& x) { return unary(ctx, "sigmoid", UnaryOp::Sigmoid, x, 0); }
Tensor tanh(Context& ctx, const Tensor& x) { return unary(ctx, "tanh", UnaryOp::Tanh, x, 0); }
Tensor neg(Context& ctx, const Tensor& x) { return unary(ctx, "neg", UnaryOp::Neg, x, 0); }
Tensor square(Context& ctx, const Tensor& x) { return unary(ctx, "square", UnaryOp::Square, x, 0); }
Tensor sqrt(Context& ctx, const Tensor& x) { return unary(ctx, "sqrt", UnaryOp::Sqrt, x, 0); }
Tensor rsqrt(Context& ctx, const Tensor& x) { return unary(ctx, "rsqrt", UnaryOp::Rsqrt, x, 0); }
Tensor exp(Context& ctx, const Tensor& x) { return unary(ctx, "exp", UnaryOp::Exp, x, 0); }
Tensor log(Context& ctx, const Tensor& x) { return unary(ctx, "log", UnaryOp::Log, x, 0); }
Tensor abs(Context& ctx, const Tensor& x) { return unary(ctx, "abs", UnaryOp::Abs, x, 0); }

Tensor sum(Context& ctx, const Tensor& x, const std::vector<int>& axes, bool keepdims) {
  return reduce_op(ctx, "sum", x, axes, keepdims, false);
}
Tensor mean(Context& ctx, const Tensor& x, const std::vector<int>& axes, bool keepdims) {
  return reduce_op(ctx, "mean", x, axes, keepdims, true);
}

Tensor stop_gradient(const Tensor& x) {
  FACET_CHECK(x.defined(), "stop_gradient: undefined tensor");
  return x.view(x.shape());  // a fresh impl: requires_grad false, no producer
}

}  // namespace facet
