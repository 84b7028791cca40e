// Data-movement ops over the layout primitives of engine/ops/backend.h. Each forward has a "raw"
// helper (not recorded) that the backward of its dual reuses: pixel_shuffle <-> space_to_depth, pad
// <-> slice, concat <-> split, permute <-> inverse permute, so every backward is one kernel launch.
#include "engine/ops/layout.h"

#include <algorithm>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/ops/backend.h"

namespace facet {

namespace {

// --- raw (unrecorded) kernels -------------------------------------------------------------------

Tensor shuffle_raw(Context& ctx, bool to_space, const Tensor& x, int64_t r) {
  const int64_t N = x.dim(0);
  Tensor y;
  if (to_space) {
    const int64_t H = x.dim(1), W = x.dim(2), C = x.dim(3) / (r * r);
    y = Tensor::empty(ctx, {N, H * r, W * r, C}, x.dtype(), x.device());
    backend::shuffle(ctx, true, x, y, N, H, W, C, r);
  } else {
    const int64_t H = x.dim(1) / r, W = x.dim(2) / r, C = x.dim(3);
    y = Tensor::empty(ctx, {N, H, W, C * r * r}, x.dtype(), x.device());
    backend::shuffle(ctx, false, x, y, N, H, W, C, r);
  }
  return y;
}

Tensor pad_raw(Context& ctx, const Tensor& x, const std::vector<int64_t>& before, const std::vector<int64_t>& after,
               double value) {
  Shape out = x.shape();
  for (int a = 0; a < x.rank(); ++a) out[a] += before[a] + after[a];
  Tensor y = Tensor::empty(ctx, out, x.dtype(), x.device());
  backend::pad(ctx, x, y, before, after, value);
  return y;
}

Tensor slice_raw(Context& ctx, const Tensor& x, const std::vector<int64_t>& begin, const Shape& out) {
  Tensor y = Tensor::empty(ctx, out, x.dtype(), x.device());
  backend::slice(ctx, x, y, begin);
  return y;
}

Tensor permute_raw(Context& ctx, const Tensor& x, const std::vector<int>& perm) {
  Shape out(perm.size());
  for (size_t a = 0; a < perm.size(); ++a) out[a] = x.dim(perm[a]);
  Tensor y = Tensor::empty(ctx, out, x.dtype(), x.device());
  backend::permute(ctx, x, y, perm);
  return y;
}

// [outer, sizes[k], inner] view of concatenation along `axis`.
void concat_geometry(const Shape& s, int axis, int64_t* outer, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int a = 0; a < axis; ++a) *outer *= s[a];
  for (size_t a = static_cast<size_t>(axis) + 1; a < s.size(); ++a) *inner *= s[a];
}

}  // namespace

// --- pixel shuffle ------------------------------------------------------------------------------

Tensor pixel_shuffle(Context& ctx, const Tensor& x, int r) {
  FACET_CHECK(r >= 1, "pixel_shuffle: block size must be >= 1, got ", r);
  FACET_CHECK(x.rank() == 4, "pixel_shuffle: expected NHWC [N,H,W,C*r*r], got ", shape_str(x.shape()));
  FACET_CHECK(x.dim(3) % (static_cast<int64_t>(r) * r) == 0, "pixel_shuffle: channels ", x.dim(3),
              " of ", shape_str(x.shape()), " are not a multiple of r*r = ", r * r);
  Tensor y = shuffle_raw(ctx, true, x, r);
  if (needs_grad(ctx, {&x})) {
    record(ctx, "pixel_shuffle", y, {x}, [&ctx, r](const Tensor& gy) -> std::vector<Tensor> {
      return {shuffle_raw(ctx, false, gy, r)};
    });
  }
  return y;
}

Tensor space_to_depth(Context& ctx, const Tensor& x, int r) {
  FACET_CHECK(r >= 1, "space_to_depth: block size must be >= 1, got ", r);
  FACET_CHECK(x.rank() == 4, "space_to_depth: expected NHWC [N,H*r,W*r,C], got ", shape_str(x.shape()));
  FACET_CHECK(x.dim(1) % r == 0 && x.dim(2) % r == 0, "space_to_depth: H and W of ", shape_str(x.shape()),
              " must be multiples of r = ", r);
  Tensor y = shuffle_raw(ctx, false, x, r);
  if (needs_grad(ctx, {&x})) {
    record(ctx, "space_to_depth", y, {x}, [&ctx, r](const Tensor& gy) -> std::vector<Tensor> {
      return {shuffle_raw(ctx, true, gy, r)};
    });
  }
  return y;
}

// --- pixel norm ---------------------------------------------------------------------------------

Tensor pixel_norm(Context& ctx, const Tensor& x, double eps) {
  FACET_CHECK(x.rank() >= 1, "pixel_norm: needs a leading sample axis, got a scalar");
  const int64_t N = x.dim(0), D = N ? x.numel() / N : 0;
  Tensor y = Tensor::empty(ctx, x.shape(), x.dtype(), x.device());
  backend::pixel_norm_forward(ctx, x, y, N, D, eps);
  if (needs_grad(ctx, {&x})) {
    record(ctx, "pixel_norm", y, {x}, [&ctx, x, N, D, eps](const Tensor& gy) -> std::vector<Tensor> {
      Tensor gx = Tensor::empty(ctx, x.shape(), x.dtype(), x.device());
      backend::pixel_norm_backward(ctx, x, gy, gx, N, D, eps);
      return {gx};
    });
  }
  return y;
}

// --- pad / slice --------------------------------------------------------------------------------

Tensor pad(Context& ctx, const Tensor& x, const std::vector<int64_t>& before, const std::vector<int64_t>& after,
           double value) {
  FACET_CHECK(before.size() == static_cast<size_t>(x.rank()) && after.size() == static_cast<size_t>(x.rank()),
              "pad: expected ", x.rank(), " before/after entries for ", shape_str(x.shape()), ", got ", before.size(),
              " and ", after.size());
  for (int a = 0; a < x.rank(); ++a)
    FACET_CHECK(before[a] >= 0 && after[a] >= 0, "pad: negative padding on axis ", a, " (", before[a], ", ",
                after[a], "); use slice to crop");
  backend::check_layout_rank("pad", x);
  Tensor y = pad_raw(ctx, x, before, after, value);
  if (needs_grad(ctx, {&x})) {
    const Shape xs = x.shape();
    record(ctx, "pad", y, {x}, [&ctx, before, xs](const Tensor& gy) -> std::vector<Tensor> {
      return {slice_raw(ctx, gy, before, xs)};
    });
  }
  return y;
}

Tensor slice(Context& ctx, const Tensor& x, const std::vector<int64_t>& begin, const std::vector<int64_t>& end) {
  FACET_CHECK(begin.size() == static_cast<size_t>(x.rank()) && end.size() == static_cast<size_t>(x.rank()),
              "slice: expected ", x.rank(), " begin/end entries for ", shape_str(x.shape()), ", got ", begin.size(),
              " and ", end.size());
  Shape out(begin.size());
  for (int a = 0; a < x.rank(); ++a) {
    FACET_CHECK(0 <= begin[a] && begin[a] <= end[a] && end[a] <= x.dim(a), "slice: range [", begin[a], ", ", end[a],
                ") on axis ", a, " is outside ", shape_str(x.shape()));
    out[a] = end[a] - begin[a];
  }
  backend::check_layout_rank("slice", x);
  Tensor y = slice_raw(ctx, x, begin, out);
  if (needs_grad(ctx, {&x})) {
    std::vector<int64_t> after(begin.size());
    for (int a = 0; a < x.rank(); ++a) after[a] = x.dim(a) - end[a];
    record(ctx, "slice", y, {x}, [&ctx, begin, after](const Tensor& gy) -> std::vector<Tensor> {
      return {pad_raw(ctx, gy, begin, after, 0.0)};
    });
  }
  return y;
}

Tensor slice_axis(Context& ctx, const Tensor& x, int axis, int64_t begin, int64_t end) {
  const int a = norm_axis(axis, x.rank());
  FACET_CHECK(a >= 0 && a < x.rank(), "slice_axis: axis ", axis, " out of range for ", shape_str(x.shape()));
  std::vector<int64_t> b(static_cast<size_t>(x.rank()), 0), e(x.shape().begin(), x.shape().end());
  b[a] = begin;
  e[a] = end;
  return slice(ctx, x, b, e);
}

std::vector<Tensor> split_rows(Context& ctx, const Tensor& x, const std::vector<int64_t>& rows) {
  FACET_CHECK(x.defined() && x.rank() >= 1, "split_rows: expected a tensor of rank >= 1");
  int64_t total = 0;
  for (int64_t r : rows) {
    FACET_CHECK(r >= 0, "split_rows: negative row count ", r, " for ", shape_str(x.shape()));
    total += r;
  }
  FACET_CHECK(total == x.dim(0), "split_rows: pieces of ", total, " rows in all for ", shape_str(x.shape()));
  std::vector<Tensor> pieces;
  int64_t begin = 0;
  const bool grad = needs_grad(ctx, {&x});
  for (int64_t r : rows) {
    Tensor y = x.slice0(begin, begin + r);
    if (grad) {
      std::vector<int64_t> before(static_cast<size_t>(x.rank()), 0), after(static_cast<size_t>(x.rank()), 0);
      before[0] = begin;
      after[0] = x.dim(0) - begin - r;
      record(ctx, "split_rows", y, {x}, [&ctx, before, after](const Tensor& gy) -> std::vector<Tensor> {
        return {pad_raw(ctx, gy, before, after, 0.0)};
      });
    }
    pieces.push_back(y);
    begin += r;
  }
  return pieces;
}

// --- concat -------------------------------------------------------------------------------------

Tensor concat(Context& ctx, const std::vector<Tensor>& xs, int axis) {
  FACET_CHECK(!xs.empty(), "concat: no tensors given");
  const Tensor& x0 = xs[0];
  const int rank = x0.rank();
  const int ax = norm_axis(axis, rank);
  FACET_CHECK(ax >= 0 && ax < rank, "concat: axis ", axis, " out of range for ", shape_str(x0.shape()));
  Shape out = x0.shape();
  out[ax] = 0;
  std::vector<int64_t> sizes;
  for (size_t k = 0; k < xs.size(); ++k) {
    const Tensor& x = xs[k];
    FACET_CHECK(x.defined(), "concat: tensor ", k, " is undefined");
    check_same_device_dtype("concat", x0, x);
    bool ok = x.rank() == rank;
    for (int a = 0; ok && a < rank; ++a) ok = a == ax || x.dim(a) == x0.dim(a);
    FACET_CHECK(ok, "concat: tensor ", k, " has shape ", shape_str(x.shape()), " but tensor 0 has ",
                shape_str(x0.shape()), " (only axis ", ax, " may differ)");
    sizes.push_back(x.dim(ax));
    out[ax] += x.dim(ax);
  }
  int64_t outer, inner;
  concat_geometry(out, ax, &outer, &inner);
  Tensor y = Tensor::empty(ctx, out, x0.dtype(), x0.device());
  const int n = static_cast<int>(xs.size());
  backend::concat(ctx, xs, sizes, y, outer, inner);
  bool any = false;
  for (const Tensor& x : xs) any = any || (ctx.grad_enabled() && x.requires_grad());
  if (any) {
    std::vector<Shape> shapes;
    std::vector<bool> wants;
    for (const Tensor& x : xs) {
      shapes.push_back(x.shape());
      wants.push_back(x.requires_grad());
    }
    record(ctx, "concat", y, xs,
           [&ctx, shapes, wants, sizes, outer, inner, n](const Tensor& gy) -> std::vector<Tensor> {
             std::vector<Tensor> gs(static_cast<size_t>(n));
             for (int k = 0; k < n; ++k)
               if (wants[k]) gs[k] = Tensor::empty(ctx, shapes[k], gy.dtype(), gy.device());
             backend::split(ctx, gy, gs, sizes, outer, inner);
             return gs;
           });
  }
  return y;
}

// --- reshape / permute --------------------------------------------------------------------------

Tensor reshape(Context& ctx, const Tensor& x, const Shape& shape) {
  Shape s = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t a = 0; a < s.size(); ++a) {
    if (s[a] == -1) {
      FACET_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
      infer = static_cast<int>(a);
    } else {
      FACET_CHECK(s[a] >= 0, "reshape: negative size in ", shape_str(shape));
      known *= s[a];
    }
  }
  if (infer >= 0) {
    FACET_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot infer -1 in ", shape_str(shape), " for ",
                shape_str(x.shape()), " (", x.numel(), " elements)");
    s[infer] = x.numel() / known;
  }
  FACET_CHECK(numel(s) == x.numel(), "reshape: ", shape_str(x.shape()), " (", x.numel(), " elements) cannot become ",
              shape_str(shape), " (", numel(s), " elements)");
  Tensor y = x.view(s);
  if (needs_grad(ctx, {&x})) {
    const Shape xs = x.shape();
    record(ctx, "reshape", y, {x}, [xs](const Tensor& gy) -> std::vector<Tensor> { return {gy.view(xs)}; });
  }
  return y;
}

Tensor permute(Context& ctx, const Tensor& x, const std::vector<int>& perm) {
  const int rank = x.rank();
  FACET_CHECK(perm.size() == static_cast<size_t>(rank), "permute: ", perm.size(), " axes given for ",
              shape_str(x.shape()));
  std::vector<int> p(perm.size()), inv(perm.size(), -1);
  for (int a = 0; a < rank; ++a) {
    p[a] = norm_axis(perm[a], rank);
    FACET_CHECK(p[a] >= 0 && p[a] < rank && inv[p[a]] < 0, "permute: {", [&] {
      std::string s;
      for (size_t i = 0; i < perm.size(); ++i) s += (i ? "," : "") + std::to_string(perm[i]);
      return s;
    }(), "} is not a permutation of the axes of ", shape_str(x.shape()));
    inv[p[a]] = a;
  }
  backend::check_layout_rank("permute", x);
  Tensor y = permute_raw(ctx, x, p);
  if (needs_grad(ctx, {&x})) {
    record(ctx, "permute", y, {x}, [&ctx, inv](const Tensor& gy) -> std::vector<Tensor> {
      return {permute_raw(ctx, gy, inv)};
    });
  }
  return y;
}

Tensor transpose(Context& ctx, const Tensor& x, int axis_a, int axis_b) {
  const int a = norm_axis(axis_a, x.rank()), b = norm_axis(axis_b, x.rank());
  FACET_CHECK(a >= 0 && a < x.rank() && b >= 0 && b < x.rank(), "transpose: axes ", axis_a, ", ", axis_b,
              " out of range for ", shape_str(x.shape()));
  std::vector<int> perm(static_cast<size_t>(x.rank()));
  for (int i = 0; i < x.rank(); ++i) perm[i] = i;
  std::swap(perm[a], perm[b]);
  return permute(ctx, x, perm);
}

}  // namespace facet
