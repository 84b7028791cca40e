#include "support/op_case.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>

namespace facet::test {

std::vector<OpCase>& op_cases() {
  static std::vector<OpCase> cases;
  return cases;
}

RegisterOpCases::RegisterOpCases(std::vector<OpCase> cases) {
  for (auto& c : cases) op_cases().push_back(std::move(c));
}

namespace {
uint32_t seed_of(const std::string& s, size_t salt) {
  return static_cast<uint32_t>(std::hash<std::string>{}(s) ^ (salt * 0x9E3779B97F4A7C15ull));
}
}  // namespace

std::vector<Tensor> make_inputs(Context& ctx, const OpCase& c, DType dt, Device dev) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const InputSpec& s = c.inputs[i];
    std::mt19937_64 rng(seed_of(c.name, i + 1));
    std::uniform_real_distribution<double> u(0.0, 1.0);
    size_t n = static_cast<size_t>(numel(s.shape));
    std::vector<double> v(n);
    switch (s.kind) {
      case InputSpec::Kind::Uniform:
        for (auto& x : v) x = s.lo + (s.hi - s.lo) * u(rng);
        break;
      case InputSpec::Kind::AwayFromZero:
        for (auto& x : v) x = (u(rng) < 0.5 ? -1.0 : 1.0) * (s.lo + (s.hi - s.lo) * u(rng));
        break;
      case InputSpec::Kind::Distinct: {
        std::vector<size_t> perm(n);
        std::iota(perm.begin(), perm.end(), size_t{0});
        std::shuffle(perm.begin(), perm.end(), rng);
        for (size_t k = 0; k < n; ++k) v[k] = s.lo + (s.hi - s.lo) * static_cast<double>(perm[k]) / std::max<double>(1.0, n - 1.0);
        break;
      }
    }
    Tensor t = Tensor::from_vector(ctx, s.shape, v, dt, dev);
    t.set_requires_grad(s.requires_grad);
    t.set_name("input" + std::to_string(i));
    out.push_back(t);
  }
  return out;
}

Tensor projection_for(Context& ctx, const OpCase& c, const Tensor& out) {
  std::mt19937_64 rng(seed_of(c.name, 0));
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> r(static_cast<size_t>(out.numel()));
  for (auto& x : r) x = u(rng);
  return Tensor::from_vector(ctx, out.shape(), r, out.dtype(), out.device());
}

double rel_max_error(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 1e-12;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
    num = std::max(num, std::fabs(a[i] - b[i]));
    den = std::max(den, std::fabs(b[i]));
  }
  return a.size() == b.size() ? num / den : INFINITY;
}

}  // namespace facet::test
