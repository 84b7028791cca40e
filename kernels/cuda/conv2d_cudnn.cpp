// Regular convolution on cuDNN's legacy (v7-style, still shipped in v9) API: NHWC tensors, KRSC
// filters (= our OHWI), cross-correlation, fp32 compute. A "plan" per problem holds the
// descriptors, the three chosen algorithms and their workspace sizes; ConvAlgoCache keeps plans
// so a training step queries nothing and allocates nothing after its first iteration.
//
// Workspace layout (conv2d_workspace_bytes): [padded input / padded input gradient, only for
// asymmetric pads][cuDNN scratch, also reused by the bias-gradient partial sums].
#include <cudnn.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <string>

#include "kernels/cuda/check.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/launch_count.h"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/runtime.h"

namespace facet::cuda {

namespace {

size_t align256(size_t b) { return (b + 255) / 256 * 256; }

cudnnDataType_t cudnn_type(DType dt) {
  switch (dt) {
    case DType::F32: return CUDNN_DATA_FLOAT;
    case DType::BF16: return CUDNN_DATA_BFLOAT16;
    default: throw Error(std::string("conv2d: CUDA supports f32 and bf16, not ") + dtype_name(dt));
  }
}

using PlanKey = std::array<int64_t, 16>;

PlanKey plan_key(const Handles& h, DType dt, const Conv2dGeom& g, bool det) {
  return {h.device, static_cast<int64_t>(dt), det ? 1 : 0, g.n, g.h, g.w, g.c, g.k, g.kh, g.kw,
          g.stride_h, g.stride_w, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right};
}

struct Plan {
  cudnnTensorDescriptor_t xd = nullptr, yd = nullptr;
  cudnnFilterDescriptor_t wd = nullptr;
  cudnnConvolutionDescriptor_t cd = nullptr;
  cudnnConvolutionFwdAlgo_t fwd{};
  cudnnConvolutionBwdDataAlgo_t bwd_data{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter{};
  size_t fwd_bytes = 0, bwd_data_bytes = 0, bwd_filter_bytes = 0;
  // The input cuDNN sees: [n, hp, wp, c] holding x at (top, left); equal to x when pads are symmetric.
  bool asymmetric = false;
  int64_t hp = 0, wp = 0, top = 0, left = 0;
  size_t pad_bytes = 0;      // aligned size of the padded-input region (0 when symmetric)
  size_t scratch_bytes = 0;  // cuDNN / bias scratch after it
  size_t total_bytes() const { return pad_bytes + scratch_bytes; }

  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {
    if (cd) cudnnDestroyConvolutionDescriptor(cd);
    if (wd) cudnnDestroyFilterDescriptor(wd);
    if (yd) cudnnDestroyTensorDescriptor(yd);
    if (xd) cudnnDestroyTensorDescriptor(xd);
  }
};

template <typename Perf>
int pick(const Perf* perf, int count, bool det, const char* what) {
  for (int i = 0; i < count; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    if (det && perf[i].determinism != CUDNN_DETERMINISTIC) continue;
    return i;
  }
  throw Error(std::string("conv2d: cuDNN offers no ") + (det ? "deterministic " : "") + what +
                           " algorithm for this problem");
}

std::unique_ptr<Plan> make_plan(const Handles& h, DType dt, const Conv2dGeom& g, bool det) {
  auto p = std::make_unique<Plan>();
  cudnnHandle_t dn = static_cast<cudnnHandle_t>(h.cudnn);
  const cudnnDataType_t t = cudnn_type(dt);
  const int64_t sym_h = std::min(g.pad_top, g.pad_bottom), sym_w = std::min(g.pad_left, g.pad_right);
  p->top = g.pad_top - sym_h;
  p->left = g.pad_left - sym_w;
  p->hp = g.h + p->top + (g.pad_bottom - sym_h);
  p->wp = g.w + p->left + (g.pad_right - sym_w);
  p->asymmetric = p->hp != g.h || p->wp != g.w;
  p->pad_bytes = p->asymmetric ? align256(static_cast<size_t>(g.n * p->hp * p->wp * g.c) * dtype_size(dt)) : 0;

  FACET_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->xd));
  FACET_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->yd));
  FACET_CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->wd));
  FACET_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->cd));
  FACET_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->xd, CUDNN_TENSOR_NHWC, t, (int)g.n, (int)g.c, (int)p->hp, (int)p->wp));
  FACET_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->yd, CUDNN_TENSOR_NHWC, t, (int)g.n, (int)g.k, (int)g.oh, (int)g.ow));
  FACET_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->wd, t, CUDNN_TENSOR_NHWC, (int)g.k, (int)g.c, (int)g.kh, (int)g.kw));
  FACET_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p->cd, (int)sym_h, (int)sym_w, (int)g.stride_h, (int)g.stride_w,
                                                    1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  // f32 stays true fp32 (no TF32) so GPU results match the CPU reference; bf16 is the fast path.
  FACET_CUDNN_CHECK(cudnnSetConvolutionMathType(p->cd, dt == DType::BF16 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));

  int n_out, c_out, h_out, w_out;
  FACET_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(p->cd, p->xd, p->wd, &n_out, &c_out, &h_out, &w_out));
  if (h_out != g.oh || w_out != g.ow || c_out != g.k)
    throw Error("conv2d: cuDNN computes output " + std::to_string(h_out) + "x" + std::to_string(w_out) +
                             ", expected " + std::to_string(g.oh) + "x" + std::to_string(g.ow));

  {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    FACET_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(dn, p->xd, p->wd, p->cd, p->yd,
                                                             CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf));
    p->fwd = perf[pick(perf, n, det, "forward")].algo;
    FACET_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(dn, p->xd, p->wd, p->cd, p->yd, p->fwd, &p->fwd_bytes));
  }
  {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int n = 0;
    FACET_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(dn, p->wd, p->yd, p->cd, p->xd,
                                                                  CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf));
    p->bwd_data = perf[pick(perf, n, det, "backward-data")].algo;
    FACET_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(dn, p->wd, p->yd, p->cd, p->xd, p->bwd_data,
                                                                   &p->bwd_data_bytes));
  }
  {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int n = 0;
    FACET_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(dn, p->xd, p->yd, p->cd, p->wd,
                                                                    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf));
    p->bwd_filter = perf[pick(perf, n, det, "backward-filter")].algo;
    FACET_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(dn, p->xd, p->yd, p->cd, p->wd, p->bwd_filter,
                                                                     &p->bwd_filter_bytes));
  }
  size_t scratch = std::max({p->fwd_bytes, p->bwd_data_bytes, p->bwd_filter_bytes,
                             column_reduce_workspace_bytes(g.out_pixels(), g.k)});
  p->scratch_bytes = align256(scratch);
  return p;
}

}  // namespace

struct ConvAlgoCache::Impl {
  std::mutex mu;
  std::map<PlanKey, std::unique_ptr<Plan>> plans;
};

ConvAlgoCache::ConvAlgoCache() : impl_(std::make_unique<Impl>()) {}
ConvAlgoCache::~ConvAlgoCache() = default;
size_t ConvAlgoCache::size() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->plans.size();
}

namespace {

// Runs fn(plan) with a cached plan, or with a temporary one when there is no cache.
template <typename Fn>
void with_plan(const Handles& h, DType dt, const Conv2dGeom& g, const ConvConfig& cfg, Fn&& fn) {
  if (!cfg.cache) {
    auto p = make_plan(h, dt, g, cfg.deterministic);
    fn(*p);
    return;
  }
  ConvAlgoCache::Impl& c = cfg.cache->impl();
  const PlanKey key = plan_key(h, dt, g, cfg.deterministic);
  Plan* plan;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.plans.find(key);
    if (it == c.plans.end()) it = c.plans.emplace(key, make_plan(h, dt, g, cfg.deterministic)).first;
    plan = it->second.get();  // plans are never evicted, so the pointer outlives the lock
  }
  fn(*plan);
}

// cuDNN rejects zero-sized tensors; such problems are handled before a plan is made.
bool empty_problem(const Conv2dGeom& g) { return g.n == 0 || g.c == 0 || g.k == 0 || g.oh == 0 || g.ow == 0; }

void check_workspace(const Plan& p, size_t have) {
  if (have < p.total_bytes())
    throw Error("conv2d: workspace of " + std::to_string(have) + " bytes, need " +
                             std::to_string(p.total_bytes()) + " (ask conv2d_workspace_bytes)");
}

}  // namespace

size_t conv2d_workspace_bytes(const Handles& h, DType dt, const Conv2dGeom& g, const ConvConfig& cfg) {
  if (empty_problem(g)) return 0;
  size_t bytes = 0;
  with_plan(h, dt, g, cfg, [&](const Plan& p) { bytes = p.total_bytes(); });
  return bytes;
}

void conv2d_forward(const Handles& h, DType dt, const Conv2dGeom& g, const void* x, const void* w, const void* bias,
                    void* y, void* workspace, size_t workspace_bytes, const ConvConfig& cfg) {
  if (g.n == 0 || g.k == 0 || g.oh == 0 || g.ow == 0) return;
  const size_t ybytes = static_cast<size_t>(g.out_pixels() * g.k) * dtype_size(dt);
  if (g.c == 0) {
    memset_zero(y, ybytes, h.stream);
  } else {
    with_plan(h, dt, g, cfg, [&](const Plan& p) {
      check_workspace(p, workspace_bytes);
      const void* xin = x;
      if (p.asymmetric) {
        conv2d_pad_input(dt, g, p.top, p.left, p.hp, p.wp, x, workspace, h.stream);
        xin = workspace;
      }
      const float one = 1.f, zero = 0.f;
      count_launch();
      FACET_CUDNN_CHECK(cudnnConvolutionForward(static_cast<cudnnHandle_t>(h.cudnn), &one, p.xd, xin, p.wd, w, p.cd,
                                                p.fwd, static_cast<char*>(workspace) + p.pad_bytes, p.fwd_bytes, &zero,
                                                p.yd, y));
    });
  }
  if (bias) bias_add(dt, y, bias, y, g.out_pixels(), g.k, h.stream);
}

void conv2d_backward_data(const Handles& h, DType dt, const Conv2dGeom& g, const void* dy, const void* w, void* dx,
                          void* workspace, size_t workspace_bytes, const ConvConfig& cfg) {
  const size_t dxbytes = static_cast<size_t>(g.n * g.h * g.w * g.c) * dtype_size(dt);
  if (dxbytes == 0) return;
  if (empty_problem(g)) {
    memset_zero(dx, dxbytes, h.stream);
    return;
  }
  with_plan(h, dt, g, cfg, [&](const Plan& p) {
    check_workspace(p, workspace_bytes);
    void* dxout = p.asymmetric ? workspace : dx;
    const float one = 1.f, zero = 0.f;
    count_launch();
    FACET_CUDNN_CHECK(cudnnConvolutionBackwardData(static_cast<cudnnHandle_t>(h.cudnn), &one, p.wd, w, p.yd, dy, p.cd,
                                                   p.bwd_data, static_cast<char*>(workspace) + p.pad_bytes,
                                                   p.bwd_data_bytes, &zero, p.xd, dxout));
    if (p.asymmetric) conv2d_crop_grad(dt, g, p.top, p.left, p.hp, p.wp, workspace, dx, h.stream);
  });
}

void conv2d_backward_filter(const Handles& h, DType dt, const Conv2dGeom& g, const void* x, const void* dy, void* dw,
                            void* dbias, void* workspace, size_t workspace_bytes, const ConvConfig& cfg) {
  const size_t dwbytes = static_cast<size_t>(g.k * g.kh * g.kw * g.c) * dtype_size(dt);
  if (empty_problem(g)) {
    if (dwbytes) memset_zero(dw, dwbytes, h.stream);
    if (dbias && g.k) memset_zero(dbias, static_cast<size_t>(g.k) * dtype_size(dt), h.stream);
    return;
  }
  with_plan(h, dt, g, cfg, [&](const Plan& p) {
    check_workspace(p, workspace_bytes);
    char* scratch = static_cast<char*>(workspace) + p.pad_bytes;
    // stream order: the bias partials are consumed before cuDNN reuses the scratch region
    if (dbias) bias_grad(dt, dy, dbias, g.out_pixels(), g.k, scratch, h.stream);
    const void* xin = x;
    if (p.asymmetric) {
      conv2d_pad_input(dt, g, p.top, p.left, p.hp, p.wp, x, workspace, h.stream);
      xin = workspace;
    }
    const float one = 1.f, zero = 0.f;
    count_launch();
    FACET_CUDNN_CHECK(cudnnConvolutionBackwardFilter(static_cast<cudnnHandle_t>(h.cudnn), &one, p.xd, xin, p.yd, dy,
                                                     p.cd, p.bwd_filter, scratch, p.bwd_filter_bytes, &zero, p.wd,
                                                     dw));
  });
}

}  // namespace facet::cuda
