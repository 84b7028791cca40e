// Convolution throughput: CPU im2col + OpenBLAS conv (forward, backward-data, backward-filter) on
// the problem the conv speed target is set on, 64 -> 64 channels, 3x3, 64x64, batch 8, SAME,
// against OpenBLAS sgemm at 2048^3 timed in the same process. The speed target is
//     conv GFLOP/s (fwd + bwd-data + bwd-filter, total flops over total time) >= 0.5 x sgemm GFLOP/s
// and the ratio is printed after the run. cuDNN variants (f32 and bf16) run when a GPU is present
// and are reported as skipped otherwise.
//
// Before any timing the CPU kernels are checked against a naive double-precision direct
// convolution on a smaller slice of the same problem (one image, 12x12); a mismatch aborts.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "facet_config.h"
#include "kernels/common/dtype.h"  // DType names the cuDNN variants in every build
#include "kernels/cpu/conv2d.h"
#if FACET_HAS_CUDA
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/fill.h"
#include "kernels/cuda/runtime.h"
#endif

namespace {

using facet::cpu::Conv2dGeom;

Conv2dGeom reference_problem() { return facet::cpu::conv2d_geom_same(8, 64, 64, 64, 64, 3, 3, 1, 1); }
double conv_flops(const Conv2dGeom& g) { return 2.0 * g.out_pixels() * g.k * g.patch(); }

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

// ---- validation ---------------------------------------------------------------------------------

double max_rel_err(const std::vector<float>& got, const std::vector<double>& want) {
  double worst = 0, scale = 1e-30;
  for (double w : want) scale = std::max(scale, std::abs(w));
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
  return worst / scale;
}

void validate_or_abort() {
  const Conv2dGeom g = facet::cpu::conv2d_geom_same(1, 12, 12, 64, 64, 3, 3, 1, 1);
  auto x = random_floats(g.n * g.h * g.w * g.c, 1), w = random_floats(g.k * g.patch(), 2);
  auto b = random_floats(g.k, 3), dy = random_floats(g.out_pixels() * g.k, 4);
  std::vector<double> ry(dy.size(), 0.0), rdx(x.size(), 0.0), rdw(w.size(), 0.0);
  for (int64_t oy = 0; oy < g.oh; ++oy)
    for (int64_t ox = 0; ox < g.ow; ++ox)
      for (int64_t o = 0; o < g.k; ++o) {
        const int64_t yi = (oy * g.ow + ox) * g.k + o;
        double acc = b[o];
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t iy = oy - g.pad_top + i, ix = ox - g.pad_left + j;
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
            for (int64_t c = 0; c < g.c; ++c) {
              const int64_t xi = (iy * g.w + ix) * g.c + c, wi = ((o * g.kh + i) * g.kw + j) * g.c + c;
              acc += double(x[xi]) * w[wi];
              rdx[xi] += double(w[wi]) * dy[yi];
              rdw[wi] += double(x[xi]) * dy[yi];
            }
          }
        ry[yi] = acc;
      }
  std::vector<float> y(ry.size()), dx(x.size()), dw(w.size()), db(g.k);
  std::vector<float> ws(facet::cpu::conv2d_workspace_elems(g));
  facet::cpu::conv2d_forward<float>(g, x.data(), w.data(), b.data(), y.data(), ws.data());
  facet::cpu::conv2d_backward_data<float>(g, dy.data(), w.data(), dx.data(), ws.data());
  facet::cpu::conv2d_backward_filter<float>(g, x.data(), dy.data(), dw.data(), db.data(), ws.data());
  const double e[3] = {max_rel_err(y, ry), max_rel_err(dx, rdx), max_rel_err(dw, rdw)};
  const char* names[3] = {"forward", "backward-data", "backward-filter"};
  for (int i = 0; i < 3; ++i) {
    if (!(e[i] < 1e-4)) {
      std::fprintf(stderr, "bench_conv2d: CPU conv %s disagrees with the naive reference (rel err %g)\n", names[i],
                   e[i]);
      std::abort();
    }
  }
  std::printf("validated CPU conv against naive reference: rel err fwd %.1e, bwd-data %.1e, bwd-filter %.1e\n", e[0],
              e[1], e[2]);
}

// ---- CPU ----------------------------------------------------------------------------------------

struct CpuProblem {
  Conv2dGeom g = reference_problem();
  std::vector<float> x = random_floats(g.n * g.h * g.w * g.c, 1), w = random_floats(g.k * g.patch(), 2),
                     b = random_floats(g.k, 3), dy = random_floats(g.out_pixels() * g.k, 4);
  std::vector<float> y = std::vector<float>(dy.size()), dx = std::vector<float>(x.size()),
                     dw = std::vector<float>(w.size()), db = std::vector<float>(g.k),
                     ws = std::vector<float>(facet::cpu::conv2d_workspace_elems(g));
};

CpuProblem& cpu_problem() {
  static CpuProblem p;  // built once, outside any timed region
  return p;
}

void set_gflops(benchmark::State& state, double flops_per_iter) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_cpu_conv_fwd(benchmark::State& state) {
  auto& p = cpu_problem();
  for (auto _ : state) facet::cpu::conv2d_forward<float>(p.g, p.x.data(), p.w.data(), p.b.data(), p.y.data(), p.ws.data());
  set_gflops(state, conv_flops(p.g));
}
void BM_cpu_conv_bwd_data(benchmark::State& state) {
  auto& p = cpu_problem();
  for (auto _ : state) facet::cpu::conv2d_backward_data<float>(p.g, p.dy.data(), p.w.data(), p.dx.data(), p.ws.data());
  set_gflops(state, conv_flops(p.g));
}
void BM_cpu_conv_bwd_filter(benchmark::State& state) {
  auto& p = cpu_problem();
  for (auto _ : state)
    facet::cpu::conv2d_backward_filter<float>(p.g, p.x.data(), p.dy.data(), p.dw.data(), p.db.data(), p.ws.data());
  set_gflops(state, conv_flops(p.g));
}
struct Sgemm2048 {
  static constexpr int n = 2048;
  std::vector<float> a = random_floats(size_t(n) * n, 5), b = random_floats(size_t(n) * n, 6),
                     c = std::vector<float>(size_t(n) * n);
  void run() {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n);
  }
  static double flops() { return 2.0 * n * n * n; }
};
Sgemm2048& sgemm_problem() {
  static Sgemm2048 p;
  return p;
}

void BM_cpu_sgemm_2048(benchmark::State& state) {
  auto& s = sgemm_problem();
  for (auto _ : state) s.run();
  set_gflops(state, Sgemm2048::flops());
}

// The target itself, measured in pairs: each iteration times one sgemm and then one conv
// forward + backward-data + backward-filter, so both sides of the ratio see the same load from
// whatever else shares the machine. "ratio" = (conv flops / conv time) / (sgemm flops / sgemm
// time) over all iterations; "ratio_median" is the median of the per-iteration ratios.
void BM_cpu_conv_vs_sgemm(benchmark::State& state) {
  auto& p = cpu_problem();
  auto& s = sgemm_problem();
  using clock = std::chrono::steady_clock;
  double ts = 0, tc = 0;
  std::vector<double> ratios;
  for (auto _ : state) {
    const auto t0 = clock::now();
    s.run();
    const auto t1 = clock::now();
    facet::cpu::conv2d_forward<float>(p.g, p.x.data(), p.w.data(), p.b.data(), p.y.data(), p.ws.data());
    facet::cpu::conv2d_backward_data<float>(p.g, p.dy.data(), p.w.data(), p.dx.data(), p.ws.data());
    facet::cpu::conv2d_backward_filter<float>(p.g, p.x.data(), p.dy.data(), p.dw.data(), p.db.data(), p.ws.data());
    const auto t2 = clock::now();
    const double ds = std::chrono::duration<double>(t1 - t0).count(), dc = std::chrono::duration<double>(t2 - t1).count();
    ts += ds;
    tc += dc;
    ratios.push_back((3 * conv_flops(p.g) / dc) / (Sgemm2048::flops() / ds));
  }
  std::sort(ratios.begin(), ratios.end());
  state.counters["ratio"] = (3 * conv_flops(p.g) / tc) / (Sgemm2048::flops() / ts);
  state.counters["ratio_median"] = ratios.empty() ? 0.0 : ratios[ratios.size() / 2];
}
BENCHMARK(BM_cpu_conv_vs_sgemm)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(20);

// Real time: OpenBLAS runs its own threads, so CPU time would double-count. Repetitions run
// interleaved in random order (see main), so a burst of load from other processes on a shared
// machine hits sgemm and conv alike; the ratio is computed from each benchmark's best repetition.
#define FACET_CPU_BENCH(fn) BENCHMARK(fn)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5)->Repetitions(5)
FACET_CPU_BENCH(BM_cpu_sgemm_2048);
FACET_CPU_BENCH(BM_cpu_conv_fwd);
FACET_CPU_BENCH(BM_cpu_conv_bwd_data);
FACET_CPU_BENCH(BM_cpu_conv_bwd_filter);

// ---- CUDA (cuDNN) -------------------------------------------------------------------------------

enum class Dir { Fwd, BwdData, BwdFilter };

void BM_cudnn_conv(benchmark::State& state, Dir dir, facet::DType dt) {
#if FACET_HAS_CUDA
  namespace cu = facet::cuda;
  if (cu::device_count() == 0) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const Conv2dGeom g = reference_problem();
  cu::Handles h = cu::create_handles(0);
  cu::ConvAlgoCache cache;
  const cu::ConvConfig cfg{false, &cache};
  const size_t es = facet::dtype_size(dt);
  const int64_t nx = g.n * g.h * g.w * g.c, nw = g.k * g.patch(), ny = g.out_pixels() * g.k;
  void* x = cu::device_malloc(nx * es);
  void* w = cu::device_malloc(nw * es);
  void* b = cu::device_malloc(g.k * es);
  void* y = cu::device_malloc(ny * es);
  void* dx = cu::device_malloc(nx * es);
  void* dw = cu::device_malloc(nw * es);
  cu::fill_uniform(dt, x, nx, -1, 1, 1, 0, h.stream);
  cu::fill_uniform(dt, w, nw, -0.1, 0.1, 2, 0, h.stream);
  cu::fill_uniform(dt, b, g.k, -1, 1, 3, 0, h.stream);
  cu::fill_uniform(dt, y, ny, -1, 1, 4, 0, h.stream);
  const size_t ws_bytes = cu::conv2d_workspace_bytes(h, dt, g, cfg);
  void* ws = ws_bytes ? cu::device_malloc(ws_bytes) : nullptr;
  auto run = [&] {
    switch (dir) {
      case Dir::Fwd: cu::conv2d_forward(h, dt, g, x, w, b, y, ws, ws_bytes, cfg); break;
      case Dir::BwdData: cu::conv2d_backward_data(h, dt, g, y, w, dx, ws, ws_bytes, cfg); break;
      case Dir::BwdFilter: cu::conv2d_backward_filter(h, dt, g, x, y, dw, nullptr, ws, ws_bytes, cfg); break;
    }
  };
  run();  // warm-up: plan, cuDNN kernel loading
  cu::stream_synchronize(h.stream);
  constexpr int kBatch = 20;  // launches per timed iteration, so one sync is amortised
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kBatch; ++i) run();
    cu::stream_synchronize(h.stream);
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  set_gflops(state, kBatch * conv_flops(g));
  for (void* p : {x, w, b, y, dx, dw, ws})
    if (p) cu::device_free(p);
  cu::destroy_handles(h);
#else
  (void)dir, (void)dt;
  state.SkipWithError("built without the CUDA backend");
#endif
}
BENCHMARK_CAPTURE(BM_cudnn_conv, fwd_f32, Dir::Fwd, facet::DType::F32)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_cudnn_conv, bwd_data_f32, Dir::BwdData, facet::DType::F32)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_cudnn_conv, bwd_filter_f32, Dir::BwdFilter, facet::DType::F32)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_cudnn_conv, fwd_bf16, Dir::Fwd, facet::DType::BF16)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_cudnn_conv, bwd_data_bf16, Dir::BwdData, facet::DType::BF16)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_cudnn_conv, bwd_filter_bf16, Dir::BwdFilter, facet::DType::BF16)->UseManualTime()->Unit(benchmark::kMicrosecond);

// Shows each benchmark's median (a single run as it is, and errors) on the console, and keeps the best and the median
// GFLOP/s of every benchmark for the ratio printed at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> best, median;
  double paired_ratio = 0, paired_ratio_median = 0;
  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> shown;
    for (const Run& r : runs) {
      const std::string name = r.run_name.function_name;
      auto it = r.counters.find("GFLOP/s");
      if (r.counters.count("ratio")) {
        paired_ratio = r.counters.at("ratio").value;
        paired_ratio_median = r.counters.at("ratio_median").value;
        shown.push_back(r);
      } else if (r.error_occurred) {
        shown.push_back(r);
      } else if (r.run_type == Run::RT_Iteration && it != r.counters.end()) {
        best[name] = std::max(best[name], it->second.value);
        if (r.repetitions <= 1) shown.push_back(r);  // a single run (the cuDNN rows) has no median to show
      } else if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") {
        if (it != r.counters.end()) median[name] = it->second.value;
        shown.push_back(r);
      }
    }
    if (!shown.empty()) ConsoleReporter::ReportRuns(shown);
  }
};

}  // namespace

int main(int argc, char** argv) {
  validate_or_abort();
  std::printf("OpenBLAS threads: %d\n", openblas_get_num_threads());
  // Interleave repetitions unless the command line says otherwise (later flags win).
  std::vector<char*> args(argv, argv + argc);
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  args.insert(args.begin() + 1, interleave);
  int nargs = static_cast<int>(args.size());
  benchmark::Initialize(&nargs, args.data());
  if (benchmark::ReportUnrecognizedArguments(nargs, args.data())) return 1;
  RatioReporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  auto ratio = [](std::map<std::string, double>& m, const char* what) {
    const double sgemm = m["BM_cpu_sgemm_2048"], fwd = m["BM_cpu_conv_fwd"], bd = m["BM_cpu_conv_bwd_data"],
                 bf = m["BM_cpu_conv_bwd_filter"];
    if (!(sgemm > 0 && fwd > 0 && bd > 0 && bf > 0)) return;
    // equal flops per direction: combined rate = total flops / total time = harmonic mean
    const double conv = 3.0 / (1.0 / fwd + 1.0 / bd + 1.0 / bf);
    std::printf("%-6s CPU conv fwd %.1f, bwd-data %.1f, bwd-filter %.1f -> fwd+bwd %.1f GFLOP/s; sgemm 2048^3 %.1f "
                "GFLOP/s; ratio %.2f (target >= 0.50): %s\n",
                what, fwd, bd, bf, conv, sgemm, conv / sgemm, conv / sgemm >= 0.5 ? "PASS" : "BELOW TARGET");
  };
  std::printf("\n");
  ratio(rep.best, "best");
  ratio(rep.median, "median");
  if (rep.paired_ratio > 0)
    std::printf("paired (sgemm and conv timed back to back, 20 pairs): ratio %.2f, median of pairs %.2f "
                "(target >= 0.50): %s\n",
                rep.paired_ratio, rep.paired_ratio_median, rep.paired_ratio >= 0.5 ? "PASS" : "BELOW TARGET");
  benchmark::Shutdown();
  return 0;
}
