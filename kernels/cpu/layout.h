// Data-movement references on the host: pixel shuffle (DFL/TF "DCR" depth_to_space) and its
// inverse, pixel_norm (DFL's `u` option) with its backward, and the rank-generic pad / slice /
// concat / split / permute copies. These are the specification the CUDA versions are checked
// against, so they are written as plain index maps, one output element at a time.
// Shapes are row-major; images NHWC. Callers validate sizes.
#pragma once
#include <cstdint>

namespace facet::cpu {

// depth_to_space, DCR order. x [N,H,W,C*r*r] -> y [N,H*r,W*r,C] with
//   y[n, h*r+i, w*r+j, c] = x[n, h, w, (i*r + j)*C + c].
// C is the OUTPUT channel count. (PyTorch's PixelShuffle is CRD: c*r*r + i*r + j. Not this.)
template <typename T>
void pixel_shuffle(const T* x, T* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t r);

// The exact inverse with the same arguments: x [N,H*r,W*r,C] -> y [N,H,W,C*r*r].
// H, W are the LOW-resolution sizes and C the high-resolution channel count, so
// space_to_depth(pixel_shuffle(x)) == x for equal arguments.
template <typename T>
void space_to_depth(const T* x, T* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t r);

// y[n, :] = x[n, :] * rsqrt(mean(x[n, :]^2) + eps) over the D elements of each of N samples.
template <typename T>
void pixel_norm(const T* x, T* y, int64_t N, int64_t D, double eps);
// dx = s*dy - (s^3 / D) * x * <dy, x>, s = rsqrt(mean(x^2) + eps).
template <typename T>
void pixel_norm_backward(const T* x, const T* dy, T* dx, int64_t N, int64_t D, double eps);

// y = x padded by before[a] / after[a] elements of `value` on each axis a (all >= 0).
// y's shape is shape[a] + before[a] + after[a].
template <typename T>
void pad(const T* x, T* y, int rank, const int64_t* shape, const int64_t* before, const int64_t* after, T value);

// y = x[begin[0]:begin[0]+out_shape[0], ...] (step 1). `shape` is x's shape.
template <typename T>
void slice(const T* x, T* y, int rank, const int64_t* shape, const int64_t* begin, const int64_t* out_shape);

// Concatenation viewed as [outer, sizes[k], inner] blocks along the middle axis:
// y [outer, sum(sizes), inner]. split is its inverse (the backward of concat); a null xs[k]
// in split skips that part (an input that needs no gradient).
template <typename T>
void concat(const T* const* xs, const int64_t* sizes, int n, T* y, int64_t outer, int64_t inner);
template <typename T>
void split(const T* y, T* const* xs, const int64_t* sizes, int n, int64_t outer, int64_t inner);

// y = x.permute(perm): y.shape[a] = shape[perm[a]], y[idx] = x[idx' with idx'[perm[a]] = idx[a]].
template <typename T>
void permute(const T* x, T* y, int rank, const int64_t* shape, const int* perm);

}  // namespace facet::cpu
