// The emulated cuBLAS against a naive reference: cublasGemmEx for every op combination, odd sizes
// and padded leading dimensions in each supported type configuration, beta = 0 over NaN, bf16
// rounding, and every misuse it must refuse with the status NVIDIA documents.
#include "tests/emu/emu_library_support.h"

namespace {

using namespace facet::emu_test;

// ---- cuBLAS ------------------------------------------------------------------------------------

class EmuCublas : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cublasCreate(&handle_), CUBLAS_STATUS_SUCCESS); }
  void TearDown() override {
    if (handle_) cublasDestroy(handle_);
  }
  cublasHandle_t handle_ = nullptr;
};

struct GemmCase {
  cublasOperation_t ta, tb;
  int m, n, k, lda, ldb, ldc;
  size_t a_elems() const { return static_cast<size_t>(lda) * (ta == CUBLAS_OP_N ? k : m); }
  size_t b_elems() const { return static_cast<size_t>(ldb) * (tb == CUBLAS_OP_N ? n : k); }
  size_t c_elems() const { return static_cast<size_t>(ldc) * n; }
  float a(const std::vector<float>& v, int i, int l) const { return ta == CUBLAS_OP_N ? v[l * lda + i] : v[i * lda + l]; }
  float b(const std::vector<float>& v, int l, int j) const { return tb == CUBLAS_OP_N ? v[j * ldb + l] : v[l * ldb + j]; }
};

GemmCase odd_case(cublasOperation_t ta, cublasOperation_t tb) {
  const int m = 5, n = 7, k = 3;
  return {ta, tb, m, n, k, (ta == CUBLAS_OP_N ? m : k) + 3, (tb == CUBLAS_OP_N ? k : n) + 2, m + 4};
}

// The documented result in float: products summed in k order, then alpha * sum + beta * c.
float gemm_reference(const GemmCase& g, const std::vector<float>& a, const std::vector<float>& b, float alpha,
                     float beta, float c_old, int i, int j) {
  float sum = 0.f;
  for (int l = 0; l < g.k; ++l) sum += g.a(a, i, l) * g.b(b, l, j);
  return beta == 0.f ? alpha * sum : alpha * sum + beta * c_old;
}

TEST_F(EmuCublas, GemmF32EveryOpCombination) {
  for (cublasOperation_t ta : {CUBLAS_OP_N, CUBLAS_OP_T, CUBLAS_OP_C})
    for (cublasOperation_t tb : {CUBLAS_OP_N, CUBLAS_OP_T, CUBLAS_OP_C}) {
      const GemmCase g = odd_case(ta, tb);
      const auto a = test_values(g.a_elems(), 1), b = test_values(g.b_elems(), 2), c = test_values(g.c_elems(), 3);
      DeviceBuffer da(a), db(b), dc(c);
      const float alpha = 1.5f, beta = -0.75f;
      ASSERT_EQ(cublasGemmEx(handle_, ta, tb, g.m, g.n, g.k, &alpha, da.get(), CUDA_R_32F, g.lda, db.get(), CUDA_R_32F,
                             g.ldb, &beta, dc.get(), CUDA_R_32F, g.ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                CUBLAS_STATUS_SUCCESS);
      const auto out = dc.download<float>();
      for (int j = 0; j < g.n; ++j)
        for (int i = 0; i < g.ldc; ++i) {
          const size_t at = static_cast<size_t>(j) * g.ldc + i;
          const float want = i < g.m ? gemm_reference(g, a, b, alpha, beta, c[at], i, j) : c[at];  // padding untouched
          EXPECT_EQ(out[at], want) << "ta=" << ta << " tb=" << tb << " i=" << i << " j=" << j;
        }
    }
}

TEST_F(EmuCublas, GemmBetaZeroDoesNotReadC) {
  const GemmCase g = odd_case(CUBLAS_OP_T, CUBLAS_OP_N);
  const auto a = test_values(g.a_elems(), 4), b = test_values(g.b_elems(), 5);
  DeviceBuffer da(a), db(b), dc(std::vector<float>(g.c_elems(), std::numeric_limits<float>::quiet_NaN()));
  const float alpha = 1.f, beta = 0.f;
  ASSERT_EQ(cublasGemmEx(handle_, g.ta, g.tb, g.m, g.n, g.k, &alpha, da.get(), CUDA_R_32F, g.lda, db.get(), CUDA_R_32F,
                         g.ldb, &beta, dc.get(), CUDA_R_32F, g.ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  const auto out = dc.download<float>();
  for (int j = 0; j < g.n; ++j)
    for (int i = 0; i < g.m; ++i) EXPECT_EQ(out[j * g.ldc + i], gemm_reference(g, a, b, alpha, 0.f, 0.f, i, j));
}

TEST_F(EmuCublas, GemmKZeroScalesC) {
  DeviceBuffer dc(std::vector<float>{1.f, 2.f, 3.f, 4.f});
  const float alpha = 1.f, beta = 0.5f;
  DeviceBuffer dummy(16);
  ASSERT_EQ(cublasGemmEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 0, &alpha, dummy.get(), CUDA_R_32F, 2, dummy.get(),
                         CUDA_R_32F, 1, &beta, dc.get(), CUDA_R_32F, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(dc.download<float>(), (std::vector<float>{0.5f, 1.f, 1.5f, 2.f}));
}

// Inputs in bfloat16 with float or bfloat16 output; the bfloat16 output rounds to nearest even.
TEST_F(EmuCublas, GemmBf16RoundsToNearestEven) {
  // One row times one column: 1*1 + 1*2^-8 + 1*2^-7 = 1 + 3*2^-8, halfway between the bfloat16
  // neighbours 1 + 2^-7 (odd) and 1 + 2^-6 (even).
  const std::vector<__nv_bfloat16> a = {__float2bfloat16(1.f), __float2bfloat16(1.f), __float2bfloat16(1.f)};
  const std::vector<__nv_bfloat16> b = {__float2bfloat16(1.f), __float2bfloat16(0.00390625f),
                                        __float2bfloat16(0.0078125f)};
  DeviceBuffer da(a), db(b), c16(2), c32(4);
  const float alpha = 1.f, beta = 0.f;
  ASSERT_EQ(cublasGemmEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 3, &alpha, da.get(), CUDA_R_16BF, 1, db.get(),
                         CUDA_R_16BF, 3, &beta, c16.get(), CUDA_R_16BF, 1, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasGemmEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 3, &alpha, da.get(), CUDA_R_16BF, 1, db.get(),
                         CUDA_R_16BF, 3, &beta, c32.get(), CUDA_R_32F, 1, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(__bfloat162float(c16.download<__nv_bfloat16>()[0]), 1.015625f);
  EXPECT_EQ(c32.download<float>()[0], 1.01171875f);
}

// bfloat16 and half inputs over every op combination, against the float reference of the
// converted inputs, rounded once.
template <typename T>
void gemm_16bit(cublasHandle_t h, cudaDataType type, T (*from_float)(float), float (*to_float)(T)) {
  for (cublasOperation_t ta : {CUBLAS_OP_N, CUBLAS_OP_T})
    for (cublasOperation_t tb : {CUBLAS_OP_N, CUBLAS_OP_T}) {
      const GemmCase g = odd_case(ta, tb);
      auto round = [&](std::vector<float> v) {
        for (float& x : v) x = to_float(from_float(x * 3.1f));
        return v;
      };
      const auto a = round(test_values(g.a_elems(), 6)), b = round(test_values(g.b_elems(), 7));
      const auto c = round(test_values(g.c_elems(), 8));
      auto pack = [&](const std::vector<float>& v) {
        std::vector<T> t;
        for (float x : v) t.push_back(from_float(x));
        return t;
      };
      DeviceBuffer da(pack(a)), db(pack(b)), dc(pack(c));
      const float alpha = 0.5f, beta = 2.f;
      ASSERT_EQ(cublasGemmEx(h, ta, tb, g.m, g.n, g.k, &alpha, da.get(), type, g.lda, db.get(), type, g.ldb, &beta,
                             dc.get(), type, g.ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                CUBLAS_STATUS_SUCCESS);
      const auto out = dc.download<T>();
      for (int j = 0; j < g.n; ++j)
        for (int i = 0; i < g.m; ++i) {
          const size_t at = static_cast<size_t>(j) * g.ldc + i;
          EXPECT_EQ(to_float(out[at]), to_float(from_float(gemm_reference(g, a, b, alpha, beta, c[at], i, j))));
        }
    }
}

TEST_F(EmuCublas, GemmBf16AndHalfEveryOpCombination) {
  gemm_16bit<__nv_bfloat16>(handle_, CUDA_R_16BF, [](float v) { return __float2bfloat16(v); },
                            [](__nv_bfloat16 v) { return __bfloat162float(v); });
  gemm_16bit<__half>(handle_, CUDA_R_16F, [](float v) { return __float2half(v); },
                     [](__half v) { return __half2float(v); });
}

TEST_F(EmuCublas, GemmF64) {
  const std::vector<double> a = {1.0, 1e-10, 2.0, 3.0}, b = {1.0, 1.0};  // A 2x2, B 2x1 (1e-10 + 3 needs double)
  DeviceBuffer da(a), db(b), dc(16);
  const double alpha = 1.0, beta = 0.0;
  ASSERT_EQ(cublasGemmEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 1, 2, &alpha, da.get(), CUDA_R_64F, 2, db.get(),
                         CUDA_R_64F, 2, &beta, dc.get(), CUDA_R_64F, 2, CUBLAS_COMPUTE_64F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(dc.download<double>(), (std::vector<double>{3.0, 1e-10 + 3.0}));
}

// CUBLAS_COMPUTE_32F_FAST_TF32 lets cuBLAS round fp32 inputs to TF32; the emulator does.
TEST_F(EmuCublas, GemmFastTf32RoundsInputs) {
  DeviceBuffer da(std::vector<float>{1.f + 1.f / 4096}), db(std::vector<float>{1.f}), dc(4);
  const float alpha = 1.f, beta = 0.f;
  for (auto [compute, want] : {std::pair{CUBLAS_COMPUTE_32F, 1.f + 1.f / 4096}, std::pair{CUBLAS_COMPUTE_32F_FAST_TF32, 1.f}}) {
    ASSERT_EQ(cublasGemmEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &alpha, da.get(), CUDA_R_32F, 1, db.get(),
                           CUDA_R_32F, 1, &beta, dc.get(), CUDA_R_32F, 1, compute, CUBLAS_GEMM_DEFAULT),
              CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(dc.download<float>()[0], want);
  }
}

TEST_F(EmuCublas, RefusesMisuse) {
  DeviceBuffer a(64 * 4), b(64 * 4), c(64 * 4);
  const float alpha = 1.f, beta = 0.f;
  auto gemm = [&](cublasHandle_t h, int m, int lda, const void* pa, cudaDataType ta, cudaDataType tc,
                  cublasComputeType_t ct) {
    return cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, m, 4, 4, &alpha, pa, ta, lda, b.get(), ta, 4, &beta, c.get(), tc,
                        4, ct, CUBLAS_GEMM_DEFAULT);
  };
  EXPECT_EQ(gemm(handle_, 4, 4, a.get(), CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(gemm(handle_, 4, 3, a.get(), CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F), CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_TRUE(misuse_names("cublasGemmEx"));
  EXPECT_EQ(gemm(handle_, -1, 4, a.get(), CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F), CUBLAS_STATUS_INVALID_VALUE);
  std::vector<float> host(64);
  EXPECT_EQ(gemm(handle_, 4, 4, host.data(), CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F), CUBLAS_STATUS_INVALID_VALUE);
  // lda = 21 makes A span 3 * 21 + 4 = 67 floats; a is 64 floats long (lda = 20 just fits).
  EXPECT_EQ(gemm(handle_, 4, 20, a.get(), CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(gemm(handle_, 4, 21, a.get(), CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F), CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(gemm(handle_, 4, 4, a.get(), CUDA_R_32F, CUDA_R_16BF, CUBLAS_COMPUTE_32F), CUBLAS_STATUS_NOT_SUPPORTED);
  EXPECT_EQ(gemm(handle_, 4, 4, a.get(), CUDA_R_16BF, CUDA_R_16BF, CUBLAS_COMPUTE_64F), CUBLAS_STATUS_NOT_SUPPORTED);
  EXPECT_EQ(gemm(handle_, 4, 4, a.get(), CUDA_R_16BF, CUDA_R_16BF, CUBLAS_COMPUTE_32F_FAST_TF32),
            CUBLAS_STATUS_NOT_SUPPORTED);
  EXPECT_EQ(gemm(handle_, 4, 4, a.get(), CUDA_R_32F, CUDA_R_32F, static_cast<cublasComputeType_t>(12345)),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasGemmEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &alpha, a.get(), CUDA_R_32F, 4, b.get(),
                         CUDA_R_16BF, 4, &beta, c.get(), CUDA_R_32F, 4, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_NOT_SUPPORTED);
  EXPECT_EQ(cublasSetMathMode(handle_, static_cast<cublasMath_t>(77)), CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasSetWorkspace(handle_, static_cast<char*>(a.get()) + 4, 128), CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasSetWorkspace(handle_, a.get(), 256), CUBLAS_STATUS_SUCCESS);

  cudaStream_t s;
  ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
  ASSERT_EQ(cublasSetStream(handle_, s), CUBLAS_STATUS_SUCCESS);
  cudaStream_t got = nullptr;
  EXPECT_EQ(cublasGetStream(handle_, &got), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(got, s);
  ASSERT_EQ(cudaStreamDestroy(s), cudaSuccess);
  EXPECT_EQ(gemm(handle_, 4, 4, a.get(), CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F), CUBLAS_STATUS_EXECUTION_FAILED);

  EXPECT_EQ(cublasDestroy(handle_), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(gemm(handle_, 4, 4, a.get(), CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F), CUBLAS_STATUS_NOT_INITIALIZED);
  EXPECT_EQ(cublasDestroy(handle_), CUBLAS_STATUS_NOT_INITIALIZED);
  handle_ = nullptr;
  EXPECT_STREQ(cublasGetStatusString(CUBLAS_STATUS_NOT_SUPPORTED), "CUBLAS_STATUS_NOT_SUPPORTED");
}

TEST(EmuCublasLt, CreateDestroy) {
  cublasLtHandle_t lt = nullptr;
  ASSERT_EQ(cublasLtCreate(&lt), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasLtDestroy(lt), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasLtDestroy(lt), CUBLAS_STATUS_NOT_INITIALIZED);
  EXPECT_EQ(cublasLtCreate(nullptr), CUBLAS_STATUS_INVALID_VALUE);
}


}  // namespace
