// CPU reference of the SAEHD losses (see losses.h). DSSIM is computed one sample at a time on
// flattened image rows (W*C values): the 2-D window is the outer product of a normalised 1-D
// window (blur.h), so each filtering is a W pass and an H pass of shifted, scaled rows, and the
// backward uses the transposed passes (scatter instead of gather). Spatial means accumulate in double.
#include "kernels/cpu/losses.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/blur.h"

namespace facet::cpu {

namespace {

constexpr double kC1 = 0.01 * 0.01;  // (k1 * max_val)^2
constexpr double kC2 = 0.03 * 0.03;  // (k2 * max_val)^2

// out[r][j] = sum_b w[b] * in[r][j + b*C] for j < out_row (VALID along W).
template <typename T>
void pass_w(const T* in, T* out, int64_t rows, int64_t in_row, int64_t out_row, int64_t C, const T* w, int64_t fs) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* ir = in + r * in_row;
    T* orow = out + r * out_row;
    std::fill(orow, orow + out_row, T(0));
    for (int64_t b = 0; b < fs; ++b)
      for (int64_t j = 0; j < out_row; ++j) orow[j] += w[b] * ir[j + b * C];
  }
}

// out[ho] = sum_a w[a] * in[ho + a] for ho < out_rows (VALID along H); rows have `row` values.
template <typename T>
void pass_h(const T* in, T* out, int64_t out_rows, int64_t row, const T* w, int64_t fs) {
  for (int64_t ho = 0; ho < out_rows; ++ho) {
    T* orow = out + ho * row;
    std::fill(orow, orow + row, T(0));
    for (int64_t a = 0; a < fs; ++a) {
      const T* ir = in + (ho + a) * row;
      for (int64_t j = 0; j < row; ++j) orow[j] += w[a] * ir[j];
    }
  }
}

// Adjoint of pass_w: out[r][j + b*C] += w[b] * in[r][j]; out is cleared first.
template <typename T>
void pass_w_t(const T* in, T* out, int64_t rows, int64_t in_row, int64_t out_row, int64_t C, const T* w, int64_t fs) {
  std::fill(out, out + rows * out_row, T(0));
  for (int64_t r = 0; r < rows; ++r) {
    const T* ir = in + r * in_row;
    T* orow = out + r * out_row;
    for (int64_t b = 0; b < fs; ++b)
      for (int64_t j = 0; j < in_row; ++j) orow[j + b * C] += w[b] * ir[j];
  }
}

// Adjoint of pass_h: out[ho + a] += w[a] * in[ho]; out (in_rows + fs - 1 rows) is cleared first.
template <typename T>
void pass_h_t(const T* in, T* out, int64_t in_rows, int64_t row, const T* w, int64_t fs) {
  std::fill(out, out + (in_rows + fs - 1) * row, T(0));
  for (int64_t ho = 0; ho < in_rows; ++ho) {
    const T* ir = in + ho * row;
    for (int64_t a = 0; a < fs; ++a) {
      T* orow = out + (ho + a) * row;
      for (int64_t j = 0; j < row; ++j) orow[j] += w[a] * ir[j];
    }
  }
}

// The four window statistics of one sample at every valid pixel: mean of a, mean of b,
// mean of a*b and mean of a^2 + b^2 (DFL filters the sum of squares as one image).
template <typename T>
struct DssimStats {
  int64_t H, W, C, fs, Ho, Wo, row, orow;
  std::vector<T> w, prod, sq, hbuf, mx, my, mxy, mq;

  DssimStats(int64_t H_, int64_t W_, int64_t C_, int64_t fs_, double sigma)
      : H(H_), W(W_), C(C_), fs(fs_), Ho(H_ - fs_ + 1), Wo(W_ - fs_ + 1), row(W_ * C_), orow((W_ - fs_ + 1) * C_) {
    w.resize(static_cast<size_t>(fs));
    gaussian_window_1d(fs, sigma, w.data());
    prod.resize(static_cast<size_t>(H * row));
    sq.resize(prod.size());
    hbuf.resize(static_cast<size_t>(H * orow));
    for (auto* v : {&mx, &my, &mxy, &mq}) v->resize(static_cast<size_t>(Ho * orow));
  }

  void filter(const T* img, std::vector<T>& out) {
    pass_w(img, hbuf.data(), H, row, orow, C, w.data(), fs);
    pass_h(hbuf.data(), out.data(), Ho, orow, w.data(), fs);
  }

  void compute(const T* a, const T* b) {
    for (int64_t i = 0; i < H * row; ++i) {
      prod[i] = a[i] * b[i];
      sq[i] = a[i] * a[i] + b[i] * b[i];
    }
    filter(a, mx);
    filter(b, my);
    filter(prod.data(), mxy);
    filter(sq.data(), mq);
  }
};

}  // namespace

template <typename T>
void dssim_forward(const T* a, const T* b, int64_t N, int64_t H, int64_t W, int64_t C, int64_t fs, double sigma,
                   T* per_channel, T* loss) {
  DssimStats<T> st(H, W, C, fs, sigma);
  const T c1 = static_cast<T>(kC1), c2 = static_cast<T>(kC2);
  const int64_t P = st.Ho * st.Wo;
  std::vector<double> acc(static_cast<size_t>(C));
  for (int64_t n = 0; n < N; ++n) {
    st.compute(a + n * H * st.row, b + n * H * st.row);
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t i = 0; i < P * C; ++i) {
      const T ux = st.mx[i], uy = st.my[i];
      const T num0 = ux * uy * T(2), den0 = ux * ux + uy * uy;
      const T lum = (num0 + c1) / (den0 + c1);
      const T cs = (st.mxy[i] * T(2) - num0 + c2) / (st.mq[i] - den0 + c2);
      acc[i % C] += static_cast<double>(lum * cs);
    }
    double mean = 0.0;
    for (int64_t c = 0; c < C; ++c) {
      double d = (1.0 - acc[c] / static_cast<double>(P)) / 2.0;
      if (per_channel) per_channel[n * C + c] = static_cast<T>(d);
      mean += d;
    }
    loss[n] = static_cast<T>(mean / static_cast<double>(C));
  }
}

template <typename T>
void dssim_backward(const T* a, const T* b, int64_t N, int64_t H, int64_t W, int64_t C, int64_t fs, double sigma,
                    const T* grad_loss, T* grad_a, T* grad_b) {
  if (!grad_a && !grad_b) return;
  DssimStats<T> st(H, W, C, fs, sigma);
  const T c1 = static_cast<T>(kC1), c2 = static_cast<T>(kC2);
  const int64_t P = st.Ho * st.Wo, plane = H * st.row;
  // Gradients with respect to the four statistics, reusing their buffers in place.
  std::vector<T>&gx = st.mx, &gy = st.my, &gxy = st.mxy, &gq = st.mq;
  std::vector<T> tbuf(static_cast<size_t>(st.Ho * st.row));
  std::vector<T> ux_t(static_cast<size_t>(plane)), uy_t(ux_t.size()), uxy_t(ux_t.size()), uq_t(ux_t.size());
  for (int64_t n = 0; n < N; ++n) {
    const T* an = a + n * plane;
    const T* bn = b + n * plane;
    st.compute(an, bn);
    // d loss[n] / d ssim_map(p, c) = -(1/C) * (1/2) * (1/P), the same at every pixel.
    const T gs = -grad_loss[n] / static_cast<T>(2.0 * static_cast<double>(C) * static_cast<double>(P));
    for (int64_t i = 0; i < P * C; ++i) {
      const T ux = st.mx[i], uy = st.my[i];
      const T A1 = ux * uy * T(2) + c1, B1 = ux * ux + uy * uy + c1;
      const T A2 = (st.mxy[i] - ux * uy) * T(2) + c2, B2 = st.mq[i] - ux * ux - uy * uy + c2;
      const T lum = A1 / B1, cs = A2 / B2;
      // s = lum * cs; d lum/d ux = 2(uy - lum ux)/B1, d cs/d ux = 2(cs ux - uy)/B2 (and x <-> y).
      const T dux = T(2) * ((uy - lum * ux) / B1 * cs + lum * (cs * ux - uy) / B2);
      const T duy = T(2) * ((ux - lum * uy) / B1 * cs + lum * (cs * uy - ux) / B2);
      gx[i] = gs * dux;
      gy[i] = gs * duy;
      gxy[i] = gs * T(2) * lum / B2;
      gq[i] = -gs * lum * cs / B2;
    }
    // Back through the VALID filter: the transposed H pass, then the transposed W pass.
    auto back = [&](const std::vector<T>& g, std::vector<T>& out) {
      pass_w_t(g.data(), tbuf.data(), st.Ho, st.orow, st.row, C, st.w.data(), fs);
      pass_h_t(tbuf.data(), out.data(), st.Ho, st.row, st.w.data(), fs);
    };
    back(gx, ux_t);
    back(gy, uy_t);
    back(gxy, uxy_t);
    back(gq, uq_t);
    for (int64_t i = 0; i < plane; ++i) {
      if (grad_a) grad_a[n * plane + i] = ux_t[i] + T(2) * an[i] * uq_t[i] + bn[i] * uxy_t[i];
      if (grad_b) grad_b[n * plane + i] = uy_t[i] + T(2) * bn[i] * uq_t[i] + an[i] * uxy_t[i];
    }
  }
}

namespace {

template <typename T>
inline T mask_at(const T* mask, int64_t n, int64_t i, int64_t M, int64_t C, int64_t mask_c) {
  if (!mask) return T(1);
  if (mask_c == 1) return mask[(n * M + i) / C];
  return mask[n * M + i];
}

template <typename T, typename F>
void reduce_loss(const T* a, const T* b, const T* mask, int64_t N, int64_t M, int64_t C, int64_t mask_c, T* loss, F f) {
  for (int64_t n = 0; n < N; ++n) {
    double s = 0.0;
    for (int64_t i = 0; i < M; ++i) {
      const T d = a[n * M + i] - b[n * M + i];
      s += static_cast<double>(mask_at(mask, n, i, M, C, mask_c) * f(d));
    }
    loss[n] = static_cast<T>(s / static_cast<double>(M));
  }
}

// grad_a = g[n]/M * w * f'(a - b), grad_b = -grad_a.
template <typename T, typename F>
void loss_grad(const T* a, const T* b, const T* mask, int64_t N, int64_t M, int64_t C, int64_t mask_c,
               const T* grad_loss, T* grad_a, T* grad_b, F df) {
  for (int64_t n = 0; n < N; ++n) {
    const T g = grad_loss[n] / static_cast<T>(M);
    for (int64_t i = 0; i < M; ++i) {
      const int64_t k = n * M + i;
      const T v = g * mask_at(mask, n, i, M, C, mask_c) * df(a[k] - b[k]);
      if (grad_a) grad_a[k] = v;
      if (grad_b) grad_b[k] = -v;
    }
  }
}

template <typename T>
inline T sign0(T d) { return d > T(0) ? T(1) : (d < T(0) ? T(-1) : T(0)); }

}  // namespace

template <typename T>
void mse_forward(const T* a, const T* b, const T* mask, int64_t N, int64_t M, int64_t C, int64_t mask_c, T* loss) {
  reduce_loss(a, b, mask, N, M, C, mask_c, loss, [](T d) { return d * d; });
}
template <typename T>
void mse_backward(const T* a, const T* b, const T* mask, int64_t N, int64_t M, int64_t C, int64_t mask_c,
                  const T* grad_loss, T* grad_a, T* grad_b) {
  loss_grad(a, b, mask, N, M, C, mask_c, grad_loss, grad_a, grad_b, [](T d) { return T(2) * d; });
}
template <typename T>
void l1_forward(const T* a, const T* b, const T* mask, int64_t N, int64_t M, int64_t C, int64_t mask_c, T* loss) {
  reduce_loss(a, b, mask, N, M, C, mask_c, loss, [](T d) { return std::abs(d); });
}
template <typename T>
void l1_backward(const T* a, const T* b, const T* mask, int64_t N, int64_t M, int64_t C, int64_t mask_c,
                 const T* grad_loss, T* grad_a, T* grad_b) {
  loss_grad(a, b, mask, N, M, C, mask_c, grad_loss, grad_a, grad_b, [](T d) { return sign0(d); });
}

#define FACET_LOSSES_INST(T)                                                                                   \
  template void dssim_forward<T>(const T*, const T*, int64_t, int64_t, int64_t, int64_t, int64_t, double, T*, T*); \
  template void dssim_backward<T>(const T*, const T*, int64_t, int64_t, int64_t, int64_t, int64_t, double,       \
                                  const T*, T*, T*);                                                           \
  template void mse_forward<T>(const T*, const T*, const T*, int64_t, int64_t, int64_t, int64_t, T*);          \
  template void mse_backward<T>(const T*, const T*, const T*, int64_t, int64_t, int64_t, int64_t, const T*, T*, T*); \
  template void l1_forward<T>(const T*, const T*, const T*, int64_t, int64_t, int64_t, int64_t, T*);           \
  template void l1_backward<T>(const T*, const T*, const T*, int64_t, int64_t, int64_t, int64_t, const T*, T*, T*);
FACET_LOSSES_INST(float)
FACET_LOSSES_INST(double)
#undef FACET_LOSSES_INST

}  // namespace facet::cpu
