// Tensor: a shared handle to (storage, byte offset, shape, dtype). Storage is always contiguous
// row-major; reshape and leading-axis slices are free views of the same storage. Copies between
// devices are explicit (`to`). Autograd state (requires_grad, grad, parameter flag) lives on the
// handle's impl so that views made by ops get their own gradients.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/core/device.h"
#include "engine/core/shape.h"
#include "engine/memory/allocator.h"
#include "kernels/common/dtype.h"

namespace facet {

class Context;

struct Storage {
  void* data = nullptr;
  size_t bytes = 0;
  Device device;
  std::shared_ptr<Allocator> alloc;  // null for borrowed memory
  ~Storage() {
    if (alloc && data) alloc->deallocate(data, bytes);
  }
};

class Tensor;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset = 0;  // bytes
  Shape shape;
  DType dtype = DType::F32;
  bool requires_grad = false;
  bool is_param = false;
  bool has_producer = false;  // made by a recorded op (its grad is freed after backward)
  std::string name;
  std::shared_ptr<TensorImpl> grad;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Factories. `device` defaults to the context's device.
  static Tensor empty(Context& ctx, const Shape& shape, DType dtype = DType::F32);
  static Tensor empty(Context& ctx, const Shape& shape, DType dtype, Device device);
  static Tensor zeros(Context& ctx, const Shape& shape, DType dtype, Device device);
  static Tensor zeros(Context& ctx, const Shape& shape, DType dtype = DType::F32);
  static Tensor full(Context& ctx, const Shape& shape, double value, DType dtype, Device device);
  static Tensor from_vector(Context& ctx, const Shape& shape, const std::vector<float>& v,
                            DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor from_vector(Context& ctx, const Shape& shape, const std::vector<double>& v,
                            DType dtype, Device device = Device::cpu());
  // Counter-based random fills (Philox; identical on CPU and CUDA for the same ctx state).
  static Tensor uniform(Context& ctx, const Shape& shape, double lo, double hi, DType dtype, Device device);
  static Tensor normal(Context& ctx, const Shape& shape, double mean, double stddev, DType dtype, Device device);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  int rank() const { return static_cast<int>(impl_->shape.size()); }
  int64_t dim(int i) const { return impl_->shape[norm_axis(i, rank())]; }
  int64_t numel() const { return facet::numel(impl_->shape); }
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device; }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }

  void* data() const { return static_cast<char*>(impl_->storage->data) + impl_->offset; }
  template <typename T>
  T* data_as() const { return static_cast<T*>(data()); }

  // Views (no copy, no autograd: use ops::reshape for a differentiable reshape).
  Tensor view(const Shape& shape) const;
  Tensor slice0(int64_t begin, int64_t end) const;  // rows [begin, end) of axis 0

  Tensor to(Context& ctx, Device device) const;  // copy (or share when already there)
  Tensor clone(Context& ctx) const;
  Tensor cast(Context& ctx, DType dtype) const;  // converting copy
  std::vector<double> to_double(Context& ctx) const;  // host copy, any dtype
  std::vector<float> to_float(Context& ctx) const;
  void copy_from(Context& ctx, const Tensor& src);  // same shape, any device, same dtype
  void fill_zero(Context& ctx);

  // Autograd
  bool requires_grad() const { return impl_->requires_grad; }
  Tensor& set_requires_grad(bool on) { impl_->requires_grad = on; return *this; }
  bool is_param() const { return impl_->is_param; }
  Tensor grad() const { return Tensor(impl_->grad); }
  void set_grad(const Tensor& g) { impl_->grad = g.impl_; }
  const std::string& name() const { return impl_->name; }
  Tensor& set_name(std::string n) { impl_->name = std::move(n); return *this; }

  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }
  bool same_storage(const Tensor& o) const { return impl_->storage == o.impl_->storage; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Throws a facet::Error naming `what` unless the tensors share device and dtype.
void check_same_device_dtype(const char* what, const Tensor& a, const Tensor& b);
void check_shape(const char* what, const Tensor& t, const Shape& expected);

}  // namespace facet
