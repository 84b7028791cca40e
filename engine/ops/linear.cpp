// Linear-layer ops over the matmul primitives of engine/ops/backend.h. Dense is one recorded node
// (GEMM + bias in the forward, two GEMMs + a bias reduction in the backward) rather than matmul +
// bias_add, so the tape holds one closure per layer and the backward skips the GEMM of an input
// needing no grad (the input image of the first layer, frozen weights).
#include "engine/ops/linear.h"

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/ops/backend.h"

namespace facet {

namespace {

Tensor gemm(Context& ctx, const Tensor& a, const Tensor& b, const Shape& out, int64_t M, int64_t N, int64_t K, bool ta,
            bool tb) {
  Tensor c = Tensor::empty(ctx, out, a.dtype(), a.device());
  backend::matmul(ctx, a, b, c, M, N, K, ta, tb);
  return c;
}

// Sum of dy [rows, C] over rows, shaped like the bias.
Tensor bias_grad(Context& ctx, const Tensor& dy, const Shape& bshape, int64_t rows, int64_t C) {
  Tensor db = Tensor::empty(ctx, bshape, dy.dtype(), dy.device());
  backend::bias_grad(ctx, "bias_add", dy, db, rows, C);
  return db;
}

void check_channel_vector(const char* op, const Tensor& x, const Tensor& v, const char* what) {
  check_same_device_dtype(op, x, v);
  FACET_CHECK(x.rank() >= 1, op, ": input must have at least one axis");
  FACET_CHECK(v.rank() == 1 && v.dim(0) == x.dim(-1), op, ": ", what, " of shape ", shape_str(v.shape()),
              " does not match the last axis of ", shape_str(x.shape()));
}

}  // namespace

Tensor matmul(Context& ctx, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  check_same_device_dtype("matmul", a, b);
  FACET_CHECK(a.rank() == 2 && b.rank() == 2, "matmul: operands must be matrices, got ", shape_str(a.shape()), " and ",
              shape_str(b.shape()));
  const int64_t M = trans_a ? a.dim(1) : a.dim(0), K = trans_a ? a.dim(0) : a.dim(1);
  const int64_t Kb = trans_b ? b.dim(1) : b.dim(0), N = trans_b ? b.dim(0) : b.dim(1);
  FACET_CHECK(K == Kb, "matmul: inner sizes differ: ", shape_str(a.shape()), (trans_a ? "^T" : ""), " x ",
              shape_str(b.shape()), (trans_b ? "^T" : ""));
  Tensor y = gemm(ctx, a, b, {M, N}, M, N, K, trans_a, trans_b);
  if (needs_grad(ctx, {&a, &b})) {
    record(ctx, "matmul", y, {a, b}, [&ctx, a, b, trans_a, trans_b, M, N, K](const Tensor& gy) -> std::vector<Tensor> {
      // C = op(A) op(B): d op(A) = dC op(B)^T, d op(B) = op(A)^T dC, transposed back to storage.
      Tensor ga, gb;
      if (a.requires_grad())
        ga = trans_a ? gemm(ctx, b, gy, a.shape(), K, M, N, trans_b, true)
                     : gemm(ctx, gy, b, a.shape(), M, K, N, false, !trans_b);
      if (b.requires_grad())
        gb = trans_b ? gemm(ctx, gy, a, b.shape(), N, K, M, true, trans_a)
                     : gemm(ctx, a, gy, b.shape(), K, N, M, !trans_a, false);
      return {ga, gb};
    });
  }
  return y;
}

Tensor dense(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& bias) {
  check_same_device_dtype("dense", x, w);
  FACET_CHECK(w.rank() == 2, "dense: weight must be [in, out], got ", shape_str(w.shape()));
  FACET_CHECK(x.rank() >= 1 && x.dim(-1) == w.dim(0), "dense: input ", shape_str(x.shape()),
              " does not end in the weight's input size ", w.dim(0));
  const int64_t in = w.dim(0), out = w.dim(1), rows = in ? x.numel() / in : 0;
  if (bias.defined()) {
    check_same_device_dtype("dense", x, bias);
    FACET_CHECK(bias.rank() == 1 && bias.dim(0) == out, "dense: bias of shape ", shape_str(bias.shape()),
                " for ", out, " outputs");
  }
  Shape yshape = x.shape();
  yshape.back() = out;
  Tensor y = Tensor::empty(ctx, yshape, x.dtype(), x.device());
  backend::dense_forward(ctx, x, w, y, rows, in, out);
  if (bias.defined()) backend::bias_add(ctx, "bias_add", y, bias, y, rows, out);
  if (needs_grad(ctx, {&x, &w, &bias})) {
    record(ctx, "dense", y, {x, w, bias}, [&ctx, x, w, bias, rows, in, out](const Tensor& gy) -> std::vector<Tensor> {
      Tensor gx, gw, gb;
      if (x.requires_grad()) gx = gemm(ctx, gy, w, x.shape(), rows, in, out, false, true);
      if (w.requires_grad()) gw = gemm(ctx, x, gy, w.shape(), in, out, rows, true, false);
      if (bias.defined() && bias.requires_grad()) gb = bias_grad(ctx, gy, bias.shape(), rows, out);
      return {gx, gw, gb};
    });
  }
  return y;
}

Tensor bias_add(Context& ctx, const Tensor& x, const Tensor& b) {
  check_channel_vector("bias_add", x, b, "bias");
  const int64_t C = x.dim(-1), rows = C ? x.numel() / C : 0;
  Tensor y = Tensor::empty(ctx, x.shape(), x.dtype(), x.device());
  backend::bias_add(ctx, "bias_add", x, b, y, rows, C);
  if (needs_grad(ctx, {&x, &b})) {
    record(ctx, "bias_add", y, {x, b}, [&ctx, b, rows, C](const Tensor& gy) -> std::vector<Tensor> {
      Tensor gb;
      if (b.requires_grad()) gb = bias_grad(ctx, gy, b.shape(), rows, C);
      return {gy, gb};
    });
  }
  return y;
}

Tensor prelu(Context& ctx, const Tensor& x, const Tensor& alpha) {
  check_channel_vector("prelu", x, alpha, "alpha");
  const int64_t C = x.dim(-1), rows = C ? x.numel() / C : 0;
  Tensor y = Tensor::empty(ctx, x.shape(), x.dtype(), x.device());
  backend::prelu_forward(ctx, x, alpha, y, rows, C);
  if (needs_grad(ctx, {&x, &alpha})) {
    record(ctx, "prelu", y, {x, alpha}, [&ctx, x, alpha, rows, C](const Tensor& gy) -> std::vector<Tensor> {
      Tensor gx, ga;
      if (x.requires_grad()) gx = Tensor::empty(ctx, x.shape(), x.dtype(), x.device());
      if (alpha.requires_grad()) ga = Tensor::empty(ctx, alpha.shape(), alpha.dtype(), alpha.device());
      backend::prelu_backward(ctx, x, alpha, gy, gx, ga, rows, C);
      return {gx, ga};
    });
  }
  return y;
}

}  // namespace facet
