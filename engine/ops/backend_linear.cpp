// Linear primitives (engine/ops/backend.h) over kernels/{cpu,cuda}/matmul.h.
#include "engine/ops/backend.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/runtime.h"

namespace facet::backend {

void matmul(Context& ctx, const Tensor& a, const Tensor& b, Tensor& c, int64_t M, int64_t N, int64_t K, bool trans_a,
            bool trans_b) {
  on_device(
      ctx, "matmul", a,
      [&](auto t) {
        using T = decltype(t);
        cpu::matmul<T>(a.data_as<T>(), b.data_as<T>(), c.data_as<T>(), M, N, K, trans_a, trans_b);
      },
      [&](auto) { cuda::matmul(ctx.cuda_handles(), a.dtype(), a.data(), b.data(), c.data(), M, N, K, trans_a, trans_b); });
}

void dense_forward(Context& ctx, const Tensor& x, const Tensor& w, Tensor& y, int64_t rows, int64_t in, int64_t out) {
  on_device(
      ctx, "dense", x,
      [&](auto t) {  // one row at a time, so a sample's output never depends on its batch (matmul.h)
        using T = decltype(t);
        cpu::matmul_per_row<T>(x.data_as<T>(), w.data_as<T>(), y.data_as<T>(), rows, out, in);
      },
      [&](auto) {
        cuda::matmul(ctx.cuda_handles(), x.dtype(), x.data(), w.data(), y.data(), rows, out, in, false, false);
      });
}

void bias_add(Context& ctx, const char* op, const Tensor& x, const Tensor& b, Tensor& y, int64_t rows, int64_t C) {
  on_device(
      ctx, op, x,
      [&](auto t) {
        using T = decltype(t);
        cpu::bias_add<T>(x.data_as<T>(), b.data_as<T>(), y.data_as<T>(), rows, C);
      },
      [&](auto stream) { cuda::bias_add(x.dtype(), x.data(), b.data(), y.data(), rows, C, stream); });
}

void bias_grad(Context& ctx, const char* op, const Tensor& dy, Tensor& db, int64_t rows, int64_t C) {
  on_device(
      ctx, op, dy,
      [&](auto t) {
        using T = decltype(t);
        cpu::bias_grad<T>(dy.data_as<T>(), db.data_as<T>(), rows, C);
      },
      [&](auto stream) {
        Tensor ws = scratch(ctx, cuda::column_reduce_workspace_bytes(rows, C), dy.device());
        cuda::bias_grad(dy.dtype(), dy.data(), db.data(), rows, C, data_or_null(ws), stream);
      });
}

void prelu_forward(Context& ctx, const Tensor& x, const Tensor& alpha, Tensor& y, int64_t rows, int64_t C) {
  on_device(
      ctx, "prelu", x,
      [&](auto t) {
        using T = decltype(t);
        cpu::prelu<T>(x.data_as<T>(), alpha.data_as<T>(), y.data_as<T>(), rows, C);
      },
      [&](auto stream) { cuda::prelu(x.dtype(), x.data(), alpha.data(), y.data(), rows, C, stream); });
}

void prelu_backward(Context& ctx, const Tensor& x, const Tensor& alpha, const Tensor& gy, Tensor& gx, Tensor& ga,
                    int64_t rows, int64_t C) {
  on_device(
      ctx, "prelu", x,
      [&](auto t) {
        using T = decltype(t);
        cpu::prelu_backward<T>(x.data_as<T>(), alpha.data_as<T>(), gy.data_as<T>(), data_or_null<T>(gx),
                               data_or_null<T>(ga), rows, C);
      },
      [&](auto stream) {
        Tensor ws = scratch(ctx, cuda::column_reduce_workspace_bytes(rows, C), x.device());
        cuda::prelu_backward(x.dtype(), x.data(), alpha.data(), gy.data(), data_or_null(gx), data_or_null(ga), rows,
                             C, data_or_null(ws), stream);
      });
}

}  // namespace facet::backend
