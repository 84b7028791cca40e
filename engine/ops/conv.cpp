// Convolution ops over kernels/{cpu,cuda}/conv2d.h: validate -> allocate -> dispatch -> record.
// Each op records a single node whose backward computes only the gradients that are needed
// (the first layer's input image and frozen weights need none). Scratch memory comes from the
// context's allocators as a Tensor (the CUDA one is a caching pool, so a steady-state training
// step never reaches cudaMalloc), one buffer per call shared by backward-data and -filter.
#include "engine/ops/conv.h"

#include "engine/autograd/tape.h"
#include "engine/ops/dispatch.h"
#if FACET_HAS_CUDA
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/runtime.h"
#endif

namespace facet {

namespace {

template <typename T>
T* ptr(const Tensor& t) {
  return t.defined() ? t.data_as<T>() : nullptr;
}
void* vptr(const Tensor& t) { return t.defined() ? t.data() : nullptr; }

Tensor empty_like(Context& ctx, const Tensor& t) { return Tensor::empty(ctx, t.shape(), t.dtype(), t.device()); }

Tensor cpu_workspace(Context& ctx, const cpu::Conv2dGeom& g, DType dt) {
  const int64_t n = cpu::conv2d_workspace_elems(g);
  return n ? Tensor::empty(ctx, {n}, dt, Device::cpu()) : Tensor();
}

#if FACET_HAS_CUDA
cuda::ConvConfig cuda_config(Context& ctx) {
  cuda::ConvConfig cfg;
  cfg.deterministic = ctx.deterministic;
  cfg.cache = ctx.conv_algo_cache();  // heuristics run once per problem, then reused
  return cfg;
}

Tensor device_workspace(Context& ctx, size_t bytes, Device dev) {
  if (bytes == 0) return Tensor();
  return Tensor::empty(ctx, {static_cast<int64_t>((bytes + 3) / 4)}, DType::F32, dev);
}
#endif

void check_bias(const char* op, const Tensor& x, const Tensor& bias, int64_t channels) {
  if (!bias.defined()) return;
  check_same_device_dtype(op, x, bias);
  FACET_CHECK(bias.rank() == 1 && bias.dim(0) == channels, op, ": bias of shape ", shape_str(bias.shape()), " for ",
              channels, " output channels");
}

const char* padding_name(Padding p) {
  switch (p) {
    case Padding::Same: return "SAME";
    case Padding::Valid: return "VALID";
    case Padding::Explicit: return "explicit";
  }
  return "?";
}

// ---- regular convolution ----------------------------------------------------------------------

void conv2d_backward_into(Context& ctx, const cpu::Conv2dGeom& g, const Tensor& x, const Tensor& w, const Tensor& gy,
                          Tensor& gx, Tensor& gw, Tensor& gb) {
  const DType dt = x.dtype();
  if (x.device().is_cpu()) {
    Tensor ws = (gx.defined() || gw.defined()) ? cpu_workspace(ctx, g, dt) : Tensor();
    cpu_dispatch("conv2d", dt, [&](auto t) {
      using T = decltype(t);
      if (gx.defined()) cpu::conv2d_backward_data<T>(g, gy.data_as<T>(), w.data_as<T>(), gx.data_as<T>(), ptr<T>(ws));
      if (gw.defined())
        cpu::conv2d_backward_filter<T>(g, x.data_as<T>(), gy.data_as<T>(), gw.data_as<T>(), ptr<T>(gb), ptr<T>(ws));
      else if (gb.defined())
        cpu::conv2d_bias_backward<T>(g.out_pixels(), g.k, gy.data_as<T>(), gb.data_as<T>());
    });
    return;
  }
#if FACET_HAS_CUDA
  const cuda::Handles& h = ctx.cuda_handles();
  const cuda::ConvConfig cfg = cuda_config(ctx);
  if (gx.defined() || gw.defined()) {
    const size_t bytes = cuda::conv2d_workspace_bytes(h, dt, g, cfg);
    Tensor ws = device_workspace(ctx, bytes, x.device());
    if (gx.defined()) cuda::conv2d_backward_data(h, dt, g, gy.data(), w.data(), gx.data(), vptr(ws), bytes, cfg);
    if (gw.defined())
      cuda::conv2d_backward_filter(h, dt, g, x.data(), gy.data(), gw.data(), vptr(gb), vptr(ws), bytes, cfg);
  }
  if (gb.defined() && !gw.defined()) {
    Tensor ws = device_workspace(ctx, cuda::column_reduce_workspace_bytes(g.out_pixels(), g.k), x.device());
    cuda::bias_grad(dt, gy.data(), gb.data(), g.out_pixels(), g.k, vptr(ws), h.stream);
  }
#else
  (void)ctx, (void)g, (void)w, (void)gy, (void)gx, (void)gw, (void)gb;
#endif
}

// ---- depthwise convolution --------------------------------------------------------------------

void depthwise_backward_into(Context& ctx, const cpu::Conv2dGeom& g, const Tensor& x, const Tensor& w,
                             const Tensor& gy, Tensor& gx, Tensor& gw, Tensor& gb) {
  const DType dt = x.dtype();
  if (x.device().is_cpu()) {
    cpu_dispatch("depthwise_conv2d", dt, [&](auto t) {
      using T = decltype(t);
      if (gx.defined()) cpu::depthwise_conv2d_backward_data<T>(g, gy.data_as<T>(), w.data_as<T>(), gx.data_as<T>());
      if (gw.defined())
        cpu::depthwise_conv2d_backward_filter<T>(g, x.data_as<T>(), gy.data_as<T>(), gw.data_as<T>(), ptr<T>(gb));
      else if (gb.defined())
        cpu::conv2d_bias_backward<T>(g.out_pixels(), g.c, gy.data_as<T>(), gb.data_as<T>());
    });
    return;
  }
#if FACET_HAS_CUDA
  void* stream = cuda_stream(ctx);
  if (gx.defined()) cuda::depthwise_conv2d_backward_data(dt, g, gy.data(), w.data(), gx.data(), stream);
  if (gw.defined()) {
    Tensor ws = device_workspace(ctx, cuda::depthwise_conv2d_workspace_bytes(g), x.device());
    cuda::depthwise_conv2d_backward_filter(dt, g, x.data(), gy.data(), gw.data(), vptr(gb), vptr(ws), stream);
  } else if (gb.defined()) {
    Tensor ws = device_workspace(ctx, cuda::column_reduce_workspace_bytes(g.out_pixels(), g.c), x.device());
    cuda::bias_grad(dt, gy.data(), gb.data(), g.out_pixels(), g.c, vptr(ws), stream);
  }
#else
  (void)ctx, (void)g, (void)w, (void)gy, (void)gx, (void)gw, (void)gb;
#endif
}

}  // namespace

cpu::Conv2dGeom conv2d_geometry(const char* op, const Shape& x, int64_t out_channels, int64_t kh, int64_t kw,
                                const Conv2dOptions& opt) {
  FACET_CHECK(x.size() == 4, op, ": input must be NHWC [N, H, W, C], got ", shape_str(x));
  FACET_CHECK(opt.stride_h >= 1 && opt.stride_w >= 1, op, ": strides must be at least 1, got ", opt.stride_h, "x",
              opt.stride_w);
  FACET_CHECK(kh >= 1 && kw >= 1, op, ": kernel size must be at least 1x1, got ", kh, "x", kw);
  const int64_t n = x[0], h = x[1], w = x[2], c = x[3];
  cpu::Conv2dGeom g{};
  switch (opt.padding) {
    case Padding::Same: g = cpu::conv2d_geom_same(n, h, w, c, out_channels, kh, kw, opt.stride_h, opt.stride_w); break;
    case Padding::Valid: g = cpu::conv2d_geom_valid(n, h, w, c, out_channels, kh, kw, opt.stride_h, opt.stride_w); break;
    case Padding::Explicit:
      FACET_CHECK(opt.pad_top >= 0 && opt.pad_bottom >= 0 && opt.pad_left >= 0 && opt.pad_right >= 0, op,
                  ": pads must not be negative, got top ", opt.pad_top, " bottom ", opt.pad_bottom, " left ",
                  opt.pad_left, " right ", opt.pad_right);
      g = cpu::conv2d_geom_explicit(n, h, w, c, out_channels, kh, kw, opt.stride_h, opt.stride_w, opt.pad_top,
                                    opt.pad_bottom, opt.pad_left, opt.pad_right);
      break;
  }
  FACET_CHECK(g.oh > 0 && g.ow > 0, op, ": a ", kh, "x", kw, " kernel with ", padding_name(opt.padding),
              " padding (top ", g.pad_top, " bottom ", g.pad_bottom, " left ", g.pad_left, " right ", g.pad_right,
              ") does not fit the ", h, "x", w, " input ", shape_str(x));
  return g;
}

Tensor conv2d(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt) {
  check_same_device_dtype("conv2d", x, w);
  FACET_CHECK(w.rank() == 4, "conv2d: weight must be OHWI [out, kh, kw, in], got ", shape_str(w.shape()));
  FACET_CHECK(x.rank() == 4, "conv2d: input must be NHWC [N, H, W, C], got ", shape_str(x.shape()));
  FACET_CHECK(w.dim(3) == x.dim(3), "conv2d: weight ", shape_str(w.shape()), " takes ", w.dim(3),
              " input channels but the input ", shape_str(x.shape()), " has ", x.dim(3));
  check_bias("conv2d", x, bias, w.dim(0));
  const cpu::Conv2dGeom g = conv2d_geometry("conv2d", x.shape(), w.dim(0), w.dim(1), w.dim(2), opt);
  const DType dt = x.dtype();
  Tensor y = Tensor::empty(ctx, {g.n, g.oh, g.ow, g.k}, dt, x.device());
  if (x.device().is_cpu()) {
    Tensor ws = cpu_workspace(ctx, g, dt);
    cpu_dispatch("conv2d", dt, [&](auto t) {
      using T = decltype(t);
      cpu::conv2d_forward<T>(g, x.data_as<T>(), w.data_as<T>(), ptr<T>(bias), y.data_as<T>(), ptr<T>(ws));
    });
  } else {
    require_cuda_build("conv2d");
#if FACET_HAS_CUDA
    const cuda::Handles& h = ctx.cuda_handles();
    const cuda::ConvConfig cfg = cuda_config(ctx);
    const size_t bytes = cuda::conv2d_workspace_bytes(h, dt, g, cfg);
    Tensor ws = device_workspace(ctx, bytes, x.device());
    cuda::conv2d_forward(h, dt, g, x.data(), w.data(), vptr(bias), y.data(), vptr(ws), bytes, cfg);
#endif
  }
  if (needs_grad(ctx, {&x, &w, &bias})) {
    record(ctx, "conv2d", y, {x, w, bias}, [&ctx, x, w, bias, g](const Tensor& gy) -> std::vector<Tensor> {
      Tensor gx, gw, gb;
      if (x.requires_grad()) gx = empty_like(ctx, x);
      if (w.requires_grad()) gw = empty_like(ctx, w);
      if (bias.defined() && bias.requires_grad()) gb = empty_like(ctx, bias);
      conv2d_backward_into(ctx, g, x, w, gy, gx, gw, gb);
      return {gx, gw, gb};
    });
  }
  return y;
}

Tensor depthwise_conv2d(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt) {
  check_same_device_dtype("depthwise_conv2d", x, w);
  FACET_CHECK(w.rank() == 3, "depthwise_conv2d: weight must be [kh, kw, C], got ", shape_str(w.shape()));
  FACET_CHECK(x.rank() == 4, "depthwise_conv2d: input must be NHWC [N, H, W, C], got ", shape_str(x.shape()));
  FACET_CHECK(w.dim(2) == x.dim(3), "depthwise_conv2d: weight ", shape_str(w.shape()), " has ", w.dim(2),
              " channels but the input ", shape_str(x.shape()), " has ", x.dim(3), " (channel multiplier 1 only)");
  check_bias("depthwise_conv2d", x, bias, x.dim(3));
  const cpu::Conv2dGeom g = conv2d_geometry("depthwise_conv2d", x.shape(), x.dim(3), w.dim(0), w.dim(1), opt);
  const DType dt = x.dtype();
  Tensor y = Tensor::empty(ctx, {g.n, g.oh, g.ow, g.c}, dt, x.device());
  if (x.device().is_cpu()) {
    cpu_dispatch("depthwise_conv2d", dt, [&](auto t) {
      using T = decltype(t);
      cpu::depthwise_conv2d_forward<T>(g, x.data_as<T>(), w.data_as<T>(), ptr<T>(bias), y.data_as<T>());
    });
  } else {
    require_cuda_build("depthwise_conv2d");
#if FACET_HAS_CUDA
    cuda::depthwise_conv2d_forward(dt, g, x.data(), w.data(), vptr(bias), y.data(), cuda_stream(ctx));
#endif
  }
  if (needs_grad(ctx, {&x, &w, &bias})) {
    record(ctx, "depthwise_conv2d", y, {x, w, bias}, [&ctx, x, w, bias, g](const Tensor& gy) -> std::vector<Tensor> {
      Tensor gx, gw, gb;
      if (x.requires_grad()) gx = empty_like(ctx, x);
      if (w.requires_grad()) gw = empty_like(ctx, w);
      if (bias.defined() && bias.requires_grad()) gb = empty_like(ctx, bias);
      depthwise_backward_into(ctx, g, x, w, gy, gx, gw, gb);
      return {gx, gw, gb};
    });
  }
  return y;
}

}  // namespace facet
