// The elementwise operation codes and the broadcast / reduction geometry shared by the CPU and
// CUDA elementwise kernels. Formulas live in one place (unary_apply / unary_grad below), compiled
// for host and device, so the two backends cannot drift apart.
#pragma once
#include <math.h>

#include <cmath>
#include <cstdint>

#include "kernels/common/philox.h"  // FACET_HD

namespace facet {

enum class UnaryOp : int {
  Relu, LeakyRelu, Sigmoid, Tanh, Neg, Square, Sqrt, Rsqrt, Exp, Log, Abs,
  AddScalar, MulScalar, PowScalar, RsubScalar, RdivScalar, ClampMin, ClampMax
};
enum class BinaryOp : int { Add, Sub, Mul, Div, Max, Min, GreaterEq, LessEq };  // GreaterEq/LessEq give 1 or 0

constexpr int kMaxRank = 8;

// out[i] = a[ia(i)] op b[ib(i)], numpy broadcasting; strides are in elements, 0 on broadcast axes.
struct BroadcastGeom {
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t stride_a[kMaxRank] = {};
  int64_t stride_b[kMaxRank] = {};
};

// Sums the input over `reduced` axes. Output element o has kept coordinates (row-major over
// kept_size); its inputs are base(o) + offsets over reduced_size.
struct ReduceGeom {
  int kept_rank = 0, reduced_rank = 0;
  int64_t kept_size[kMaxRank] = {}, kept_stride[kMaxRank] = {};
  int64_t reduced_size[kMaxRank] = {}, reduced_stride[kMaxRank] = {};
  int64_t out_count = 1, reduce_count = 1;
};

template <typename T>
FACET_HD T unary_apply(UnaryOp op, T x, T a) {
  switch (op) {
    case UnaryOp::Relu: return x > T(0) ? x : T(0);
    case UnaryOp::LeakyRelu: return x > T(0) ? x : x * a;
    case UnaryOp::Sigmoid: return T(1) / (T(1) + ::exp(-x));
    case UnaryOp::Tanh: return ::tanh(x);
    case UnaryOp::Neg: return -x;
    case UnaryOp::Square: return x * x;
    case UnaryOp::Sqrt: return ::sqrt(x);
    case UnaryOp::Rsqrt: return T(1) / ::sqrt(x);
    case UnaryOp::Exp: return ::exp(x);
    case UnaryOp::Log: return ::log(x);
    case UnaryOp::Abs: return x < T(0) ? -x : x;
    case UnaryOp::AddScalar: return x + a;
    case UnaryOp::MulScalar: return x * a;
    case UnaryOp::PowScalar: return ::pow(x, a);
    case UnaryOp::RsubScalar: return a - x;
    case UnaryOp::RdivScalar: return a / x;
    case UnaryOp::ClampMin: return x < a ? a : x;
    case UnaryOp::ClampMax: return x > a ? a : x;
  }
  return x;
}

// d unary / dx, given the input x and the output y (whichever is cheaper).
template <typename T>
FACET_HD T unary_grad(UnaryOp op, T x, T y, T a) {
  switch (op) {
    case UnaryOp::Relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::LeakyRelu: return x > T(0) ? T(1) : a;
    case UnaryOp::Sigmoid: return y * (T(1) - y);
    case UnaryOp::Tanh: return T(1) - y * y;
    case UnaryOp::Neg: return T(-1);
    case UnaryOp::Square: return T(2) * x;
    case UnaryOp::Sqrt: return T(0.5) / y;
    case UnaryOp::Rsqrt: return T(-0.5) * y * y * y;
    case UnaryOp::Exp: return y;
    case UnaryOp::Log: return T(1) / x;
    case UnaryOp::Abs: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
    case UnaryOp::AddScalar: return T(1);
    case UnaryOp::MulScalar: return a;
    case UnaryOp::PowScalar: return a * ::pow(x, a - T(1));
    case UnaryOp::RsubScalar: return T(-1);
    case UnaryOp::RdivScalar: return -a / (x * x);
    case UnaryOp::ClampMin: return x < a ? T(0) : T(1);
    case UnaryOp::ClampMax: return x > a ? T(0) : T(1);
  }
  return T(0);
}

template <typename T>
FACET_HD T binary_apply(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Max: return a >= b ? a : b;
    case BinaryOp::Min: return a <= b ? a : b;
    case BinaryOp::GreaterEq: return a >= b ? T(1) : T(0);
    case BinaryOp::LessEq: return a <= b ? T(1) : T(0);
  }
  return a;
}

}  // namespace facet
