// Optimizer base (iteration counter, lr schedule, lr_dropout stream, clipping) and the three
// update rules, each a thin choice of scalars plus one call into kernels/{cpu,cuda}/optimizers.
#include "engine/optim/optimizer.h"

#include <cmath>
#include <utility>

#include "engine/core/error.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/optimizers.h"
#if FACET_HAS_CUDA
#include "kernels/cuda/optimizers.h"
#include "kernels/cuda/runtime.h"
#endif

namespace facet {

OptimizerOptions dfl_options(double lr, bool lr_dropout, bool clipgrad) {
  OptimizerOptions o;
  o.lr = lr;
  o.lr_dropout = lr_dropout;
  o.lr_cos = lr_dropout ? 500 : 0;  // Model_SAEHD: lr_cos = 500 if lr_dropout else 0
  o.clipnorm = clipgrad ? 1.0 : 0.0;
  return o;
}

Optimizer::Optimizer(Context& ctx, ParameterBuffer& params, const OptimizerOptions& opt, const char* name,
                     const std::vector<std::string>& state_names)
    : params_(params), opt_(opt), name_(name), state_names_(state_names) {
  FACET_CHECK(opt.lr_dropout_keep > 0.0 && opt.lr_dropout_keep <= 1.0, name, ": lr_dropout_keep must be in (0, 1], got ",
              opt.lr_dropout_keep);
  FACET_CHECK(opt.lr_cos >= 0 && opt.clipnorm >= 0.0, name, ": lr_cos and clipnorm must not be negative");
  const Device dev = params.device();
  FACET_CHECK(dev.is_cpu() || ctx.device() == dev, name, ": parameters on ", dev.str(), " but the context is on ",
              ctx.device().str());
  for (const std::string& s : state_names) {
    Tensor t = Tensor::zeros(ctx, {params.numel()}, params.dtype(), dev);  // f64 only for CPU f64 masters
    t.set_name(s);
    state_.push_back(t);
  }
  iterations_ = Tensor::zeros(ctx, {1}, DType::F64, Device::cpu());
  iterations_.set_name("iterations");
  if (dev.is_cuda()) {
    require_cuda_build(name);
#if FACET_HAS_CUDA
    clip_out_ = Tensor::full(ctx, {2}, 1.0, DType::F32, dev);
    clip_ws_ = Tensor::zeros(ctx, {static_cast<int64_t>(cuda::clip_workspace_bytes() / 4)}, DType::F32, dev);
#endif
  }
}

Optimizer::~Optimizer() = default;

int64_t Optimizer::iteration() const { return static_cast<int64_t>(iterations_.data_as<double>()[0]); }
void Optimizer::set_iteration(int64_t it) { iterations_.data_as<double>()[0] = static_cast<double>(it); }

double Optimizer::current_lr() const {
  double lr = opt_.lr;
  if (opt_.lr_cos > 0) {
    // DFL's constant (3.1415926535) and the iteration count before this step's increment.
    lr *= (std::cos(static_cast<double>(iteration()) * (2 * 3.1415926535 / opt_.lr_cos)) + 1.0) / 2.0;
  }
  return lr;
}

void Optimizer::step(Context& ctx) {
  FACET_CHECK(params_.device().is_cpu() || ctx.device() == params_.device(), name_, "::step: parameters on ",
              params_.device().str(), " but the context is on ", ctx.device().str());
  const int64_t t = iteration() + 1;
  OptimHyper h;
  h.lr = static_cast<float>(current_lr());
  fill_hyper(h, t);
  h.frozen_begin = frozen_begin_, h.frozen_end = frozen_end_;
  if (frozen_end_ > frozen_begin_) {  // frozen gradients count in no norm
    Tensor frozen_grads = params_.grads().slice0(frozen_begin_, frozen_end_);
    frozen_grads.fill_zero(ctx);
  }
  if (opt_.lr_dropout && opt_.lr_dropout_keep < 1.0) {
    h.keep_prob = static_cast<float>(opt_.lr_dropout_keep);
    h.seed = ctx.seed();
    h.offset = ctx.reserve_rng(static_cast<uint64_t>(params_.numel()));
  }
  const Tensor& g = params_.grads();
  if (params_.device().is_cpu()) {
    double scale = 1.0;
    if (opt_.clipnorm > 0.0) {
      cpu_dispatch(name_, g.dtype(), [&](auto t) {
        using T = decltype(t);
        last_norm_ = std::sqrt(cpu::sum_squares<T>(g.data_as<T>(), g.numel()));
      });
      scale = cpu::clip_scale(last_norm_, opt_.clipnorm);
    }
    update_cpu(h, scale);
  } else {
#if FACET_HAS_CUDA
    void* stream = cuda_stream(ctx);
    const float* scale = nullptr;
    if (opt_.clipnorm > 0.0) {
      cuda::clip_scale(g.data_as<float>(), g.numel(), static_cast<float>(opt_.clipnorm), clip_out_.data_as<float>(),
                       clip_ws_.data(), stream);
      scale = clip_out_.data_as<float>();
    }
    update_cuda(h, scale, stream);
#endif
  }
  set_iteration(t);
}

void Optimizer::freeze(int64_t begin, int64_t end) {
  FACET_CHECK(0 <= begin && begin <= end && end <= params_.numel() && begin % 4 == 0 && end % 4 == 0, name_,
              "::freeze: range [", begin, ", ", end, ") must lie in the buffer of ", params_.numel(),
              " elements at multiples of 4");
  frozen_begin_ = begin, frozen_end_ = end;
}

double Optimizer::last_grad_norm(Context& ctx) const {
  if (params_.device().is_cpu()) return last_norm_;
  return clip_out_.to_double(ctx)[1];
}

std::map<std::string, Tensor> Optimizer::state_tensors() const {
  std::map<std::string, Tensor> m;
  for (size_t i = 0; i < state_.size(); ++i) m[state_names_[i]] = state_[i];
  m["iterations"] = iterations_;
  return m;
}

namespace {
[[maybe_unused]] float* f32(const Tensor& t) { return t.data_as<float>(); }  // CUDA masters are f32

// Runs f(T{}) for the CPU master dtype (f32, or f64 in reference tests).
template <typename F>
void on_cpu_masters(const ParameterBuffer& p, const char* name, F&& f) {
  cpu_dispatch(name, p.dtype(), std::forward<F>(f));
}
}  // namespace

// ---- Adam ----

Adam::Adam(Context& ctx, ParameterBuffer& params, const AdamOptions& opt)
    : Optimizer(ctx, params, opt, "Adam", {"m", "v"}), beta1_(opt.beta1), beta2_(opt.beta2), eps_(opt.eps) {}

void Adam::fill_hyper(OptimHyper& h, int64_t t) const {
  h.beta1 = static_cast<float>(beta1_);
  h.one_minus_beta1 = static_cast<float>(1.0 - beta1_);
  h.beta2 = static_cast<float>(beta2_);
  h.one_minus_beta2 = static_cast<float>(1.0 - beta2_);
  h.eps = static_cast<float>(eps_);
  h.bias_correction1 = static_cast<float>(1.0 - std::pow(beta1_, static_cast<double>(t)));
  h.bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(beta2_, static_cast<double>(t))));
}

void Adam::update_cpu(const OptimHyper& h, double s) {
  on_cpu_masters(params_, name_, [&](auto t) {
    using T = decltype(t);
    cpu::adam_step<T>(params_.params().data_as<T>(), params_.grads().data_as<T>(), state_[0].data_as<T>(),
                      state_[1].data_as<T>(), params_.numel(), h, static_cast<T>(s));
  });
}

void Adam::update_cuda(const OptimHyper& h, const float* s, void* stream) {
#if FACET_HAS_CUDA
  cuda::adam_step(f32(params_.params()), f32(params_.grads()), f32(state_[0]), f32(state_[1]), params_.numel(), h, s,
                  stream);
#else
  (void)h, (void)s, (void)stream;
#endif
}

// ---- AdaBelief ----

AdaBelief::AdaBelief(Context& ctx, ParameterBuffer& params, const AdaBeliefOptions& opt)
    : Optimizer(ctx, params, opt, "AdaBelief", {"m", "v"}), beta1_(opt.beta1), beta2_(opt.beta2), eps_(opt.eps) {}

void AdaBelief::fill_hyper(OptimHyper& h, int64_t) const {
  h.beta1 = static_cast<float>(beta1_);
  h.one_minus_beta1 = static_cast<float>(1.0 - beta1_);
  h.beta2 = static_cast<float>(beta2_);
  h.one_minus_beta2 = static_cast<float>(1.0 - beta2_);
  h.eps = static_cast<float>(eps_);
}

void AdaBelief::update_cpu(const OptimHyper& h, double s) {
  on_cpu_masters(params_, name_, [&](auto t) {
    using T = decltype(t);
    cpu::adabelief_step<T>(params_.params().data_as<T>(), params_.grads().data_as<T>(), state_[0].data_as<T>(),
                           state_[1].data_as<T>(), params_.numel(), h, static_cast<T>(s));
  });
}

void AdaBelief::update_cuda(const OptimHyper& h, const float* s, void* stream) {
#if FACET_HAS_CUDA
  cuda::adabelief_step(f32(params_.params()), f32(params_.grads()), f32(state_[0]), f32(state_[1]), params_.numel(), h,
                       s, stream);
#else
  (void)h, (void)s, (void)stream;
#endif
}

// ---- RMSprop ----

RMSprop::RMSprop(Context& ctx, ParameterBuffer& params, const RMSpropOptions& opt)
    : Optimizer(ctx, params, opt, "RMSprop", {"a"}), rho_(opt.rho), eps_(opt.eps) {}

void RMSprop::fill_hyper(OptimHyper& h, int64_t) const {
  h.beta2 = static_cast<float>(rho_);
  h.one_minus_beta2 = static_cast<float>(1.0 - rho_);
  h.eps = static_cast<float>(eps_);
}

void RMSprop::update_cpu(const OptimHyper& h, double s) {
  on_cpu_masters(params_, name_, [&](auto t) {
    using T = decltype(t);
    cpu::rmsprop_step<T>(params_.params().data_as<T>(), params_.grads().data_as<T>(), state_[0].data_as<T>(),
                         params_.numel(), h, static_cast<T>(s));
  });
}

void RMSprop::update_cuda(const OptimHyper& h, const float* s, void* stream) {
#if FACET_HAS_CUDA
  cuda::rmsprop_step(f32(params_.params()), f32(params_.grads()), f32(state_[0]), params_.numel(), h, s, stream);
#else
  (void)h, (void)s, (void)stream;
#endif
}

}  // namespace facet
