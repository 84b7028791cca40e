// Records the shape of every single-precision BLAS GEMM the process makes, so that a test can
// prove that the CPU forward of a network makes the same GEMMs whatever the batch size. Equal
// shapes mean equal kernel choices inside the BLAS on every CPU, which a comparison of outputs on
// one machine cannot show: OpenBLAS picks size-dependent kernels only on some CPUs (AVX-512).
// The recorder is gemm_recorder.cpp's cblas_sgemm, which this test executable exports in place
// of OpenBLAS's and which forwards every call to it.
#pragma once
#include <cstdint>
#include <set>
#include <tuple>

namespace facet::test {

// (transpose a, transpose b, M, N, K, lda, ldb, ldc), row-major.
using GemmShape = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;

// Starts recording into an empty set; the destructor stops. One recorder at a time.
class GemmRecorder {
 public:
  GemmRecorder();
  ~GemmRecorder();
  GemmRecorder(const GemmRecorder&) = delete;
  GemmRecorder& operator=(const GemmRecorder&) = delete;
  // The distinct shapes recorded so far, and how many calls were made.
  std::set<GemmShape> shapes() const;
  int64_t calls() const;
};

}  // namespace facet::test
