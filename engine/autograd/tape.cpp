#include "engine/autograd/tape.h"

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/ops/elementwise.h"

namespace facet {

void Tape::clear() {
  for (auto& n : nodes_) {
    if (n->output && n->output->has_producer) n->output->grad.reset();  // intermediates only
  }
  nodes_.clear();
}

bool needs_grad(const Context& ctx, std::initializer_list<const Tensor*> inputs) {
  if (!ctx.grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

void record(Context& ctx, const char* name, const Tensor& out, const std::vector<Tensor>& inputs, BackwardFn fn) {
  if (!ctx.grad_enabled()) return;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return;
  auto node = std::make_unique<Node>();
  node->name = name;
  for (const Tensor& t : inputs) node->inputs.push_back(t.defined() ? t.impl() : nullptr);
  node->output = out.impl();
  node->output->requires_grad = true;
  node->output->has_producer = true;
  node->backward = std::move(fn);
  ctx.tape().push(std::move(node));
}

void accumulate_grad(Context& ctx, const std::shared_ptr<TensorImpl>& t, const Tensor& g) {
  FACET_CHECK(g.shape() == t->shape || g.numel() == numel(t->shape), "gradient of shape ", shape_str(g.shape()),
              " for a tensor of shape ", shape_str(t->shape), t->name.empty() ? "" : " (", t->name,
              t->name.empty() ? "" : ")");
  if (!t->grad) {
    if (t->is_param) {  // parameters always own a gradient buffer (a view of the flat one)
      Tensor z = Tensor::zeros(ctx, t->shape, t->dtype, t->storage->device);
      t->grad = z.impl();
    } else {
      // Own the first gradient outright: it may alias another input's gradient (add's backward
      // returns the same tensor twice), so later accumulation below is out of place.
      t->grad = g.view(t->shape).impl();
      return;
    }
  }
  Tensor acc(t->grad);
  if (t->is_param) {
    axpy_(ctx, 1.0, g, acc);
  } else {
    t->grad = add(ctx, acc, g.view(t->shape)).impl();
  }
}

void backward(Context& ctx, const Tensor& out, const Tensor& seed) {
  FACET_CHECK(out.defined() && out.requires_grad(), "backward: the tensor does not require grad (nothing recorded)");
  Tensor s = seed;
  if (!s.defined()) {
    FACET_CHECK(out.numel() == 1, "backward: a seed gradient is needed for non-scalar output ", shape_str(out.shape()));
    s = Tensor::full(ctx, out.shape(), 1.0, out.dtype(), out.device());
  }
  FACET_CHECK(s.shape() == out.shape(), "backward: seed shape ", shape_str(s.shape()), " != output shape ",
              shape_str(out.shape()));
  NoGradGuard no_grad(ctx);
  accumulate_grad(ctx, out.impl(), s);
  auto& nodes = ctx.tape().nodes();
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    Node& n = **it;
    if (!n.output->grad) continue;
    Tensor gout(n.output->grad);
    std::vector<Tensor> grads = n.backward(gout);
    FACET_CHECK(grads.size() == n.inputs.size(), "backward of ", n.name, " returned ", grads.size(),
                " gradients for ", n.inputs.size(), " inputs");
    for (size_t i = 0; i < grads.size(); ++i) {
      const auto& in = n.inputs[i];
      if (in && in->requires_grad && grads[i].defined()) accumulate_grad(ctx, in, grads[i]);
    }
    if (n.output->has_producer) n.output->grad.reset();  // free as we go
  }
  ctx.tape().clear();
}

}  // namespace facet
