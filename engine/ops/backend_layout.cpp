// Data-movement primitives (engine/ops/backend.h) over kernels/{cpu,cuda}/layout.h.
#include "engine/ops/backend.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/layout.h"
#include "kernels/cuda/layout.h"

namespace facet::backend {

void shuffle(Context& ctx, bool to_space, const Tensor& x, Tensor& y, int64_t N, int64_t H, int64_t W, int64_t C,
             int64_t r) {
  on_device(
      ctx, to_space ? "pixel_shuffle" : "space_to_depth", x,
      [&](auto t) {
        using T = decltype(t);
        if (to_space) cpu::pixel_shuffle<T>(x.data_as<T>(), y.data_as<T>(), N, H, W, C, r);
        else cpu::space_to_depth<T>(x.data_as<T>(), y.data_as<T>(), N, H, W, C, r);
      },
      [&](auto stream) {
        if (to_space) cuda::pixel_shuffle(x.dtype(), x.data(), y.data(), N, H, W, C, r, stream);
        else cuda::space_to_depth(x.dtype(), x.data(), y.data(), N, H, W, C, r, stream);
      });
}

void pixel_norm_forward(Context& ctx, const Tensor& x, Tensor& y, int64_t N, int64_t D, double eps) {
  on_device(
      ctx, "pixel_norm", x,
      [&](auto t) {
        using T = decltype(t);
        cpu::pixel_norm<T>(x.data_as<T>(), y.data_as<T>(), N, D, eps);
      },
      [&](auto stream) { cuda::pixel_norm(x.dtype(), x.data(), y.data(), N, D, eps, stream); });
}

void pixel_norm_backward(Context& ctx, const Tensor& x, const Tensor& gy, Tensor& gx, int64_t N, int64_t D,
                         double eps) {
  on_device(
      ctx, "pixel_norm", x,
      [&](auto t) {
        using T = decltype(t);
        cpu::pixel_norm_backward<T>(x.data_as<T>(), gy.data_as<T>(), gx.data_as<T>(), N, D, eps);
      },
      [&](auto stream) { cuda::pixel_norm_backward(x.dtype(), x.data(), gy.data(), gx.data(), N, D, eps, stream); });
}

void pad(Context& ctx, const Tensor& x, Tensor& y, const std::vector<int64_t>& before,
         const std::vector<int64_t>& after, double value) {
  on_device(
      ctx, "pad", x,
      [&](auto t) {
        using T = decltype(t);
        cpu::pad<T>(x.data_as<T>(), y.data_as<T>(), x.rank(), x.shape().data(), before.data(), after.data(),
                    static_cast<T>(value));
      },
      [&](auto stream) {
        cuda::pad(x.dtype(), x.data(), y.data(), x.rank(), x.shape().data(), before.data(), after.data(), value,
                  stream);
      });
}

void slice(Context& ctx, const Tensor& x, Tensor& y, const std::vector<int64_t>& begin) {
  on_device(
      ctx, "slice", x,
      [&](auto t) {
        using T = decltype(t);
        cpu::slice<T>(x.data_as<T>(), y.data_as<T>(), x.rank(), x.shape().data(), begin.data(), y.shape().data());
      },
      [&](auto stream) {
        cuda::slice(x.dtype(), x.data(), y.data(), x.rank(), x.shape().data(), begin.data(), y.shape().data(),
                    stream);
      });
}

void permute(Context& ctx, const Tensor& x, Tensor& y, const std::vector<int>& perm) {
  on_device(
      ctx, "permute", x,
      [&](auto t) {
        using T = decltype(t);
        cpu::permute<T>(x.data_as<T>(), y.data_as<T>(), x.rank(), x.shape().data(), perm.data());
      },
      [&](auto stream) {
        cuda::permute(x.dtype(), x.data(), y.data(), x.rank(), x.shape().data(), perm.data(), stream);
      });
}

void concat(Context& ctx, const std::vector<Tensor>& xs, const std::vector<int64_t>& sizes, Tensor& y,
            int64_t outer, int64_t inner) {
  const int n = static_cast<int>(xs.size());
  on_device(
      ctx, "concat", y,
      [&](auto t) {
        using T = decltype(t);
        std::vector<const T*> ptrs;
        for (const Tensor& x : xs) ptrs.push_back(x.data_as<T>());
        cpu::concat<T>(ptrs.data(), sizes.data(), n, y.data_as<T>(), outer, inner);
      },
      [&](auto stream) {
        std::vector<const void*> ptrs;
        for (const Tensor& x : xs) ptrs.push_back(x.data());
        cuda::concat(y.dtype(), ptrs.data(), sizes.data(), n, y.data(), outer, inner, stream);
      });
}

void split(Context& ctx, const Tensor& y, std::vector<Tensor>& parts, const std::vector<int64_t>& sizes,
           int64_t outer, int64_t inner) {
  const int n = static_cast<int>(parts.size());
  on_device(
      ctx, "concat", y,
      [&](auto t) {
        using T = decltype(t);
        std::vector<T*> ptrs;
        for (const Tensor& p : parts) ptrs.push_back(data_or_null<T>(p));
        cpu::split<T>(y.data_as<T>(), ptrs.data(), sizes.data(), n, outer, inner);
      },
      [&](auto stream) {
        std::vector<void*> ptrs;
        for (const Tensor& p : parts) ptrs.push_back(data_or_null(p));
        cuda::split(y.dtype(), y.data(), ptrs.data(), sizes.data(), n, outer, inner, stream);
      });
}

void check_layout_rank(const char* op, const Tensor& x) {
  FACET_CHECK(x.device().is_cpu() || x.rank() <= cuda::kLayoutMaxRank, op, ": CUDA takes at most ",
              cuda::kLayoutMaxRank, " axes, got ", shape_str(x.shape()));
}

}  // namespace facet::backend
