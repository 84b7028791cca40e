// The primitives the engine ops are built from: one function per kernel pair of kernels/cpu and
// kernels/cuda, with one signature over Tensors, running on the device of its tensors (dlib's
// tt:: layer). Ops validate, allocate the outputs and record the backward; these functions only
// run the kernel. Outputs are allocated by the caller and overwritten; an undefined output (a
// gradient nobody needs) is skipped. `op` names the calling op in error messages.
// Implementations: engine/ops/backend_*.cpp, one per kernel family, each over engine/ops/dispatch.h.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/core/context.h"
#include "engine/tensor/tensor.h"
#include "kernels/common/elementwise_ops.h"
#include "kernels/cpu/conv2d.h"

namespace facet::backend {

// ---- elementwise (kernels/*/elementwise.h) ----------------------------------------------------
void unary_forward(Context& ctx, const char* op, UnaryOp u, const Tensor& x, Tensor& y, double alpha);
void unary_backward(Context& ctx, const char* op, UnaryOp u, const Tensor& x, const Tensor& y, const Tensor& gy,
                    Tensor& gx, double alpha);
void binary_forward(Context& ctx, const char* op, BinaryOp b, const Tensor& a, const Tensor& bt, Tensor& y,
                    const BroadcastGeom& g);
void reduce_sum(Context& ctx, const char* op, const Tensor& x, Tensor& y, const ReduceGeom& g, double scale);
void axpy(Context& ctx, const char* op, double alpha, const Tensor& x, Tensor& y);  // y += alpha * x

// ---- linear (kernels/*/matmul.h) --------------------------------------------------------------
// c[M, N] = op(a) op(b).
void matmul(Context& ctx, const Tensor& a, const Tensor& b, Tensor& c, int64_t M, int64_t N, int64_t K, bool trans_a,
            bool trans_b);
// y[rows, out] = x[rows, in] w[in, out]; on the CPU each row on its own, so that a sample's output
// never depends on the batch it came in.
void dense_forward(Context& ctx, const Tensor& x, const Tensor& w, Tensor& y, int64_t rows, int64_t in, int64_t out);
void bias_add(Context& ctx, const char* op, const Tensor& x, const Tensor& b, Tensor& y, int64_t rows, int64_t C);
void bias_grad(Context& ctx, const char* op, const Tensor& dy, Tensor& db, int64_t rows, int64_t C);
void prelu_forward(Context& ctx, const Tensor& x, const Tensor& alpha, Tensor& y, int64_t rows, int64_t C);
void prelu_backward(Context& ctx, const Tensor& x, const Tensor& alpha, const Tensor& gy, Tensor& gx, Tensor& ga,
                    int64_t rows, int64_t C);

// ---- convolution (kernels/*/conv2d.h) ---------------------------------------------------------
// leaky_slope > 0: y = leaky_relu(conv + bias) in the same pass where the backend can (oneDNN's
// post-op), else as a second in-place pass; 0: no activation.
void conv2d_forward(Context& ctx, const cpu::Conv2dGeom& g, const Tensor& x, const Tensor& w, const Tensor& bias,
                    Tensor& y, double leaky_slope = 0);
// Whichever of gx, gw, gb is defined; one scratch buffer serves backward-data and -filter.
void conv2d_backward(Context& ctx, const cpu::Conv2dGeom& g, const Tensor& x, const Tensor& w, const Tensor& gy,
                     Tensor& gx, Tensor& gw, Tensor& gb);
void depthwise_conv2d_forward(Context& ctx, const cpu::Conv2dGeom& g, const Tensor& x, const Tensor& w,
                              const Tensor& bias, Tensor& y);
void depthwise_conv2d_backward(Context& ctx, const cpu::Conv2dGeom& g, const Tensor& x, const Tensor& w,
                               const Tensor& gy, Tensor& gx, Tensor& gw, Tensor& gb);

// ---- layout (kernels/*/layout.h) --------------------------------------------------------------
// to_space: x [N,H,W,C*r*r] -> y [N,H*r,W*r,C] (pixel shuffle); otherwise the inverse
// (space to depth). H, W are the low-resolution sizes, C the high-resolution channels.
void shuffle(Context& ctx, bool to_space, const Tensor& x, Tensor& y, int64_t N, int64_t H, int64_t W, int64_t C,
             int64_t r);
void pixel_norm_forward(Context& ctx, const Tensor& x, Tensor& y, int64_t N, int64_t D, double eps);
void pixel_norm_backward(Context& ctx, const Tensor& x, const Tensor& gy, Tensor& gx, int64_t N, int64_t D,
                         double eps);
void pad(Context& ctx, const Tensor& x, Tensor& y, const std::vector<int64_t>& before,
         const std::vector<int64_t>& after, double value);
void slice(Context& ctx, const Tensor& x, Tensor& y, const std::vector<int64_t>& begin);
void permute(Context& ctx, const Tensor& x, Tensor& y, const std::vector<int>& perm);
// y = the xs side by side along the middle axis of an [outer, sizes[k], inner] view; split is
// the inverse (an undefined part is skipped).
void concat(Context& ctx, const std::vector<Tensor>& xs, const std::vector<int64_t>& sizes, Tensor& y,
            int64_t outer, int64_t inner);
void split(Context& ctx, const Tensor& y, std::vector<Tensor>& parts, const std::vector<int64_t>& sizes,
           int64_t outer, int64_t inner);
// Refuses a tensor with more axes than the device's layout kernels take.
void check_layout_rank(const char* op, const Tensor& x);

// ---- losses (kernels/*/losses.h) --------------------------------------------------------------
void dssim_forward(Context& ctx, const Tensor& a, const Tensor& b, int64_t fs, double sigma, Tensor& loss);
void dssim_backward(Context& ctx, const Tensor& a, const Tensor& b, int64_t fs, double sigma, const Tensor& gy,
                    Tensor& ga, Tensor& gb);
enum class PointwiseLoss { Mse, L1 };
// Per-sample loss of a, b viewed as [N, M] with C channels; mask_c: 0 (no mask), 1 or C.
void pointwise_loss_forward(Context& ctx, const char* op, PointwiseLoss kind, const Tensor& a, const Tensor& b,
                            const Tensor& mask, int64_t mask_c, Tensor& loss);
void pointwise_loss_backward(Context& ctx, const char* op, PointwiseLoss kind, const Tensor& a, const Tensor& b,
                             const Tensor& mask, int64_t mask_c, const Tensor& gy, Tensor& ga, Tensor& gb);

// ---- blur (kernels/*/blur.h) ------------------------------------------------------------------
void gaussian_blur(Context& ctx, const Tensor& x, Tensor& y, double sigma, int64_t kernel_size);

// ---- pooling and resize (kernels/*/pool_resize.h) ---------------------------------------------
struct PoolGeom {
  int64_t N, H, W, C, kh, kw, sh, sw, pad_top, pad_left, OH, OW;
};
void max_pool2d_forward(Context& ctx, const PoolGeom& g, const Tensor& x, Tensor& y);
void max_pool2d_backward(Context& ctx, const PoolGeom& g, const Tensor& x, const Tensor& gy, Tensor& gx);
void resize_bilinear_forward(Context& ctx, const Tensor& x, Tensor& y);   // sizes from the shapes
void resize_bilinear_backward(Context& ctx, const Tensor& gy, Tensor& gx);

}  // namespace facet::backend
