// Builds the flat parameter and gradient buffers and re-points the parameter tensors into them.
#include "engine/optim/parameter_buffer.h"

#include <algorithm>
#include <unordered_set>

#include "engine/core/error.h"

namespace facet {

ParameterBuffer::ParameterBuffer(Context& ctx, const std::vector<Tensor>& params) {
  FACET_CHECK(!params.empty(), "ParameterBuffer: no parameters given");
  std::unordered_set<const TensorImpl*> seen;
  FACET_CHECK(params.front().defined(), "ParameterBuffer: undefined parameter tensor");
  const Device dev = params.front().device();
  const DType dt = params.front().dtype();
  int64_t total = 0;
  for (const Tensor& p : params) {
    FACET_CHECK(p.defined(), "ParameterBuffer: undefined parameter tensor");
    const std::string label = p.name().empty() ? std::string("a parameter") : "parameter " + p.name();
    FACET_CHECK(p.dtype() == DType::F32 || (p.dtype() == DType::F64 && p.device().is_cpu()), "ParameterBuffer: ",
                label, " is ", dtype_name(p.dtype()), " on ", p.device().str(),
                "; master weights must be f32 (f64 only on the CPU; bf16 compute casts in the layers)");
    FACET_CHECK(p.dtype() == dt, "ParameterBuffer: ", label, " is ", dtype_name(p.dtype()), ", the first ",
                dtype_name(dt));
    FACET_CHECK(p.device() == dev, "ParameterBuffer: ", label, " is on ", p.device().str(), ", the first on ",
                dev.str());
    if (!seen.insert(p.impl().get()).second) continue;
    tensors_.push_back(p);
    offsets_.push_back(total);
    count_ += p.numel();
    total += (p.numel() + kAlign - 1) / kAlign * kAlign;
  }
  params_ = Tensor::zeros(ctx, {total}, dt, dev);
  grads_ = Tensor::zeros(ctx, {total}, dt, dev);
  params_.set_name("params");
  grads_.set_name("grads");
  for (size_t i = 0; i < tensors_.size(); ++i) {
    Tensor& p = tensors_[i];
    Tensor slot = view_of(params_, i);
    slot.copy_from(ctx, p);
    TensorImpl& impl = *p.impl();
    impl.storage = params_.impl()->storage;
    impl.offset = slot.impl()->offset;
    impl.grad = view_of(grads_, i).impl();
    impl.is_param = true;
    impl.requires_grad = true;
  }
}

Tensor ParameterBuffer::view_of(const Tensor& flat, size_t i) const {
  FACET_CHECK(i < tensors_.size(), "ParameterBuffer::view_of: index ", i, " of ", tensors_.size());
  FACET_CHECK(flat.dtype() == dtype() && flat.numel() == params_.numel(), "ParameterBuffer::view_of: buffer ",
              dtype_name(flat.dtype()), shape_str(flat.shape()), " does not have the layout [", params_.numel(), "] ",
              dtype_name(dtype()));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = flat.impl()->storage;
  impl->offset = flat.impl()->offset + static_cast<size_t>(offsets_[i]) * dtype_size(dtype());
  impl->shape = tensors_[i].shape();
  impl->dtype = dtype();
  impl->name = tensors_[i].name();
  return Tensor(std::move(impl));
}

void ParameterBuffer::zero_grad(Context& ctx) { grads_.fill_zero(ctx); }

const Tensor& ParameterBuffer::cast_masters(Context& ctx, DType dt) {
  cast_ = params_.cast(ctx, dt);  // the previous step's block comes back from the caching allocator
  return cast_;
}

Tensor ParameterBuffer::cast_view(size_t i) const {
  FACET_CHECK(cast_.defined() && i < tensors_.size(), "ParameterBuffer::cast_view: no cast of tensor ", i);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = cast_.impl()->storage;
  impl->offset = cast_.impl()->offset + static_cast<size_t>(offsets_[i]) * dtype_size(cast_.dtype());
  impl->shape = tensors_[i].shape();
  impl->dtype = cast_.dtype();
  return Tensor(std::move(impl));
}

std::pair<int64_t, int64_t> ParameterBuffer::range_of(const std::vector<Tensor>& ts) const {
  FACET_CHECK(!ts.empty(), "ParameterBuffer::range_of: no tensors");
  std::vector<size_t> idx;
  for (const Tensor& t : ts) {
    size_t i = 0;
    while (i < tensors_.size() && tensors_[i].impl() != t.impl()) ++i;
    FACET_CHECK(i < tensors_.size(), "ParameterBuffer::range_of: ", t.name().empty() ? "a tensor" : t.name(),
                " is not in this buffer");
    idx.push_back(i);
  }
  std::sort(idx.begin(), idx.end());
  for (size_t k = 1; k < idx.size(); ++k)
    FACET_CHECK(idx[k] == idx[k - 1] + 1, "ParameterBuffer::range_of: the tensors are not consecutive in the buffer");
  const size_t last = idx.back();
  const int64_t end = last + 1 < tensors_.size() ? offsets_[last + 1] : params_.numel();
  return {offsets_[idx.front()], end};
}

MasterCastScope::MasterCastScope(Context& ctx, ParameterBuffer& params) : ctx_(ctx) {
  ctx_.master_casts.clear();
  if (!ctx.compute_dtype || *ctx.compute_dtype == params.dtype()) return;
  params.cast_masters(ctx, *ctx.compute_dtype);
  for (size_t i = 0; i < params.size(); ++i) ctx_.master_casts[params.tensors()[i].impl().get()] = params.cast_view(i);
}

MasterCastScope::~MasterCastScope() { ctx_.master_casts.clear(); }

}  // namespace facet
