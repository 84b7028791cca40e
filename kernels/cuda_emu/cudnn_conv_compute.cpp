// The emulated cuDNN, part 3: the arithmetic of the three convolution passes on the CPU, for
// problems cudnn_convolution.cpp has checked. Two algorithms per pass: a direct one that reads
// the tensors in place and needs no workspace, and a GEMM-style one that unrolls patches into the
// caller's workspace first (im2col / col2im), so that a workspace smaller than the size the
// library reported is caught rather than silently tolerated.
//
// Exact in arithmetic: every algorithm sums its products in a fixed order in the accumulator type
// (float, or double for double data) — the direct ones in the order below, the GEMM-style ones in
// eight interleaved partial sums (dot) — so each gives the same bits on every run;
// padding contributes zero products; the result is scaled, blended with beta * out (out is not
// read when beta == 0) and rounded once to the storage type (round to nearest even). Fixed orders:
//   forward          y[n,k,p]     = sum over taps (r, s), then channels c of the group;
//   backward data    dx[n,c,h,w]  = sum over taps (r, s) of (sum over the group's output maps);
//   backward filter  dw[k,c,r,s]  = sum over images n of (sum over output pixels p).
// Build with -ffp-contract=off so that no multiply-add is fused.
#include <cudnn.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda_emu/cudnn_objects.h"
#include "kernels/cuda_emu/emu_numeric.h"

namespace facet::emu::dnn {
namespace {

constexpr size_t kWorkspaceAlign = 16;  // the workspace pointer is aligned up by at most this much

// Eight running sums (element i goes to sum i % 8), added in lane order, then the tail: a fixed
// order that the compiler can vectorise without reassociating anything.
template <typename A>
A dot(const A* a, const A* b, size_t len) {
  constexpr size_t kLanes = 8;
  A lane[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= len; i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) lane[j] += a[i + j] * b[i + j];
  A sum = 0;
  for (size_t j = 0; j < kLanes; ++j) sum += lane[j];
  for (; i < len; ++i) sum += a[i] * b[i];
  return sum;
}

// The filter tap applied at patch position i of an extent-n filter.
inline int tap(const ConvProblem& p, int i, int n) { return p.flip ? n - 1 - i : i; }

// Input coordinate of output coordinate o at patch position i, or -1 outside the input.
inline int input_coord(int o, int i, int stride, int pad, int dilation, int extent) {
  const int v = o * stride - pad + i * dilation;
  return v >= 0 && v < extent ? v : -1;
}

// Output coordinate whose patch position i reads input coordinate v, or -1 if there is none.
inline int output_coord(int v, int i, int stride, int pad, int dilation, int extent) {
  const int num = v + pad - i * dilation;
  if (num < 0 || num % stride != 0) return -1;
  const int o = num / stride;
  return o < extent ? o : -1;
}

template <typename T, typename A>
struct Pass {
  const ConvProblem& p;
  A alpha, beta;

  long long x_at(int n, int c, int h, int w) const { return n * p.xs[0] + c * p.xs[1] + h * p.xs[2] + w * p.xs[3]; }
  long long y_at(int n, int k, int h, int w) const { return n * p.ys[0] + k * p.ys[1] + h * p.ys[2] + w * p.ys[3]; }
  long long w_at(int k, int c, int r, int s) const {
    return k * p.wst[0] + c * p.wst[1] + tap(p, r, p.r) * p.wst[2] + tap(p, s, p.s) * p.wst[3];
  }
  // An input operand's value as the arithmetic sees it (TF32-rounded when the math type allows).
  A in(const T* base, long long off) const {
    A v = to_acc(base[off]);
    if constexpr (sizeof(A) == sizeof(float)) {
      if (p.tf32) v = round_to_tf32(v);
    }
    return v;
  }
  void store(T* base, long long off, A result) const {
    A v = alpha * result;
    if (beta != A(0)) v += beta * to_acc(base[off]);  // beta == 0: the output is not read (it may hold NaN)
    base[off] = from_acc<T, A>(v);
  }
  // Input value at patch position (r, s) of output pixel (oh, ow), zero in the padding.
  A patch(const T* x, int n, int c, int oh, int ow, int r, int s) const {
    const int ih = input_coord(oh, r, p.stride_h, p.pad_h, p.dilation_h, p.h);
    const int iw = input_coord(ow, s, p.stride_w, p.pad_w, p.dilation_w, p.w);
    return ih < 0 || iw < 0 ? A(0) : in(x, x_at(n, c, ih, iw));
  }
  static A* aligned(void* workspace) {
    const uintptr_t u = reinterpret_cast<uintptr_t>(workspace);
    return reinterpret_cast<A*>((u + kWorkspaceAlign - 1) / kWorkspaceAlign * kWorkspaceAlign);
  }
  size_t taps() const { return static_cast<size_t>(p.r) * p.s; }
  size_t pixels() const { return static_cast<size_t>(p.oh) * p.ow; }

  // ---- forward ----
  void forward_direct(const T* x, const T* w, T* y) const {
    for (int n = 0; n < p.n; ++n)
      for (int k = 0; k < p.k; ++k) {
        const int c0 = k / p.kg * p.cg;
        for (int oh = 0; oh < p.oh; ++oh)
          for (int ow = 0; ow < p.ow; ++ow) {
            A acc = 0;
            for (int r = 0; r < p.r; ++r)
              for (int s = 0; s < p.s; ++s)
                for (int c = 0; c < p.cg; ++c) acc += patch(x, n, c0 + c, oh, ow, r, s) * in(w, w_at(k, c, r, s));
            store(y, y_at(n, k, oh, ow), acc);
          }
      }
  }
  // Workspace: filter [k][r][s][c] then patches [pixel][group][r][s][c] of one image.
  void forward_gemm(const T* x, const T* w, T* y, void* workspace) const {
    const size_t row = taps() * p.cg;
    A* wf = aligned(workspace);
    A* col = wf + static_cast<size_t>(p.k) * row;
    for (int k = 0; k < p.k; ++k)
      for (int r = 0, i = 0; r < p.r; ++r)
        for (int s = 0; s < p.s; ++s)
          for (int c = 0; c < p.cg; ++c, ++i) wf[k * row + i] = in(w, w_at(k, c, r, s));
    for (int n = 0; n < p.n; ++n) {
      A* dst = col;
      for (int oh = 0; oh < p.oh; ++oh)
        for (int ow = 0; ow < p.ow; ++ow)
          for (int g = 0; g < p.groups; ++g)
            for (int r = 0; r < p.r; ++r)
              for (int s = 0; s < p.s; ++s)
                for (int c = 0; c < p.cg; ++c) *dst++ = patch(x, n, g * p.cg + c, oh, ow, r, s);
      for (int k = 0; k < p.k; ++k) {
        const size_t g = k / p.kg;
        for (int oh = 0, q = 0; oh < p.oh; ++oh)
          for (int ow = 0; ow < p.ow; ++ow, ++q)
            store(y, y_at(n, k, oh, ow), dot(wf + k * row, col + (q * p.groups + g) * row, row));
      }
    }
  }

  // ---- backward data ----
  void backward_data_direct(const T* w, const T* dy, T* dx) const {
    for (int n = 0; n < p.n; ++n)
      for (int c = 0; c < p.c; ++c) {
        const int g = c / p.cg, cl = c % p.cg, k0 = g * p.kg;
        for (int ih = 0; ih < p.h; ++ih)
          for (int iw = 0; iw < p.w; ++iw) {
            A acc = 0;
            for (int r = 0; r < p.r; ++r) {
              const int oh = output_coord(ih, r, p.stride_h, p.pad_h, p.dilation_h, p.oh);
              for (int s = 0; s < p.s && oh >= 0; ++s) {
                const int ow = output_coord(iw, s, p.stride_w, p.pad_w, p.dilation_w, p.ow);
                if (ow < 0) continue;
                A partial = 0;
                for (int k = k0; k < k0 + p.kg; ++k) partial += in(w, w_at(k, cl, r, s)) * in(dy, y_at(n, k, oh, ow));
                acc += partial;
              }
            }
            store(dx, x_at(n, c, ih, iw), acc);
          }
      }
  }
  // Workspace: transposed filter [group][r][s][c][k of the group], output gradient of one image
  // [pixel][k], columns [pixel][group][r][s][c] of one image, folded back by col2im.
  void backward_data_gemm(const T* w, const T* dy, T* dx, void* workspace) const {
    const size_t row = taps() * p.cg;
    A* wt = aligned(workspace);
    A* dyf = wt + static_cast<size_t>(p.k) * row;
    A* col = dyf + pixels() * p.k;
    for (int g = 0, i = 0; g < p.groups; ++g)
      for (int r = 0; r < p.r; ++r)
        for (int s = 0; s < p.s; ++s)
          for (int c = 0; c < p.cg; ++c)
            for (int k = g * p.kg; k < (g + 1) * p.kg; ++k, ++i) wt[i] = in(w, w_at(k, c, r, s));
    for (int n = 0; n < p.n; ++n) {
      for (int oh = 0, q = 0; oh < p.oh; ++oh)
        for (int ow = 0; ow < p.ow; ++ow, ++q)
          for (int k = 0; k < p.k; ++k) dyf[q * p.k + k] = in(dy, y_at(n, k, oh, ow));
      for (size_t q = 0; q < pixels(); ++q)
        for (size_t g = 0, i = 0; g < static_cast<size_t>(p.groups); ++g)
          for (size_t j = 0; j < row; ++j, ++i)
            col[q * p.groups * row + i] = dot(wt + i * p.kg, dyf + q * p.k + g * p.kg, p.kg);
      col2im(col, n, dx);
    }
  }
  void col2im(const A* col, int n, T* dx) const {
    const size_t row = taps() * p.cg;
    for (int c = 0; c < p.c; ++c) {
      const int g = c / p.cg, cl = c % p.cg;
      for (int ih = 0; ih < p.h; ++ih)
        for (int iw = 0; iw < p.w; ++iw) {
          A acc = 0;
          for (int r = 0; r < p.r; ++r) {
            const int oh = output_coord(ih, r, p.stride_h, p.pad_h, p.dilation_h, p.oh);
            for (int s = 0; s < p.s && oh >= 0; ++s) {
              const int ow = output_coord(iw, s, p.stride_w, p.pad_w, p.dilation_w, p.ow);
              if (ow < 0) continue;
              const size_t q = static_cast<size_t>(oh) * p.ow + ow;
              acc += col[(q * p.groups + g) * row + (static_cast<size_t>(r) * p.s + s) * p.cg + cl];
            }
          }
          store(dx, x_at(n, c, ih, iw), acc);
        }
    }
  }

  // ---- backward filter ----
  void backward_filter_direct(const T* x, const T* dy, T* dw) const {
    for (int k = 0; k < p.k; ++k) {
      const int c0 = k / p.kg * p.cg;
      for (int c = 0; c < p.cg; ++c)
        for (int r = 0; r < p.r; ++r)
          for (int s = 0; s < p.s; ++s) {
            A acc = 0;
            for (int n = 0; n < p.n; ++n) {
              A partial = 0;
              for (int oh = 0; oh < p.oh; ++oh)
                for (int ow = 0; ow < p.ow; ++ow)
                  partial += patch(x, n, c0 + c, oh, ow, r, s) * in(dy, y_at(n, k, oh, ow));
              acc += partial;
            }
            store(dw, w_at(k, c, r, s), acc);
          }
    }
  }
  // Workspace: sums [k][r][s][c], output gradient of one image [k][pixel], transposed patches
  // [group][r][s][c][pixel] of one image.
  void backward_filter_gemm(const T* x, const T* dy, T* dw, void* workspace) const {
    const size_t row = taps() * p.cg, px = pixels();
    A* sums = aligned(workspace);
    A* dyf = sums + static_cast<size_t>(p.k) * row;
    A* colt = dyf + static_cast<size_t>(p.k) * px;
    std::fill(sums, sums + static_cast<size_t>(p.k) * row, A(0));
    for (int n = 0; n < p.n; ++n) {
      for (int k = 0; k < p.k; ++k)
        for (int oh = 0, q = 0; oh < p.oh; ++oh)
          for (int ow = 0; ow < p.ow; ++ow, ++q) dyf[k * px + q] = in(dy, y_at(n, k, oh, ow));
      A* dst = colt;
      for (int g = 0; g < p.groups; ++g)
        for (int r = 0; r < p.r; ++r)
          for (int s = 0; s < p.s; ++s)
            for (int c = 0; c < p.cg; ++c)
              for (int oh = 0; oh < p.oh; ++oh)
                for (int ow = 0; ow < p.ow; ++ow) *dst++ = patch(x, n, g * p.cg + c, oh, ow, r, s);
      for (int k = 0; k < p.k; ++k) {
        const size_t g = k / p.kg;
        for (size_t j = 0; j < row; ++j) sums[k * row + j] += dot(dyf + k * px, colt + (g * row + j) * px, px);
      }
    }
    for (int k = 0; k < p.k; ++k)
      for (int r = 0, j = 0; r < p.r; ++r)
        for (int s = 0; s < p.s; ++s)
          for (int c = 0; c < p.cg; ++c, ++j) store(dw, w_at(k, c, r, s), sums[k * row + j]);
  }
};

template <typename T, typename A>
void run_typed(const ConvProblem& p, ConvPass pass, int algo, A alpha, const void* in0, const void* in1, A beta,
               void* out, void* workspace) {
  const Pass<T, A> run{p, alpha, beta};
  const T* a = static_cast<const T*>(in0);
  const T* b = static_cast<const T*>(in1);
  T* o = static_cast<T*>(out);
  switch (pass) {
    case ConvPass::Forward:
      if (algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM) run.forward_gemm(a, b, o, workspace);
      else run.forward_direct(a, b, o);
      break;
    case ConvPass::BackwardData:
      if (algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1) run.backward_data_gemm(a, b, o, workspace);
      else run.backward_data_direct(a, b, o);
      break;
    case ConvPass::BackwardFilter:
      if (algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1) run.backward_filter_gemm(a, b, o, workspace);
      else run.backward_filter_direct(a, b, o);
      break;
  }
}

}  // namespace

bool algo_implemented(ConvPass pass, int algo) {
  switch (pass) {
    case ConvPass::Forward:
      return algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM || algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM;
    case ConvPass::BackwardData:
      return algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0 || algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
    case ConvPass::BackwardFilter:
      return algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 || algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
  }
  return false;
}

size_t conv_workspace_bytes(const ConvProblem& p, ConvPass pass, int algo) {
  const size_t acc = p.type == CUDNN_DATA_DOUBLE ? sizeof(double) : sizeof(float);
  const size_t filter = static_cast<size_t>(p.k) * p.r * p.s * p.cg;         // one filter, as accumulators
  const size_t patches = static_cast<size_t>(p.oh) * p.ow * p.r * p.s * p.c;  // one image's unrolled patches
  const size_t gradient = static_cast<size_t>(p.oh) * p.ow * p.k;             // one image's output gradient
  size_t elements = 0;
  if (pass == ConvPass::Forward && algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM) elements = filter + patches;
  if (pass == ConvPass::BackwardData && algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1)
    elements = filter + gradient + patches;
  if (pass == ConvPass::BackwardFilter && algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1)
    elements = filter + gradient + patches;
  return elements ? elements * acc + kWorkspaceAlign : 0;
}

void run_conv(const ConvProblem& p, ConvPass pass, int algo, const void* alpha, const void* in0, const void* in1,
              const void* beta, void* out, void* workspace) {
  const float fa = p.type == CUDNN_DATA_DOUBLE ? 0.f : *static_cast<const float*>(alpha);
  const float fb = p.type == CUDNN_DATA_DOUBLE ? 0.f : *static_cast<const float*>(beta);
  switch (p.type) {
    case CUDNN_DATA_FLOAT: run_typed<float, float>(p, pass, algo, fa, in0, in1, fb, out, workspace); break;
    case CUDNN_DATA_HALF: run_typed<__half, float>(p, pass, algo, fa, in0, in1, fb, out, workspace); break;
    case CUDNN_DATA_BFLOAT16: run_typed<__nv_bfloat16, float>(p, pass, algo, fa, in0, in1, fb, out, workspace); break;
    case CUDNN_DATA_DOUBLE:
      run_typed<double, double>(p, pass, algo, *static_cast<const double*>(alpha), in0, in1,
                                *static_cast<const double*>(beta), out, workspace);
      break;
    default: break;  // refused by the caller's checks
  }
}

}  // namespace facet::emu::dnn
