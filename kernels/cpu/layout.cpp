// Host references for the data-movement ops (see layout.h). Each loop walks the output in
// row-major order and computes the source index directly from the definition, so a reader can
// check the formula against the op's definition (layout.h) line by line; the CUDA kernels must match these bit for bit.
#include "kernels/cpu/layout.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace facet::cpu {

namespace {
std::vector<int64_t> strides_of(int rank, const int64_t* shape) {
  std::vector<int64_t> s(static_cast<size_t>(rank));
  int64_t acc = 1;
  for (int a = rank - 1; a >= 0; --a) {
    s[a] = acc;
    acc *= shape[a];
  }
  return s;
}

int64_t count(int rank, const int64_t* shape) {
  int64_t n = 1;
  for (int a = 0; a < rank; ++a) n *= shape[a];
  return n;
}

// Advances a row-major multi-index; returns false after the last one.
bool next_index(std::vector<int64_t>& idx, const int64_t* shape) {
  for (int a = static_cast<int>(idx.size()) - 1; a >= 0; --a) {
    if (++idx[a] < shape[a]) return true;
    idx[a] = 0;
  }
  return false;
}
}  // namespace

template <typename T>
void pixel_shuffle(const T* x, T* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t r) {
  const int64_t Ho = H * r, Wo = W * r, Cin = C * r * r;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < Ho; ++oh)
      for (int64_t ow = 0; ow < Wo; ++ow) {
        const int64_t h = oh / r, i = oh % r, w = ow / r, j = ow % r;
        const T* src = x + ((n * H + h) * W + w) * Cin + (i * r + j) * C;
        T* dst = y + ((n * Ho + oh) * Wo + ow) * C;
        for (int64_t c = 0; c < C; ++c) dst[c] = src[c];
      }
}

template <typename T>
void space_to_depth(const T* x, T* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t r) {
  const int64_t Hi = H * r, Wi = W * r, Cout = C * r * r;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        for (int64_t i = 0; i < r; ++i)
          for (int64_t j = 0; j < r; ++j) {
            const T* src = x + ((n * Hi + h * r + i) * Wi + w * r + j) * C;
            T* dst = y + ((n * H + h) * W + w) * Cout + (i * r + j) * C;
            for (int64_t c = 0; c < C; ++c) dst[c] = src[c];
          }
}

template <typename T>
void pixel_norm(const T* x, T* y, int64_t N, int64_t D, double eps) {
  for (int64_t n = 0; n < N; ++n) {
    const T* xs = x + n * D;
    double ss = 0;  // accumulate in double: D is the whole encoder output (tens of thousands)
    for (int64_t k = 0; k < D; ++k) ss += static_cast<double>(xs[k]) * xs[k];
    const T s = static_cast<T>(1.0 / std::sqrt(ss / static_cast<double>(D) + eps));
    for (int64_t k = 0; k < D; ++k) y[n * D + k] = xs[k] * s;
  }
}

template <typename T>
void pixel_norm_backward(const T* x, const T* dy, T* dx, int64_t N, int64_t D, double eps) {
  for (int64_t n = 0; n < N; ++n) {
    const T* xs = x + n * D;
    const T* gs = dy + n * D;
    double ss = 0, dot = 0;
    for (int64_t k = 0; k < D; ++k) {
      ss += static_cast<double>(xs[k]) * xs[k];
      dot += static_cast<double>(gs[k]) * xs[k];
    }
    const double sd = 1.0 / std::sqrt(ss / static_cast<double>(D) + eps);
    const T s = static_cast<T>(sd);
    const T coef = static_cast<T>(sd * sd * sd * dot / static_cast<double>(D));
    for (int64_t k = 0; k < D; ++k) dx[n * D + k] = s * gs[k] - coef * xs[k];
  }
}

namespace {
// pad by its definition, one output element at a time (any padding, negative included).
template <typename T>
void pad_elementwise(const T* x, T* y, int rank, const int64_t* shape, const int64_t* before, const int64_t* after, T value) {
  std::vector<int64_t> oshape(static_cast<size_t>(rank));
  for (int a = 0; a < rank; ++a) oshape[a] = shape[a] + before[a] + after[a];
  const int64_t total = count(rank, oshape.data());
  if (total == 0) return;
  const std::vector<int64_t> xs = strides_of(rank, shape);
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  int64_t o = 0;
  do {
    bool inside = true;
    int64_t src = 0;
    for (int a = 0; a < rank && inside; ++a) {
      const int64_t k = idx[a] - before[a];
      inside = k >= 0 && k < shape[a];
      src += k * xs[a];
    }
    y[o++] = inside ? x[src] : value;
  } while (next_index(idx, oshape.data()));
}
}  // namespace

constexpr int kPadMaxRank = 8;  // tensors of higher rank take pad_elementwise

// The TFLite face nets pad channels (the innermost axis) before residual adds, on every block, so
// pad walks the output one innermost row at a time: a row whose outer coordinates fall in the
// padding is all `value`, any other is `before` values, a copy of the input row, `after` values.
template <typename T>
void pad(const T* x, T* y, int rank, const int64_t* shape, const int64_t* before, const int64_t* after, T value) {
  const int last = rank - 1;
  if (rank == 0 || rank > kPadMaxRank || before[last] < 0 || after[last] < 0) {
    pad_elementwise(x, y, rank, shape, before, after, value);
    return;
  }
  int64_t oshape[kPadMaxRank], xstride[kPadMaxRank], idx[kPadMaxRank] = {};
  int64_t acc = 1;
  for (int a = last; a >= 0; --a) {
    oshape[a] = shape[a] + before[a] + after[a];
    xstride[a] = acc;
    acc *= shape[a];
  }
  const int64_t row = oshape[last], rows = row > 0 ? count(rank, oshape) / row : 0;
  for (int64_t r = 0; r < rows; ++r) {
    T* yr = y + r * row;
    bool inside = shape[last] > 0;
    int64_t src = 0;
    for (int a = 0; a < last && inside; ++a) {
      const int64_t k = idx[a] - before[a];
      inside = k >= 0 && k < shape[a];
      src += k * xstride[a];
    }
    if (!inside) {
      std::fill(yr, yr + row, value);
    } else {
      std::fill(yr, yr + before[last], value);
      std::copy(x + src, x + src + shape[last], yr + before[last]);
      std::fill(yr + before[last] + shape[last], yr + row, value);
    }
    for (int a = last - 1; a >= 0; --a) {  // next outer coordinate
      if (++idx[a] < oshape[a]) break;
      idx[a] = 0;
    }
  }
}

template <typename T>
void slice(const T* x, T* y, int rank, const int64_t* shape, const int64_t* begin, const int64_t* out_shape) {
  if (count(rank, out_shape) == 0) return;
  const std::vector<int64_t> xs = strides_of(rank, shape);
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  int64_t o = 0;
  do {
    int64_t src = 0;
    for (int a = 0; a < rank; ++a) src += (idx[a] + begin[a]) * xs[a];
    y[o++] = x[src];
  } while (next_index(idx, out_shape));
}

template <typename T>
void concat(const T* const* xs, const int64_t* sizes, int n, T* y, int64_t outer, int64_t inner) {
  int64_t total = 0;
  for (int k = 0; k < n; ++k) total += sizes[k];
  int64_t offset = 0;
  for (int k = 0; k < n; ++k) {
    const int64_t row = sizes[k] * inner;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t e = 0; e < row; ++e) y[(o * total + offset) * inner + e] = xs[k][o * row + e];
    offset += sizes[k];
  }
}

template <typename T>
void split(const T* y, T* const* xs, const int64_t* sizes, int n, int64_t outer, int64_t inner) {
  int64_t total = 0;
  for (int k = 0; k < n; ++k) total += sizes[k];
  int64_t offset = 0;
  for (int k = 0; k < n; ++k) {
    const int64_t row = sizes[k] * inner;
    if (xs[k])
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t e = 0; e < row; ++e) xs[k][o * row + e] = y[(o * total + offset) * inner + e];
    offset += sizes[k];
  }
}

template <typename T>
void permute(const T* x, T* y, int rank, const int64_t* shape, const int* perm) {
  std::vector<int64_t> oshape(static_cast<size_t>(rank)), ostride_in(static_cast<size_t>(rank));
  const std::vector<int64_t> xs = strides_of(rank, shape);
  for (int a = 0; a < rank; ++a) {
    oshape[a] = shape[perm[a]];
    ostride_in[a] = xs[perm[a]];  // step in x when output axis a advances
  }
  if (count(rank, oshape.data()) == 0) return;
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  int64_t o = 0;
  do {
    int64_t src = 0;
    for (int a = 0; a < rank; ++a) src += idx[a] * ostride_in[a];
    y[o++] = x[src];
  } while (next_index(idx, oshape.data()));
}

#define FACET_LAYOUT_INSTANTIATE(T)                                                                   \
  template void pixel_shuffle<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t);         \
  template void space_to_depth<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t);        \
  template void pixel_norm<T>(const T*, T*, int64_t, int64_t, double);                                \
  template void pixel_norm_backward<T>(const T*, const T*, T*, int64_t, int64_t, double);             \
  template void pad<T>(const T*, T*, int, const int64_t*, const int64_t*, const int64_t*, T);         \
  template void slice<T>(const T*, T*, int, const int64_t*, const int64_t*, const int64_t*);          \
  template void concat<T>(const T* const*, const int64_t*, int, T*, int64_t, int64_t);                \
  template void split<T>(const T*, T* const*, const int64_t*, int, int64_t, int64_t);                 \
  template void permute<T>(const T*, T*, int, const int64_t*, const int*);

FACET_LAYOUT_INSTANTIATE(float)
FACET_LAYOUT_INSTANTIATE(double)
#undef FACET_LAYOUT_INSTANTIATE

}  // namespace facet::cpu
