#include "engine/nn/module.h"

#include <map>

#include "engine/core/error.h"

namespace facet::nn {

Tensor& Module::register_parameter(const std::string& name, Tensor t) {
  t.impl()->is_param = true;
  t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return params_.back().second;
}

NamedTensors Module::named_parameters(const std::string& prefix) const {
  NamedTensors out;
  for (const auto& [name, t] : params_) {
    out.emplace_back(prefix + name, t);
    if (t.name().empty()) const_cast<Tensor&>(t).set_name(prefix + name);
  }
  for (const auto& [name, child] : children_) {
    NamedTensors sub = child->named_parameters(prefix + name + "/");
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& kv : named_parameters()) out.push_back(kv.second);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& kv : named_parameters()) n += kv.second.numel();
  return n;
}

void Module::load_state_dict(Context& ctx, const NamedTensors& state) {
  std::map<std::string, Tensor> given(state.begin(), state.end());
  NamedTensors mine = named_parameters();
  for (auto& [name, t] : mine) {
    auto it = given.find(name);
    FACET_CHECK(it != given.end(), "state dict is missing parameter ", name);
    const Tensor& src = it->second;
    FACET_CHECK(src.shape() == t.shape(), "parameter ", name, ": expected shape ", shape_str(t.shape()), ", got ",
                shape_str(src.shape()));
    FACET_CHECK(src.dtype() == t.dtype(), "parameter ", name, ": expected dtype ", dtype_name(t.dtype()), ", got ",
                dtype_name(src.dtype()));
    Tensor dst = t;
    dst.copy_from(ctx, src);
    given.erase(it);
  }
  FACET_CHECK(given.empty(), "state dict has an unexpected parameter ", given.empty() ? "" : given.begin()->first);
}

}  // namespace facet::nn
