// Optimizers over a ParameterBuffer: Adam (PyTorch's), and DeepFaceLab's AdaBelief and RMSprop
// (formulas in kernels/cpu/optimizers.h; DFL's core/leras/optimizers/AdaBelief.py, RMSprop.py). Each keeps its
// state as flat fp32 buffers with the parameter layout (f64 beside CPU f64 reference masters),
// plus an iteration counter, and offers DFL's options on all three: lr_dropout (a fresh Philox
// Bernoulli mask per step keeps ~30% of the weight updates), lr_cos (cosine lr oscillation, DFL
// enables it with lr_dropout) and clipnorm (global-norm gradient clipping, computed on the device
// without a host sync).
//
// The optimizer holds a reference to its ParameterBuffer, which must outlive it.
// step() allocates nothing and never waits for the GPU: every buffer exists from construction,
// per-step scalars travel as kernel arguments, the clip scale stays in device memory.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/optim/parameter_buffer.h"
#include "engine/tensor/tensor.h"

namespace facet {

struct OptimHyper;

struct OptimizerOptions {
  double lr = 5e-5;              // DFL SAEHD's rate for every optimizer
  double clipnorm = 0.0;         // > 0: if ||g||_2 >= clipnorm (all gradients), g *= clipnorm / ||g||
  bool lr_dropout = false;       // keep each weight's update with probability lr_dropout_keep
  double lr_dropout_keep = 0.3;  // DFL's lr_dropout = 0.3
  int lr_cos = 0;                // > 0: lr *= (cos(iter * 2pi / lr_cos) + 1) / 2 (DFL: 500)
};

// DFL's switches as SAEHD sets them: lr_dropout brings lr_cos = 500; clipgrad is clipnorm 1.
OptimizerOptions dfl_options(double lr, bool lr_dropout, bool clipgrad);

class Optimizer {
 public:
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update from the gradients now in the parameter buffer's flat gradient buffer.
  // Runs on ctx's stream; ctx must be the context the buffer's device belongs to.
  void step(Context& ctx);

  int64_t iteration() const;  // completed steps (DFL's `iters`)
  void set_iteration(int64_t it);
  const OptimizerOptions& options() const { return opt_; }
  void set_lr(double lr) { opt_.lr = lr; }
  double current_lr() const;  // the rate the next step uses (lr_cos applied)
  ParameterBuffer& parameters() { return params_; }
  const char* name() const { return name_; }

  // Leaves elements [begin, end) of the flat buffers alone from now on: no update of their
  // weights or optimizer state, and their gradients count in no clipping norm (DFL trains only
  // the weights on its trainable list: LIAE's inter_AB is off it without random warp). begin and
  // end are multiples of 4 inside the buffer (ParameterBuffer's tensor offsets are, at 64); an
  // empty range unfreezes.
  void freeze(int64_t begin, int64_t end);

  // The global gradient norm of the last step with clipnorm > 0 (reads the device: for logs).
  double last_grad_norm(Context& ctx) const;

  // Flat state buffers by name (layout of parameters().params(); per-tensor views via
  // parameters().view_of) and "iterations" (a CPU f64 [1] tensor). Checkpoints save these and
  // restore by copying into them; the optimizer reads them on the next step.
  std::map<std::string, Tensor> state_tensors() const;

 protected:
  Optimizer(Context& ctx, ParameterBuffer& params, const OptimizerOptions& opt, const char* name,
            const std::vector<std::string>& state_names);
  // Fills the optimizer-specific scalars for the step with 1-based number t.
  virtual void fill_hyper(OptimHyper& h, int64_t t) const = 0;
  // grad_scale is applied in the masters' dtype (f32; f64 for CPU reference masters).
  virtual void update_cpu(const OptimHyper& h, double grad_scale) = 0;
  virtual void update_cuda(const OptimHyper& h, const float* grad_scale, void* stream) = 0;

  ParameterBuffer& params_;
  OptimizerOptions opt_;
  const char* name_;
  std::vector<std::string> state_names_;
  std::vector<Tensor> state_;  // flat, zero-initialised
  Tensor iterations_;          // CPU f64 [1]
  Tensor clip_out_;            // CUDA: [scale, norm]
  Tensor clip_ws_;             // CUDA: reduction partials
  double last_norm_ = 0.0;     // CPU path
  int64_t frozen_begin_ = 0, frozen_end_ = 0;
};

struct AdamOptions : OptimizerOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};
struct AdaBeliefOptions : OptimizerOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-6;  // eps: np.finfo(float32).resolution, as in DFL
};
struct RMSpropOptions : OptimizerOptions {
  double rho = 0.9, eps = 1e-6;
};

// torch.optim.Adam (bias-corrected, eps outside the square root). State: "m", "v".
class Adam final : public Optimizer {
 public:
  Adam(Context& ctx, ParameterBuffer& params, const AdamOptions& opt = {});

 private:
  void fill_hyper(OptimHyper& h, int64_t t) const override;
  void update_cpu(const OptimHyper& h, double grad_scale) override;
  void update_cuda(const OptimHyper& h, const float* grad_scale, void* stream) override;
  double beta1_, beta2_, eps_;
};

// DFL's AdaBelief (no bias correction). State: "m", "v".
class AdaBelief final : public Optimizer {
 public:
  AdaBelief(Context& ctx, ParameterBuffer& params, const AdaBeliefOptions& opt = {});

 private:
  void fill_hyper(OptimHyper& h, int64_t t) const override;
  void update_cpu(const OptimHyper& h, double grad_scale) override;
  void update_cuda(const OptimHyper& h, const float* grad_scale, void* stream) override;
  double beta1_, beta2_, eps_;
};

// DFL's RMSprop (no momentum). State: "a".
class RMSprop final : public Optimizer {
 public:
  RMSprop(Context& ctx, ParameterBuffer& params, const RMSpropOptions& opt = {});

 private:
  void fill_hyper(OptimHyper& h, int64_t t) const override;
  void update_cpu(const OptimHyper& h, double grad_scale) override;
  void update_cuda(const OptimHyper& h, const float* grad_scale, void* stream) override;
  double rho_, eps_;
};

}  // namespace facet
