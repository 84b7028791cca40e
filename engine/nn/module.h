// Module: a named tree of parameters and child modules (the leras/PyTorch shape). Parameter
// names are paths ("encoder/down1/conv/weight") and form the state dict that checkpoints save.
// Modules own their parameter handles; a ParameterBuffer (engine/optim) may later re-point those
// handles into one flat buffer, which modules never notice.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // All parameters of this module and its children, depth first in registration order.
  NamedTensors named_parameters(const std::string& prefix = "") const;
  std::vector<Tensor> parameters() const;
  int64_t num_parameters() const;

  NamedTensors state_dict() const { return named_parameters(); }
  // Copies values in; names, shapes and dtypes must match exactly (the error names the tensor).
  void load_state_dict(Context& ctx, const NamedTensors& state);

  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

 protected:
  // Registers a parameter: marks it as a parameter that requires grad and names it.
  Tensor& register_parameter(const std::string& name, Tensor t);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// Modules with one input and one output (all of DeepFaceLab's building blocks).
class UnaryModule : public Module {
 public:
  virtual Tensor forward(Context& ctx, const Tensor& x) = 0;
  Tensor operator()(Context& ctx, const Tensor& x) { return forward(ctx, x); }
};

}  // namespace facet::nn
