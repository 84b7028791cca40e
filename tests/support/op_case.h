// The shared op case table (ggml's test-backend-ops idea): each case names an op, the shapes and
// value ranges of its inputs, and a function that applies the op. Every registered case is run
//   - as a double-precision central-difference gradient check on a random-projection loss,
//   - as a float-vs-double agreement check (forward and gradients),
//   - as a GPU-vs-CPU parity check (forward and gradients; skipped without a CUDA device).
// Adding an op costs one FACET_OP_CASES block in tests/engine/cases_<family>.cpp.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet::test {

struct InputSpec {
  enum class Kind {
    Uniform,   // uniform in [lo, hi)
    AwayFromZero,  // |x| uniform in [lo, hi) with a random sign (keeps ReLU-like kinks away)
    Distinct,  // a shuffled ramp over [lo, hi]: no ties (max-pool, maximum)
  };
  Shape shape;
  double lo = -1.0, hi = 1.0;
  Kind kind = Kind::Uniform;
  bool requires_grad = true;
};

inline InputSpec in(Shape s, double lo = -1.0, double hi = 1.0) { return {std::move(s), lo, hi, InputSpec::Kind::Uniform, true}; }
inline InputSpec in_away0(Shape s, double lo = 0.1, double hi = 1.0) { return {std::move(s), lo, hi, InputSpec::Kind::AwayFromZero, true}; }
inline InputSpec in_distinct(Shape s, double lo = -1.0, double hi = 1.0) { return {std::move(s), lo, hi, InputSpec::Kind::Distinct, true}; }
inline InputSpec in_const(Shape s, double lo = 0.0, double hi = 1.0) { return {std::move(s), lo, hi, InputSpec::Kind::Uniform, false}; }

using OpFn = std::function<Tensor(Context&, const std::vector<Tensor>&)>;

struct OpCase {
  std::string name;  // "family/op/variant": letters, digits and _ / only
  std::vector<InputSpec> inputs;
  OpFn fn;
  double grad_tol = 1e-5;    // relative tolerance of the double gradient check
  double float_tol = 1e-4;   // max |f32 - f64| / max |f64|, outputs and gradients
  double gpu_tol = 1e-4;     // max |gpu - cpu| / max |cpu| in f32
  bool has_gpu = true;       // the op has a CUDA path (false only with a reason in the case file)
  int max_grad_checks = 300; // elements per input checked numerically (spread evenly)
};

std::vector<OpCase>& op_cases();

struct RegisterOpCases {
  explicit RegisterOpCases(std::vector<OpCase> cases);
};

// Makes the inputs of a case in the given dtype and device (same values for every dtype/device).
std::vector<Tensor> make_inputs(Context& ctx, const OpCase& c, DType dt, Device dev);
// The fixed random projection used as the seed gradient for a case's output.
Tensor projection_for(Context& ctx, const OpCase& c, const Tensor& out);
// max |a - b| / max(|b|, tiny)
double rel_max_error(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace facet::test

#define FACET_OP_CASES_CAT2(a, b) a##b
#define FACET_OP_CASES_CAT(a, b) FACET_OP_CASES_CAT2(a, b)
// FACET_OP_CASES({ OpCase{...}, OpCase{...} });
#define FACET_OP_CASES(...) \
  static ::facet::test::RegisterOpCases FACET_OP_CASES_CAT(facet_op_cases_, __LINE__)(std::vector<::facet::test::OpCase> __VA_ARGS__)
