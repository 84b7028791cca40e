// Differentiable data-movement ops: DFL's pixel shuffle (DCR depth_to_space) and its inverse,
// DFL's pixel_norm, and the general-purpose pad / slice / concat / reshape / permute. Each op
// validates its arguments (naming itself and the shapes involved), dispatches to kernels/cpu or
// kernels/cuda (layout.h), and records its backward on the context's tape.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet {

// x [N,H,W,C*r*r] -> [N,H*r,W*r,C], TF/DFL "DCR" order:
//   out[n, h*r+i, w*r+j, c] = x[n, h, w, (i*r + j)*C + c]   (NOT PyTorch's CRD PixelShuffle).
// Backward is space_to_depth.
Tensor pixel_shuffle(Context& ctx, const Tensor& x, int r);
inline Tensor depth_to_space(Context& ctx, const Tensor& x, int r) { return pixel_shuffle(ctx, x, r); }
// x [N,H*r,W*r,C] -> [N,H,W,C*r*r], the exact inverse of pixel_shuffle. Backward is pixel_shuffle.
Tensor space_to_depth(Context& ctx, const Tensor& x, int r);

// x * rsqrt(mean(x^2) + eps), the mean taken over all elements of each leading-axis sample
// (DFL's `u` option on the flattened encoder output). Any rank >= 1.
Tensor pixel_norm(Context& ctx, const Tensor& x, double eps = 1e-6);

// Pads every axis a by before[a] / after[a] (>= 0) elements of `value`. Backward slices.
Tensor pad(Context& ctx, const Tensor& x, const std::vector<int64_t>& before, const std::vector<int64_t>& after,
           double value = 0.0);

// x[begin[0]:end[0], begin[1]:end[1], ...] with step 1; one begin/end per axis, 0 <= begin <= end <= dim.
// Backward scatters the gradient into zeros (a pad).
Tensor slice(Context& ctx, const Tensor& x, const std::vector<int64_t>& begin, const std::vector<int64_t>& end);
// Convenience: [begin, end) along one axis (negative axis counts from the back), whole elsewhere.
Tensor slice_axis(Context& ctx, const Tensor& x, int axis, int64_t begin, int64_t end);

// x cut along axis 0 into consecutive pieces of rows[0], rows[1], ... rows (summing to x.dim(0)):
// views of x, no copy (tensors are contiguous, so a run of leading-axis rows is one). For running
// several batches through a shared network as one and handing each its own part of the result.
// Backward: each piece's gradient scattered into zeros of x's shape (a pad), summed by the tape.
std::vector<Tensor> split_rows(Context& ctx, const Tensor& x, const std::vector<int64_t>& rows);

// Concatenation along `axis` (negative counts from the back); all other axes must agree.
// Backward splits the gradient.
Tensor concat(Context& ctx, const std::vector<Tensor>& xs, int axis);

// A view of x with another shape of the same element count (one entry may be -1: inferred).
// Differentiable: the backward reshapes the gradient.
Tensor reshape(Context& ctx, const Tensor& x, const Shape& shape);

// y.shape[a] = x.shape[perm[a]] (a materialised copy). Backward applies the inverse permutation.
// CUDA takes up to 8 axes after merging axes that stay adjacent (any NHWC <-> NCHW is 3).
Tensor permute(Context& ctx, const Tensor& x, const std::vector<int>& perm);
// Swaps two axes (a permute).
Tensor transpose(Context& ctx, const Tensor& x, int axis_a, int axis_b);

}  // namespace facet
