// DSSIM forward + backward (SAEHD's main image loss) at DFL's default training shape: B=8,
// 128x128x3, filter 11. Before timing, each backend is checked once against a straightforward
// double reference (non-separable 2-D window, direct gradient scatter) on a small input.
// Counter GB/s: bytes of the two images read and the two gradients written per iteration
// (the floor of what any implementation must move; the separable passes move more).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "facet_config.h"
#include "kernels/cpu/blur.h"
#include "kernels/cpu/losses.h"
#if FACET_HAS_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/losses.h"
#include "kernels/cuda/runtime.h"
#endif

namespace {

constexpr int kN = 8, kH = 128, kW = 128, kC = 3, kFs = 11;
// Validation shape: small, odd sizes, an even window.
constexpr int vN = 2, vH = 19, vW = 21, vC = 3, vFs = 8;

std::vector<double> randv(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Reference loss [N] and gradients (seed g) the direct way, in double.
void reference(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& g, int N, int H,
               int W, int C, int fs, std::vector<double>& loss, std::vector<double>& ga, std::vector<double>& gb) {
  std::vector<double> w(fs * fs);
  double sum = 0;
  for (int i = 0; i < fs; ++i)
    for (int j = 0; j < fs; ++j) {
      double di = i - (fs - 1) / 2.0, dj = j - (fs - 1) / 2.0;
      sum += (w[i * fs + j] = std::exp(-0.5 * (di * di + dj * dj) / (1.5 * 1.5)));
    }
  for (auto& x : w) x /= sum;
  const double c1 = 1e-4, c2 = 9e-4;
  const int Ho = H - fs + 1, Wo = W - fs + 1, P = Ho * Wo;
  loss.assign(N, 0.0);
  ga.assign(a.size(), 0.0);
  gb.assign(a.size(), 0.0);
  auto at = [&](int n, int h, int x, int c) { return ((static_cast<size_t>(n) * H + h) * W + x) * C + c; };
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      double acc = 0, gs = -g[n] / (2.0 * C * P);
      for (int ho = 0; ho < Ho; ++ho)
        for (int wo = 0; wo < Wo; ++wo) {
          double mx = 0, my = 0, mxy = 0, mq = 0;
          for (int i = 0; i < fs; ++i)
            for (int j = 0; j < fs; ++j) {
              size_t k = at(n, ho + i, wo + j, c);
              double t = w[i * fs + j];
              mx += t * a[k], my += t * b[k], mxy += t * a[k] * b[k], mq += t * (a[k] * a[k] + b[k] * b[k]);
            }
          double B1 = mx * mx + my * my + c1, B2 = mq - mx * mx - my * my + c2;
          double l = (2 * mx * my + c1) / B1, cs = (2 * mxy - 2 * mx * my + c2) / B2;
          acc += l * cs;
          double gx = gs * 2 * ((my - l * mx) / B1 * cs + l * (cs * mx - my) / B2);
          double gy = gs * 2 * ((mx - l * my) / B1 * cs + l * (cs * my - mx) / B2);
          double gxy = gs * 2 * l / B2, gq = -gs * l * cs / B2;
          for (int i = 0; i < fs; ++i)
            for (int j = 0; j < fs; ++j) {
              size_t k = at(n, ho + i, wo + j, c);
              double t = w[i * fs + j];
              ga[k] += t * (gx + 2 * a[k] * gq + b[k] * gxy);
              gb[k] += t * (gy + 2 * b[k] * gq + a[k] * gxy);
            }
        }
      loss[n] += (1 - acc / P) / 2 / C;
    }
}

double rel_err(const std::vector<double>& got, const std::vector<double>& want) {
  double num = 0, den = 1e-30;
  for (size_t i = 0; i < got.size(); ++i) {
    num = std::max(num, std::fabs(got[i] - want[i]));
    den = std::max(den, std::fabs(want[i]));
  }
  return num / den;
}

struct Validation {
  std::vector<double> a, b, g, loss, ga, gb;
  Validation() : a(randv(vN * vH * vW * vC, 1)), b(randv(a.size(), 2)), g{0.8, -1.1} {
    for (size_t i = 0; i < a.size(); ++i) b[i] = 0.6 * a[i] + 0.4 * b[i];  // correlated, like training
    reference(a, b, g, vN, vH, vW, vC, vFs, loss, ga, gb);
  }
  // Empty when the three results agree with the reference within tol.
  std::string check(const std::vector<double>& l, const std::vector<double>& da, const std::vector<double>& db,
                    double tol) const {
    double e[3] = {rel_err(l, loss), rel_err(da, ga), rel_err(db, gb)};
    const char* what[3] = {"loss", "grad a", "grad b"};
    for (int i = 0; i < 3; ++i)
      if (!(e[i] <= tol)) return std::string("validation failed: ") + what[i] + " rel err " + std::to_string(e[i]);
    return {};
  }
};

const Validation& validation() {
  static const Validation v;
  return v;
}

void set_counters(benchmark::State& state, size_t elem_bytes) {
  const double bytes = 4.0 * kN * kH * kW * kC * static_cast<double>(elem_bytes);
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_DssimCpuF32(benchmark::State& state) {
  {
    const Validation& v = validation();
    std::vector<float> a(v.a.begin(), v.a.end()), b(v.b.begin(), v.b.end()), g(v.g.begin(), v.g.end());
    std::vector<float> l(vN), ga(a.size()), gb(a.size());
    facet::cpu::dssim_forward(a.data(), b.data(), vN, vH, vW, vC, vFs, 1.5, static_cast<float*>(nullptr), l.data());
    facet::cpu::dssim_backward(a.data(), b.data(), vN, vH, vW, vC, vFs, 1.5, g.data(), ga.data(), gb.data());
    std::string err = v.check({l.begin(), l.end()}, {ga.begin(), ga.end()}, {gb.begin(), gb.end()}, 1e-4);
    if (!err.empty()) {
      state.SkipWithError(err.c_str());
      return;
    }
  }
  const size_t n = static_cast<size_t>(kN) * kH * kW * kC;
  auto av = randv(n, 3), bv = randv(n, 4);
  std::vector<float> a(av.begin(), av.end()), b(bv.begin(), bv.end()), loss(kN), g(kN, 1.f), ga(n), gb(n);
  for (auto _ : state) {
    facet::cpu::dssim_forward(a.data(), b.data(), kN, kH, kW, kC, kFs, 1.5, static_cast<float*>(nullptr), loss.data());
    facet::cpu::dssim_backward(a.data(), b.data(), kN, kH, kW, kC, kFs, 1.5, g.data(), ga.data(), gb.data());
    benchmark::DoNotOptimize(ga.data());
    benchmark::DoNotOptimize(gb.data());
  }
  set_counters(state, sizeof(float));
}
BENCHMARK(BM_DssimCpuF32)->Unit(benchmark::kMillisecond);

#if FACET_HAS_CUDA
// Runs forward + backward on the device for host inputs (f32 or bf16 storage); returns results.
struct GpuDssim {
  facet::DType dt;
  int N, H, W, C, fs;
  size_t n, es;
  void *a = nullptr, *b = nullptr, *g = nullptr, *loss = nullptr, *ga = nullptr, *gb = nullptr, *ws = nullptr;
  void* stream = nullptr;

  GpuDssim(facet::DType dt_, int N_, int H_, int W_, int C_, int fs_) : dt(dt_), N(N_), H(H_), W(W_), C(C_), fs(fs_) {
    n = static_cast<size_t>(N) * H * W * C;
    es = facet::dtype_size(dt);
    for (void** p : {&a, &b, &ga, &gb}) *p = facet::cuda::device_malloc(n * es);
    g = facet::cuda::device_malloc(N * es);
    loss = facet::cuda::device_malloc(N * es);
    ws = facet::cuda::device_malloc(facet::cuda::dssim_workspace_bytes(N, H, W, C, fs));
  }
  ~GpuDssim() {
    for (void* p : {a, b, g, loss, ga, gb, ws}) facet::cuda::device_free(p);
  }
  void upload(void* dst, const std::vector<double>& v) {
    std::vector<unsigned char> host(v.size() * es);
    for (size_t i = 0; i < v.size(); ++i) {
      if (dt == facet::DType::F32) {
        float f = static_cast<float>(v[i]);
        std::memcpy(&host[i * 4], &f, 4);
      } else {
        uint16_t h = facet::f32_to_bf16_bits(static_cast<float>(v[i]));
        std::memcpy(&host[i * 2], &h, 2);
      }
    }
    facet::cuda::memcpy_h2d(dst, host.data(), host.size(), stream);
  }
  std::vector<double> download(const void* src, size_t count) {
    std::vector<unsigned char> host(count * es);
    facet::cuda::memcpy_d2h(host.data(), src, host.size(), stream);
    std::vector<double> v(count);
    for (size_t i = 0; i < count; ++i) {
      if (dt == facet::DType::F32) {
        float f;
        std::memcpy(&f, &host[i * 4], 4);
        v[i] = f;
      } else {
        uint16_t h;
        std::memcpy(&h, &host[i * 2], 2);
        v[i] = facet::bf16_bits_to_f32(h);
      }
    }
    return v;
  }
  void run() {
    facet::cuda::dssim_forward(dt, a, b, N, H, W, C, fs, 1.5, nullptr, loss, ws, stream);
    facet::cuda::dssim_backward(dt, a, b, N, H, W, C, fs, 1.5, g, ga, gb, ws, stream);
  }
};

void BM_DssimCuda(benchmark::State& state, facet::DType dt) {
  if (facet::cuda::device_count() == 0) {
    state.SkipWithError("no CUDA device");
    return;
  }
  {
    const Validation& v = validation();
    GpuDssim d(facet::DType::F32, vN, vH, vW, vC, vFs);
    d.upload(d.a, v.a);
    d.upload(d.b, v.b);
    d.upload(d.g, v.g);
    d.run();
    std::string err = v.check(d.download(d.loss, vN), d.download(d.ga, d.n), d.download(d.gb, d.n), 1e-4);
    if (!err.empty()) {
      state.SkipWithError(err.c_str());
      return;
    }
  }
  GpuDssim d(dt, kN, kH, kW, kC, kFs);
  d.upload(d.a, randv(d.n, 3));
  d.upload(d.b, randv(d.n, 4));
  d.upload(d.g, std::vector<double>(kN, 1.0));
  cudaEvent_t t0, t1;
  cudaEventCreate(&t0);
  cudaEventCreate(&t1);
  d.run();  // warm-up
  for (auto _ : state) {
    cudaEventRecord(t0, static_cast<cudaStream_t>(d.stream));
    d.run();
    cudaEventRecord(t1, static_cast<cudaStream_t>(d.stream));
    cudaEventSynchronize(t1);
    float ms = 0;
    cudaEventElapsedTime(&ms, t0, t1);
    state.SetIterationTime(ms / 1e3);
  }
  cudaEventDestroy(t0);
  cudaEventDestroy(t1);
  set_counters(state, d.es);
}
BENCHMARK_CAPTURE(BM_DssimCuda, f32, facet::DType::F32)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DssimCuda, bf16, facet::DType::BF16)->UseManualTime()->Unit(benchmark::kMicrosecond);
#endif

}  // namespace

BENCHMARK_MAIN();
