// The pipeline's processes load OpenCV, and OpenCV brings Debian's default libblas.so.3 (OpenBLAS
// on its own pthreads). The engine links OpenBLAS's OpenMP build so that the loader binds every
// cblas_* call -- ours and OpenCV's -- to it, and the CPU backend keeps one thread pool. This test
// runs in such a process (it calls OpenCV's GEMM so that OpenCV is surely loaded and used).
#include <gtest/gtest.h>

#include <opencv2/core.hpp>

#include "engine/core/context.h"

TEST(CpuPool, BlasIsTheOpenMpBuildEvenWithOpenCvLoaded) {
  cv::Mat a = cv::Mat::eye(64, 64, CV_32F), c;
  cv::gemm(a, a, 1.0, cv::Mat(), 0.0, c);
  EXPECT_EQ(cv::countNonZero(c != a), 0);
  const std::string pool = facet::cpu_pool_description();
  EXPECT_NE(pool.find("BLAS on openmp"), std::string::npos) << pool;
}
