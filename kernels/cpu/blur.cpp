// CPU reference of DFL's Gaussian blur, separable: a W pass into a scratch plane, then an H pass.
// Each pass is a sum of shifted, scaled rows of the flattened (W*C) image row, so the inner loops
// are contiguous and vectorise for any channel count.
#include "kernels/cpu/blur.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace facet::cpu {

int64_t gaussian_blur_kernel_size(double sigma) {
  // Python's int() truncates toward zero; sigma is positive so that is floor.
  int64_t ks = std::max<int64_t>(3, static_cast<int64_t>(4.0 * sigma));
  if (ks % 2 == 0) ks += 1;
  return ks;
}

template <typename T>
void gaussian_window_1d(int64_t size, double sigma, T* w) {
  const double centre = 0.5 * static_cast<double>(size - 1);
  std::vector<double> e(static_cast<size_t>(size));
  double sum = 0.0;
  for (int64_t i = 0; i < size; ++i) {
    double d = static_cast<double>(i) - centre;
    e[i] = std::exp(-d * d / (2.0 * sigma * sigma));
    sum += e[i];
  }
  for (int64_t i = 0; i < size; ++i) w[i] = static_cast<T>(e[i] / sum);
}

template <typename T>
void gaussian_blur(const T* x, T* y, int64_t N, int64_t H, int64_t W, int64_t C, double sigma, int64_t ks) {
  std::vector<T> k(static_cast<size_t>(ks));
  gaussian_window_1d(ks, sigma, k.data());
  const int64_t pad = ks / 2, row = W * C;
  std::vector<T> tmp(static_cast<size_t>(H * row));
  for (int64_t n = 0; n < N; ++n) {
    const T* xn = x + n * H * row;
    T* yn = y + n * H * row;
    // W pass: tmp[h][j] = sum_b k[b] * x[h][j + (b - pad)*C], taps outside the row are zero.
    std::fill(tmp.begin(), tmp.end(), T(0));
    for (int64_t h = 0; h < H; ++h) {
      const T* xr = xn + h * row;
      T* tr = tmp.data() + h * row;
      for (int64_t b = 0; b < ks; ++b) {
        const int64_t shift = (b - pad) * C;
        const int64_t j0 = std::max<int64_t>(0, -shift), j1 = std::min<int64_t>(row, row - shift);
        const T kb = k[b];
        for (int64_t j = j0; j < j1; ++j) tr[j] += kb * xr[j + shift];
      }
    }
    // H pass: y[h] = sum_a k[a] * tmp[h + a - pad], rows outside the image are zero.
    for (int64_t h = 0; h < H; ++h) {
      T* yr = yn + h * row;
      std::fill(yr, yr + row, T(0));
      const int64_t a0 = std::max<int64_t>(0, pad - h), a1 = std::min<int64_t>(ks, H + pad - h);
      for (int64_t a = a0; a < a1; ++a) {
        const T* tr = tmp.data() + (h + a - pad) * row;
        const T ka = k[a];
        for (int64_t j = 0; j < row; ++j) yr[j] += ka * tr[j];
      }
    }
  }
}

template void gaussian_window_1d<float>(int64_t, double, float*);
template void gaussian_window_1d<double>(int64_t, double, double*);
template void gaussian_blur<float>(const float*, float*, int64_t, int64_t, int64_t, int64_t, double, int64_t);
template void gaussian_blur<double>(const double*, double*, int64_t, int64_t, int64_t, int64_t, double, int64_t);

}  // namespace facet::cpu
