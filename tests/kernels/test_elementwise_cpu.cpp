// The CPU elementwise kernels' fast paths and thread pool (kernels/cpu/elementwise.cpp,
// optimizers.cpp). binary_forward takes a flat loop for same-layout, scalar and last-axis operands
// and an odometer walk otherwise: every pattern is compared with a naive index computation here.
// Work is cut into fixed-size chunks spread over OpenMP's threads, so results must be identical
// at one thread and at several: checked for the elementwise ops, the reduction and the optimizer
// (whose lr_dropout mask is drawn per element from Philox blocks that chunks may split).
#include <gtest/gtest.h>
#include <omp.h>

#include <functional>
#include <random>
#include <vector>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/optimizers.h"

using namespace facet;

namespace {

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Broadcast geometry of out = a op b for row-major shapes of equal rank (1 = broadcast axis).
BroadcastGeom geom(const std::vector<int64_t>& out, const std::vector<int64_t>& sa, const std::vector<int64_t>& sb) {
  BroadcastGeom g;
  g.rank = static_cast<int>(out.size());
  int64_t ea = 1, eb = 1;
  for (int d = g.rank - 1; d >= 0; --d) {
    g.shape[d] = out[d];
    g.stride_a[d] = sa[d] == 1 ? 0 : ea;
    g.stride_b[d] = sb[d] == 1 ? 0 : eb;
    ea *= sa[d];
    eb *= sb[d];
  }
  return g;
}

int64_t count(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (auto v : s) n *= v;
  return n;
}

// Runs fn at one thread and at four and returns both results.
template <typename Fn>
std::pair<std::vector<float>, std::vector<float>> at_one_and_four_threads(Fn&& fn) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  std::vector<float> one = fn();
  omp_set_num_threads(4);
  std::vector<float> four = fn();
  omp_set_num_threads(saved);
  return {one, four};
}

}  // namespace

TEST(ElementwiseCpu, BinaryBroadcastPatternsMatchNaiveIndexing) {
  struct Case {
    std::vector<int64_t> out, a, b;
  };
  const std::vector<Case> cases = {
      {{2, 300, 257}, {2, 300, 257}, {2, 300, 257}},  // same layout, several chunks
      {{2, 300, 257}, {2, 300, 257}, {1, 1, 1}},      // scalar b
      {{2, 300, 257}, {1, 1, 1}, {2, 300, 257}},      // scalar a
      {{4, 900, 96}, {4, 900, 96}, {1, 1, 96}},       // bias-like b along the last axis
      {{4, 900, 96}, {1, 1, 96}, {4, 900, 96}},       // bias-like a
      {{4, 900, 1}, {4, 900, 1}, {1, 1, 1}},          // size-1 last axis
      {{4, 90, 96}, {4, 90, 96}, {4, 1, 96}},         // middle-axis broadcast: general walk
      {{4, 90, 96}, {4, 90, 1}, {1, 1, 96}},          // outer product: general walk
      {{4, 90, 96}, {1, 1, 96}, {1, 1, 96}},          // both last-axis: general walk
  };
  const std::vector<BinaryOp> ops = {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div,
                                     BinaryOp::Max, BinaryOp::Min, BinaryOp::GreaterEq, BinaryOp::LessEq};
  for (const Case& c : cases) {
    const auto a = random_floats(count(c.a), 1), b = random_floats(count(c.b), 2);
    const BroadcastGeom g = geom(c.out, c.a, c.b);
    for (BinaryOp op : ops) {
      std::vector<float> y(count(c.out), -77.f);
      cpu::binary_forward<float>(op, a.data(), b.data(), y.data(), g);
      int64_t i = 0;
      for (int64_t d0 = 0; d0 < c.out[0]; ++d0)
        for (int64_t d1 = 0; d1 < c.out[1]; ++d1)
          for (int64_t d2 = 0; d2 < c.out[2]; ++d2, ++i) {
            const int64_t ia = ((c.a[0] == 1 ? 0 : d0) * c.a[1] + (c.a[1] == 1 ? 0 : d1)) * c.a[2] + (c.a[2] == 1 ? 0 : d2);
            const int64_t ib = ((c.b[0] == 1 ? 0 : d0) * c.b[1] + (c.b[1] == 1 ? 0 : d1)) * c.b[2] + (c.b[2] == 1 ? 0 : d2);
            ASSERT_EQ(y[i], binary_apply(op, a[ia], b[ib]))
                << "op " << static_cast<int>(op) << " at " << d0 << "," << d1 << "," << d2;
          }
    }
  }
}

TEST(ElementwiseCpu, ResultsDoNotDependOnTheThreadCount) {
  const int64_t n = 5 * 32 * 1024 + 13;  // several chunks and a ragged end
  const auto x = random_floats(n, 3), gy = random_floats(n, 4), bias = random_floats(96, 5);
  for (UnaryOp op : {UnaryOp::LeakyRelu, UnaryOp::Sigmoid, UnaryOp::Exp}) {
    auto [one, four] = at_one_and_four_threads([&] {
      std::vector<float> y(n), gx(n);
      cpu::unary_forward<float>(op, x.data(), y.data(), n, 0.1f);
      cpu::unary_backward<float>(op, x.data(), y.data(), gy.data(), gx.data(), n, 0.1f);
      y.insert(y.end(), gx.begin(), gx.end());
      return y;
    });
    EXPECT_EQ(one, four) << "unary op " << static_cast<int>(op);
  }
  const int64_t rows = 1700;  // [rows, 96] fits in x
  auto [one, four] = at_one_and_four_threads([&] {
    std::vector<float> y(rows * 96), acc(x.begin(), x.begin() + rows * 96);
    cpu::binary_forward<float>(BinaryOp::Add, x.data(), bias.data(), y.data(), geom({rows, 96}, {rows, 96}, {1, 96}));
    cpu::axpy<float>(0.5f, gy.data(), acc.data(), rows * 96);
    ReduceGeom rg;  // column sums of a [rows, 96] matrix
    rg.kept_rank = 1;
    rg.kept_size[0] = 96;
    rg.kept_stride[0] = 1;
    rg.reduced_rank = 1;
    rg.reduced_size[0] = rows;
    rg.reduced_stride[0] = 96;
    rg.out_count = 96;
    rg.reduce_count = rows;
    std::vector<float> sums(96);
    cpu::reduce_sum<float>(x.data(), sums.data(), rg, 1.f);
    y.insert(y.end(), acc.begin(), acc.end());
    y.insert(y.end(), sums.begin(), sums.end());
    return y;
  });
  ASSERT_EQ(one.size(), four.size());
  for (size_t i = 0; i < one.size(); ++i) ASSERT_EQ(one[i], four[i]) << "element " << i << " of " << one.size();
}

TEST(ElementwiseCpu, OptimizerStepDoesNotDependOnTheThreadCount) {
  const int64_t n = 3 * 32 * 1024 + 7;
  const auto g = random_floats(n, 6), w0 = random_floats(n, 7);
  OptimHyper h;
  h.lr = 1e-3f;
  h.keep_prob = 0.7f;  // lr_dropout: the mask is drawn per element
  h.seed = 1234;
  h.offset = 5;  // a chunk boundary falls inside a Philox block
  h.frozen_begin = 100;
  h.frozen_end = 200;
  auto [one, four] = at_one_and_four_threads([&] {
    std::vector<float> w = w0, m(n, 0.01f), v(n, 0.02f);
    cpu::adabelief_step<float>(w.data(), g.data(), m.data(), v.data(), n, h, 1.f);
    cpu::adam_step<float>(w.data(), g.data(), m.data(), v.data(), n, h, 1.f);
    w.insert(w.end(), m.begin(), m.end());
    w.insert(w.end(), v.begin(), v.end());
    return w;
  });
  EXPECT_EQ(one, four);
  const auto [norm_one, norm_four] = at_one_and_four_threads([&] {
    return std::vector<float>{static_cast<float>(cpu::sum_squares<float>(g.data(), n))};
  });
  EXPECT_EQ(norm_one, norm_four);
  std::vector<float> mask(n);
  cpu::lr_dropout_mask<float>(mask.data(), n, h.keep_prob, h.seed, h.offset);
  std::vector<float> w = w0, m(n, 0.f), v(n, 0.f);
  h.frozen_begin = h.frozen_end = 0;
  cpu::adabelief_step<float>(w.data(), g.data(), m.data(), v.data(), n, h, 1.f);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(w[i] != w0[i], mask[i] == 1.f) << "element " << i;
}

// The BLAS the CPU backend calls must run on the same OpenMP pool (libopenblas-openmp-dev): a
// second pool of OpenBLAS pthreads would spin against ours. (The pipeline's tests check the same
// in a process that also loads OpenCV, which brings Debian's default BLAS.)
TEST(ElementwiseCpu, BlasRunsOnTheOpenMpPool) { EXPECT_STREQ(cpu::blas_thread_pool(), "openmp"); }
