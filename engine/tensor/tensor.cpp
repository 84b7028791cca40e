#include "engine/tensor/tensor.h"

#include <cstring>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "facet_config.h"
#include "kernels/cpu/fill.h"
#if FACET_HAS_CUDA
#include "kernels/cuda/fill.h"
#include "kernels/cuda/runtime.h"
#endif

namespace facet {

namespace {
void* stream_of(Context& ctx, Device d) {
#if FACET_HAS_CUDA
  if (d.is_cuda()) return ctx.cuda_handles().stream;
#else
  (void)ctx;
  (void)d;
#endif
  return nullptr;
}
}  // namespace

Tensor Tensor::empty(Context& ctx, const Shape& shape, DType dtype) { return empty(ctx, shape, dtype, ctx.device()); }

Tensor Tensor::empty(Context& ctx, const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) FACET_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
  auto st = std::make_shared<Storage>();
  st->bytes = static_cast<size_t>(facet::numel(shape)) * dtype_size(dtype);
  st->device = device;
  st->alloc = ctx.allocator(device);
  st->data = st->alloc->allocate(st->bytes);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(st);
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(Context& ctx, const Shape& shape, DType dtype) { return zeros(ctx, shape, dtype, ctx.device()); }

Tensor Tensor::zeros(Context& ctx, const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(ctx, shape, dtype, device);
  t.fill_zero(ctx);
  return t;
}

Tensor Tensor::full(Context& ctx, const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(ctx, shape, dtype, device);
  if (device.is_cpu()) {
    cpu::fill(dtype, t.data(), t.numel(), value);
  } else {
#if FACET_HAS_CUDA
    cuda::fill(dtype, t.data(), t.numel(), value, stream_of(ctx, device));
#endif
  }
  return t;
}

Tensor Tensor::from_vector(Context& ctx, const Shape& shape, const std::vector<float>& v, DType dtype, Device device) {
  FACET_CHECK(static_cast<int64_t>(v.size()) == facet::numel(shape), "from_vector: ", v.size(),
              " values for shape ", shape_str(shape));
  Tensor host = empty(ctx, shape, dtype, Device::cpu());
  cpu::cast(DType::F32, v.data(), dtype, host.data(), host.numel());
  return host.to(ctx, device);
}

Tensor Tensor::from_vector(Context& ctx, const Shape& shape, const std::vector<double>& v, DType dtype, Device device) {
  FACET_CHECK(static_cast<int64_t>(v.size()) == facet::numel(shape), "from_vector: ", v.size(),
              " values for shape ", shape_str(shape));
  Tensor host = empty(ctx, shape, dtype, Device::cpu());
  cpu::cast(DType::F64, v.data(), dtype, host.data(), host.numel());
  return host.to(ctx, device);
}

Tensor Tensor::uniform(Context& ctx, const Shape& shape, double lo, double hi, DType dtype, Device device) {
  Tensor t = empty(ctx, shape, dtype, device);
  uint64_t off = ctx.reserve_rng(static_cast<uint64_t>(t.numel()));
  if (device.is_cpu()) {
    cpu::fill_uniform(dtype, t.data(), t.numel(), lo, hi, ctx.seed(), off);
  } else {
#if FACET_HAS_CUDA
    cuda::fill_uniform(dtype, t.data(), t.numel(), lo, hi, ctx.seed(), off, stream_of(ctx, device));
#endif
  }
  return t;
}

Tensor Tensor::normal(Context& ctx, const Shape& shape, double mean, double stddev, DType dtype, Device device) {
  Tensor t = empty(ctx, shape, dtype, device);
  uint64_t off = ctx.reserve_rng(2 * static_cast<uint64_t>(t.numel()));
  if (device.is_cpu()) {
    cpu::fill_normal(dtype, t.data(), t.numel(), mean, stddev, ctx.seed(), off);
  } else {
#if FACET_HAS_CUDA
    cuda::fill_normal(dtype, t.data(), t.numel(), mean, stddev, ctx.seed(), off, stream_of(ctx, device));
#endif
  }
  return t;
}

Tensor Tensor::view(const Shape& shape) const {
  FACET_CHECK(facet::numel(shape) == numel(), "cannot view ", shape_str(impl_->shape), " as ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = shape;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::slice0(int64_t begin, int64_t end) const {
  FACET_CHECK(rank() >= 1 && begin >= 0 && begin <= end && end <= dim(0), "slice0 [", begin, ",", end,
              ") out of range for ", shape_str(impl_->shape));
  int64_t row = numel() / (dim(0) ? dim(0) : 1);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset + static_cast<size_t>(begin * row) * dtype_size(dtype());
  impl->shape = impl_->shape;
  impl->shape[0] = end - begin;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

void Tensor::copy_from(Context& ctx, const Tensor& src) {
  FACET_CHECK(src.dtype() == dtype() && src.numel() == numel(), "copy_from: ", dtype_name(src.dtype()),
              shape_str(src.shape()), " into ", dtype_name(dtype()), shape_str(shape()));
  size_t n = nbytes();
  if (n == 0) return;
  if (device().is_cpu() && src.device().is_cpu()) {
    std::memcpy(data(), src.data(), n);
    return;
  }
#if FACET_HAS_CUDA
  void* s = ctx.cuda_handles().stream;
  if (device().is_cuda() && src.device().is_cpu()) cuda::memcpy_h2d(data(), src.data(), n, s);
  else if (device().is_cpu() && src.device().is_cuda()) cuda::memcpy_d2h(data(), src.data(), n, s);
  else cuda::memcpy_d2d(data(), src.data(), n, s);
#else
  (void)ctx;
  throw Error("copy between devices needs the CUDA backend");
#endif
}

void Tensor::fill_zero(Context& ctx) {
  if (nbytes() == 0) return;
  if (device().is_cpu()) {
    std::memset(data(), 0, nbytes());
  } else {
#if FACET_HAS_CUDA
    cuda::memset_zero(data(), nbytes(), stream_of(ctx, device()));
#else
    (void)ctx;
#endif
  }
}

Tensor Tensor::to(Context& ctx, Device device) const {
  if (device == this->device()) return *this;
  Tensor out = empty(ctx, shape(), dtype(), device);
  out.copy_from(ctx, *this);
  return out;
}

Tensor Tensor::clone(Context& ctx) const {
  Tensor out = empty(ctx, shape(), dtype(), device());
  out.copy_from(ctx, *this);
  return out;
}

Tensor Tensor::cast(Context& ctx, DType to) const {
  Tensor out = empty(ctx, shape(), to, device());
  if (device().is_cpu()) {
    cpu::cast(dtype(), data(), to, out.data(), numel());
  } else {
#if FACET_HAS_CUDA
    cuda::cast(dtype(), data(), to, out.data(), numel(), stream_of(ctx, device()));
#endif
  }
  return out;
}

std::vector<double> Tensor::to_double(Context& ctx) const {
  Tensor h = to(ctx, Device::cpu());
  std::vector<double> v(static_cast<size_t>(numel()));
  cpu::cast(dtype(), h.data(), DType::F64, v.data(), numel());
  return v;
}

std::vector<float> Tensor::to_float(Context& ctx) const {
  Tensor h = to(ctx, Device::cpu());
  std::vector<float> v(static_cast<size_t>(numel()));
  cpu::cast(dtype(), h.data(), DType::F32, v.data(), numel());
  return v;
}

void check_same_device_dtype(const char* what, const Tensor& a, const Tensor& b) {
  FACET_CHECK(a.device() == b.device(), what, ": tensors on ", a.device().str(), " and ", b.device().str());
  FACET_CHECK(a.dtype() == b.dtype(), what, ": dtypes ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
}

void check_shape(const char* what, const Tensor& t, const Shape& expected) {
  FACET_CHECK(t.shape() == expected, what, ": expected shape ", shape_str(expected), ", got ", shape_str(t.shape()));
}

}  // namespace facet
