// cblas_sgemm interposed: this executable defines the symbol and exports it (ENABLE_EXPORTS), so
// the dynamic linker binds libfacet_kernels.so's calls to it; it records the call's shape while a
// GemmRecorder is alive and forwards to the next definition in lookup order (OpenBLAS's).
#include "batch/gemm_recorder.h"

#include <cblas.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace facet::test {
namespace {

std::mutex g_mutex;
bool g_recording = false;
std::set<GemmShape> g_shapes;
int64_t g_calls = 0;

using SgemmFn = void (*)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, blasint, blasint, blasint,
                         float, const float*, blasint, const float*, blasint, float, float*, blasint);

SgemmFn next_sgemm() {
  static const SgemmFn fn = [] {
    auto f = reinterpret_cast<SgemmFn>(dlsym(RTLD_NEXT, "cblas_sgemm"));
    if (!f) {
      std::fprintf(stderr, "gemm_recorder: no cblas_sgemm after this executable's: %s\n", dlerror());
      std::abort();
    }
    return f;
  }();
  return fn;
}

}  // namespace

GemmRecorder::GemmRecorder() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_recording = true;
  g_shapes.clear();
  g_calls = 0;
}
GemmRecorder::~GemmRecorder() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_recording = false;
}
std::set<GemmShape> GemmRecorder::shapes() const {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_shapes;
}
int64_t GemmRecorder::calls() const {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_calls;
}

}  // namespace facet::test

extern "C" void cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER order, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                            OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint m,
                            OPENBLAS_CONST blasint n, OPENBLAS_CONST blasint k, OPENBLAS_CONST float alpha,
                            OPENBLAS_CONST float* a, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float* b,
                            OPENBLAS_CONST blasint ldb, OPENBLAS_CONST float beta, float* c,
                            OPENBLAS_CONST blasint ldc) {
  using namespace facet::test;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_recording) {
      g_shapes.insert(GemmShape{ta == CblasTrans, tb == CblasTrans, m, n, k, lda, ldb, ldc});
      ++g_calls;
    }
  }
  next_sgemm()(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
