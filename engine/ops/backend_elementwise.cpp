// Elementwise primitives (engine/ops/backend.h) over kernels/{cpu,cuda}/elementwise.h.
#include "engine/ops/backend.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cuda/elementwise.h"

namespace facet::backend {

// ---- elementwise ------------------------------------------------------------------------------

void unary_forward(Context& ctx, const char* op, UnaryOp u, const Tensor& x, Tensor& y, double alpha) {
  on_device(
      ctx, op, x,
      [&](auto t) {
        using T = decltype(t);
        cpu::unary_forward<T>(u, x.data_as<T>(), y.data_as<T>(), x.numel(), static_cast<T>(alpha));
      },
      [&](auto stream) {
        cuda::unary_forward(x.dtype(), u, x.data(), y.data(), x.numel(), static_cast<float>(alpha), stream);
      });
}

void unary_backward(Context& ctx, const char* op, UnaryOp u, const Tensor& x, const Tensor& y, const Tensor& gy,
                    Tensor& gx, double alpha) {
  on_device(
      ctx, op, x,
      [&](auto t) {
        using T = decltype(t);
        cpu::unary_backward<T>(u, x.data_as<T>(), y.data_as<T>(), gy.data_as<T>(), gx.data_as<T>(), x.numel(),
                               static_cast<T>(alpha));
      },
      [&](auto stream) {
        cuda::unary_backward(x.dtype(), u, x.data(), y.data(), gy.data(), gx.data(), x.numel(),
                             static_cast<float>(alpha), stream);
      });
}

void binary_forward(Context& ctx, const char* op, BinaryOp b, const Tensor& a, const Tensor& bt, Tensor& y,
                    const BroadcastGeom& g) {
  on_device(
      ctx, op, a,
      [&](auto t) {
        using T = decltype(t);
        cpu::binary_forward<T>(b, a.data_as<T>(), bt.data_as<T>(), y.data_as<T>(), g);
      },
      [&](auto stream) { cuda::binary_forward(a.dtype(), b, a.data(), bt.data(), y.data(), g, stream); });
}

void reduce_sum(Context& ctx, const char* op, const Tensor& x, Tensor& y, const ReduceGeom& g, double scale) {
  on_device(
      ctx, op, x,
      [&](auto t) {
        using T = decltype(t);
        cpu::reduce_sum<T>(x.data_as<T>(), y.data_as<T>(), g, static_cast<T>(scale));
      },
      [&](auto stream) { cuda::reduce_sum(x.dtype(), x.data(), y.data(), g, static_cast<float>(scale), stream); });
}

void axpy(Context& ctx, const char* op, double alpha, const Tensor& x, Tensor& y) {
  on_device(
      ctx, op, x,
      [&](auto t) {
        using T = decltype(t);
        cpu::axpy<T>(static_cast<T>(alpha), x.data_as<T>(), y.data_as<T>(), x.numel());
      },
      [&](auto stream) { cuda::axpy(x.dtype(), static_cast<float>(alpha), x.data(), y.data(), x.numel(), stream); });
}

}  // namespace facet::backend
