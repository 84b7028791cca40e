// Reverse-mode autograd over a tape. Each differentiable op that sees an input requiring grad
// appends a Node (its inputs, its output, a backward closure holding what it saved). backward()
// walks the tape in reverse, accumulates gradients (+= into parameter gradients, which live in a
// flat buffer), then releases the graph: nodes, saved tensors and intermediate gradients.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "engine/tensor/tensor.h"

namespace facet {

// Receives the gradient of the op's output, returns one gradient per input (an undefined
// Tensor where an input needs none). Runs with the tape disabled.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_out)>;

struct Node {
  const char* name;
  std::vector<std::shared_ptr<TensorImpl>> inputs;
  std::shared_ptr<TensorImpl> output;
  BackwardFn backward;
};

class Tape {
 public:
  void push(std::unique_ptr<Node> n) { nodes_.push_back(std::move(n)); }
  void clear();
  size_t size() const { return nodes_.size(); }
  std::vector<std::unique_ptr<Node>>& nodes() { return nodes_; }

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
};

class Context;

// True when an op on these inputs must be recorded.
bool needs_grad(const Context& ctx, std::initializer_list<const Tensor*> inputs);

// Records `out = op(inputs)` on the tape when needed (and marks out as requiring grad).
void record(Context& ctx, const char* name, const Tensor& out, const std::vector<Tensor>& inputs, BackwardFn fn);

// Backpropagates from `out`. seed defaults to ones (use a scalar loss); a given seed must have
// out's shape (tests use a random projection). The whole tape is released afterwards (every
// graph recorded since the last backward), so build one graph per backward.
void backward(Context& ctx, const Tensor& out, const Tensor& seed = Tensor());

// Adds g into t's gradient (in place for parameters and leaves that already have one).
void accumulate_grad(Context& ctx, const std::shared_ptr<TensorImpl>& t, const Tensor& g);

}  // namespace facet
