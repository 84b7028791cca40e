// Convolution primitives (engine/ops/backend.h) over kernels/{cpu,cuda}/conv2d.h. Scratch memory
// comes from the context's allocators, one buffer per call shared by backward-data and -filter;
// on CUDA the cuDNN algorithms are chosen once per problem and kept in the context's cache.
// On the CPU, f32 regular convolutions run on oneDNN (kernels/onednn/conv2d.h) unless the
// context asks for the reference kernels, which f64 (the gradient checks) always uses.
#include "engine/ops/backend.h"

#include <type_traits>

#include "engine/ops/dispatch.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/runtime.h"
#include "kernels/onednn/conv2d.h"

namespace facet::backend {

namespace {

Tensor cpu_workspace(Context& ctx, const cpu::Conv2dGeom& g, DType dt) {
  const int64_t n = cpu::conv2d_workspace_elems(g);
  return n ? Tensor::empty(ctx, {n}, dt, Device::cpu()) : Tensor();
}

// The context's oneDNN convolutions for a CPU conv in `dt`, or null where the reference kernels run it.
onednn::ConvCache* onednn_for(Context& ctx, DType dt) {
  if (!FACET_HAS_ONEDNN || dt != DType::F32 || ctx.cpu_conv == CpuConv::Reference) return nullptr;
  return ctx.onednn_convs();
}

onednn::Math onednn_math(const Context& ctx) {
  return ctx.cpu_conv == CpuConv::OneDnnBf16 ? onednn::Math::BF16 : onednn::Math::F32;
}

cuda::ConvConfig cuda_config(Context& ctx) {
  cuda::ConvConfig cfg;
  cfg.deterministic = ctx.deterministic;
  cfg.cache = ctx.conv_algo_cache();  // heuristics run once per problem, then reused
  return cfg;
}

// dbias = sum of dy over the n * oh * ow rows (the bias gradient when no filter gradient is asked).
template <typename Stream>
void cuda_bias_grad(Context& ctx, const Tensor& gy, Tensor& gb, int64_t rows, int64_t channels, Stream stream) {
  Tensor ws = scratch(ctx, cuda::column_reduce_workspace_bytes(rows, channels), gy.device());
  cuda::bias_grad(gy.dtype(), gy.data(), gb.data(), rows, channels, data_or_null(ws), stream);
}

}  // namespace

void conv2d_forward(Context& ctx, const cpu::Conv2dGeom& g, const Tensor& x, const Tensor& w, const Tensor& bias,
                    Tensor& y, double leaky_slope) {
  const DType dt = x.dtype();
  const bool leaky = leaky_slope > 0;
  const int64_t ny = g.n * g.oh * g.ow * g.k;
  on_device(
      ctx, "conv2d", x.device(),
      [&] {
#if FACET_HAS_ONEDNN
        if (onednn::ConvCache* dnn = onednn_for(ctx, dt)) {
          dnn->forward(g, onednn_math(ctx), x.data_as<float>(), w.data_as<float>(), data_or_null<float>(bias),
                       y.data_as<float>(), {leaky, static_cast<float>(leaky_slope)});
          return;
        }
#endif
        Tensor ws = cpu_workspace(ctx, g, dt);
        cpu_dispatch("conv2d", dt, [&](auto t) {
          using T = decltype(t);
          cpu::conv2d_forward<T>(g, x.data_as<T>(), w.data_as<T>(), data_or_null<T>(bias), y.data_as<T>(),
                                 data_or_null<T>(ws));
          if (leaky)
            cpu::unary_forward<T>(UnaryOp::LeakyRelu, y.data_as<T>(), y.data_as<T>(), ny, static_cast<T>(leaky_slope));
        });
      },
      [&](auto stream) {
        const cuda::Handles& h = ctx.cuda_handles();
        const cuda::ConvConfig cfg = cuda_config(ctx);
        const size_t bytes = cuda::conv2d_workspace_bytes(h, dt, g, cfg);
        Tensor ws = scratch(ctx, bytes, x.device());
        cuda::conv2d_forward(h, dt, g, x.data(), w.data(), data_or_null(bias), y.data(), data_or_null(ws), bytes, cfg);
        if (leaky)
          cuda::unary_forward(dt, UnaryOp::LeakyRelu, y.data(), y.data(), ny, static_cast<float>(leaky_slope), stream);
      });
}

void conv2d_backward(Context& ctx, const cpu::Conv2dGeom& g, const Tensor& x, const Tensor& w, const Tensor& gy,
                     Tensor& gx, Tensor& gw, Tensor& gb) {
  const DType dt = x.dtype();
  on_device(
      ctx, "conv2d", x.device(),
      [&] {
#if FACET_HAS_ONEDNN
        if (onednn::ConvCache* dnn = onednn_for(ctx, dt); dnn && (gx.defined() || gw.defined())) {
          if (gx.defined())
            dnn->backward_data(g, onednn_math(ctx), gy.data_as<float>(), w.data_as<float>(), gx.data_as<float>());
          if (gw.defined())
            dnn->backward_filter(g, onednn_math(ctx), x.data_as<float>(), gy.data_as<float>(), gw.data_as<float>(),
                                 data_or_null<float>(gb));
          else if (gb.defined())
            cpu::conv2d_bias_backward<float>(g.out_pixels(), g.k, gy.data_as<float>(), gb.data_as<float>());
          return;
        }
#endif
        Tensor ws = (gx.defined() || gw.defined()) ? cpu_workspace(ctx, g, dt) : Tensor();
        cpu_dispatch("conv2d", dt, [&](auto t) {
          using T = decltype(t);
          if (gx.defined())
            cpu::conv2d_backward_data<T>(g, gy.data_as<T>(), w.data_as<T>(), gx.data_as<T>(), data_or_null<T>(ws));
          if (gw.defined())
            cpu::conv2d_backward_filter<T>(g, x.data_as<T>(), gy.data_as<T>(), gw.data_as<T>(), data_or_null<T>(gb),
                                           data_or_null<T>(ws));
          else if (gb.defined())
            cpu::conv2d_bias_backward<T>(g.out_pixels(), g.k, gy.data_as<T>(), gb.data_as<T>());
        });
      },
      [&](auto stream) {
        const cuda::Handles& h = ctx.cuda_handles();
        const cuda::ConvConfig cfg = cuda_config(ctx);
        if (gx.defined() || gw.defined()) {
          const size_t bytes = cuda::conv2d_workspace_bytes(h, dt, g, cfg);
          Tensor ws = scratch(ctx, bytes, x.device());
          if (gx.defined())
            cuda::conv2d_backward_data(h, dt, g, gy.data(), w.data(), gx.data(), data_or_null(ws), bytes, cfg);
          if (gw.defined())
            cuda::conv2d_backward_filter(h, dt, g, x.data(), gy.data(), gw.data(), data_or_null(gb), data_or_null(ws),
                                         bytes, cfg);
        }
        if (gb.defined() && !gw.defined()) cuda_bias_grad(ctx, gy, gb, g.out_pixels(), g.k, stream);
      });
}

void depthwise_conv2d_forward(Context& ctx, const cpu::Conv2dGeom& g, const Tensor& x, const Tensor& w,
                              const Tensor& bias, Tensor& y) {
  on_device(
      ctx, "depthwise_conv2d", x,
      [&](auto t) {
        using T = decltype(t);
#if FACET_HAS_ONEDNN
        if constexpr (std::is_same_v<T, float>)
          if (onednn::ConvCache* dnn = onednn_for(ctx, DType::F32)) {
            dnn->depthwise_forward(g, onednn_math(ctx), x.data_as<float>(), w.data_as<float>(),
                                   data_or_null<float>(bias), y.data_as<float>());
            return;
          }
#endif
        cpu::depthwise_conv2d_forward<T>(g, x.data_as<T>(), w.data_as<T>(), data_or_null<T>(bias), y.data_as<T>());
      },
      [&](auto stream) {
        cuda::depthwise_conv2d_forward(x.dtype(), g, x.data(), w.data(), data_or_null(bias), y.data(), stream);
      });
}

void depthwise_conv2d_backward(Context& ctx, const cpu::Conv2dGeom& g, const Tensor& x, const Tensor& w,
                               const Tensor& gy, Tensor& gx, Tensor& gw, Tensor& gb) {
  const DType dt = x.dtype();
  on_device(
      ctx, "depthwise_conv2d", x,
      [&](auto t) {
        using T = decltype(t);
        if (gx.defined())
          cpu::depthwise_conv2d_backward_data<T>(g, gy.data_as<T>(), w.data_as<T>(), gx.data_as<T>());
        if (gw.defined())
          cpu::depthwise_conv2d_backward_filter<T>(g, x.data_as<T>(), gy.data_as<T>(), gw.data_as<T>(),
                                                   data_or_null<T>(gb));
        else if (gb.defined())
          cpu::conv2d_bias_backward<T>(g.out_pixels(), g.c, gy.data_as<T>(), gb.data_as<T>());
      },
      [&](auto stream) {
        if (gx.defined()) cuda::depthwise_conv2d_backward_data(dt, g, gy.data(), w.data(), gx.data(), stream);
        if (gw.defined()) {
          Tensor ws = scratch(ctx, cuda::depthwise_conv2d_workspace_bytes(g), x.device());
          cuda::depthwise_conv2d_backward_filter(dt, g, x.data(), gy.data(), gw.data(), data_or_null(gb),
                                                 data_or_null(ws), stream);
        } else if (gb.defined()) {
          cuda_bias_grad(ctx, gy, gb, g.out_pixels(), g.c, stream);
        }
      });
}

}  // namespace facet::backend
