// The emulated cuDNN, part 2: the convolution calls of cuDNN's legacy API that facet makes — the
// algorithm heuristics (cudnnGetConvolution*Algorithm_v7), the workspace sizes and the forward,
// backward-data and backward-filter passes — written from NVIDIA's cuDNN API reference. This file
// checks every argument and hands a resolved ConvProblem to cudnn_conv_compute.cpp.
//
// The emulator is a test backend, strict where cuDNN is strict or the behaviour is undefined:
// descriptors created and set, data types matching and in the supported-configurations tables
// (FLOAT, DOUBLE, PSEUDO_HALF and PSEUDO_BFLOAT16: half and bfloat16 data with a FLOAT compute
// type; TRUE_HALF and the integer configurations are not modelled), channels consistent with the
// group count, the output shaped as cudnnGetConvolution2dForwardOutputDim says, an implemented
// algorithm, a workspace at least as large as that algorithm needs, every data pointer aligned and
// device-accessible over exactly the bytes the pass touches, a live handle on a live stream. The
// statuses are the documented ones; empty tensors, which cuDNN refuses, are refused too. Float data
// whose math type is not CUDNN_FMA_MATH may run on TF32 tensor cores from compute capability 8.0
// on, and the emulator rounds its inputs to TF32 in that case. Every refusal is reported through
// report_misuse before its status returns.
#include <cudnn.h>

#include <cstdint>
#include <mutex>
#include <string>

#include "kernels/cuda_emu/cudnn_objects.h"
#include "kernels/cuda_emu/emu_state.h"

namespace facet::emu::dnn {
namespace {

using Lock = std::lock_guard<std::recursive_mutex>;

// What the checks are for: a query (heuristics, workspace size) or running the pass.
struct Use {
  ConvPass pass;
  bool runs;
  const char* call;
};

std::string dims(const cudnnTensorStruct& t) {
  return "[" + std::to_string(t.n) + ", " + std::to_string(t.c) + ", " + std::to_string(t.h) + ", " +
         std::to_string(t.w) + "]";
}

// The data/compute type pairs of the supported-configurations tables that the emulator models.
cudnnStatus_t check_configuration(const cudnnTensorStruct& x, const cudnnFilterStruct& w, const cudnnTensorStruct& y,
                                  const cudnnConvolutionStruct& conv, const char* call) {
  if (x.type != w.type || x.type != y.type)
    return refuse(CUDNN_STATUS_BAD_PARAM, call, "the tensors and the filter do not have the same data type");
  const bool float_compute = conv.compute == CUDNN_DATA_FLOAT;
  const bool ok = (x.type == CUDNN_DATA_FLOAT && float_compute) || (x.type == CUDNN_DATA_DOUBLE && conv.compute == CUDNN_DATA_DOUBLE) ||
                  (x.type == CUDNN_DATA_HALF && float_compute) || (x.type == CUDNN_DATA_BFLOAT16 && float_compute);
  if (!ok)
    return refuse(CUDNN_STATUS_NOT_SUPPORTED, call,
                  "data type " + std::to_string(static_cast<int>(x.type)) + " with compute type " +
                      std::to_string(static_cast<int>(conv.compute)) +
                      " is not a supported configuration (the emulator models FLOAT, DOUBLE, PSEUDO_HALF and "
                      "PSEUDO_BFLOAT16)");
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t check_shapes(const cudnnTensorStruct& x, const cudnnFilterStruct& w, const cudnnTensorStruct& y,
                           const cudnnConvolutionStruct& conv, const Use& use) {
  if (x.n == 0 || x.c == 0 || x.h == 0 || x.w == 0 || w.k == 0 || w.c == 0 || w.h == 0 || w.w == 0)
    return refuse(CUDNN_STATUS_BAD_PARAM, use.call, "empty tensors are not accepted");
  if (w.k % conv.groups != 0)
    return refuse(use.pass == ConvPass::Forward || !use.runs ? CUDNN_STATUS_BAD_PARAM : CUDNN_STATUS_NOT_SUPPORTED,
                  use.call,
                  "the filter's " + std::to_string(w.k) + " output maps are not a multiple of the group count " +
                      std::to_string(conv.groups));
  int out[4];
  std::string problem;
  if (!forward_output_dims(conv, x, w, out, problem)) return refuse(CUDNN_STATUS_BAD_PARAM, use.call, problem);
  if (y.n != out[0] || y.c != out[1])
    return refuse(CUDNN_STATUS_BAD_PARAM, use.call,
                  "the output is " + dims(y) + " but the convolution gives " + std::to_string(out[0]) + " images of " +
                      std::to_string(out[1]) + " maps");
  if (y.h != out[2] || y.w != out[3])  // documented as NOT_SUPPORTED for the forward pass, BAD_PARAM otherwise
    return refuse(use.runs && use.pass == ConvPass::Forward ? CUDNN_STATUS_NOT_SUPPORTED : CUDNN_STATUS_BAD_PARAM,
                  use.call,
                  "the output is " + dims(y) + " but cudnnGetConvolution2dForwardOutputDim gives " +
                      std::to_string(out[2]) + "x" + std::to_string(out[3]) + " pixels");
  for (const cudnnTensorStruct* t : {&x, &y})
    if (t->ns <= 0 || t->cs <= 0 || t->hs <= 0 || t->ws <= 0)
      return refuse(CUDNN_STATUS_NOT_SUPPORTED, use.call, "tensor strides must be positive");
  return CUDNN_STATUS_SUCCESS;
}

ConvProblem make_problem(const cudnnTensorStruct& x, const cudnnFilterStruct& w, const cudnnTensorStruct& y,
                         const cudnnConvolutionStruct& conv) {
  ConvProblem p;
  p.n = x.n, p.c = x.c, p.h = x.h, p.w = x.w;
  p.k = w.k, p.r = w.h, p.s = w.w;
  p.oh = y.h, p.ow = y.w;
  p.groups = conv.groups, p.cg = w.c, p.kg = w.k / conv.groups;
  p.pad_h = conv.pad_h, p.pad_w = conv.pad_w, p.stride_h = conv.stride_h, p.stride_w = conv.stride_w;
  p.dilation_h = conv.dilation_h, p.dilation_w = conv.dilation_w;
  p.flip = conv.mode == CUDNN_CONVOLUTION;
  const long long xs[4] = {x.ns, x.cs, x.hs, x.ws}, ys[4] = {y.ns, y.cs, y.hs, y.ws};
  const long long rs = static_cast<long long>(w.h) * w.w;
  const long long ks[4] = {w.c * rs, rs, w.w, 1};                                       // KCRS
  const long long kr[4] = {rs * w.c, 1, static_cast<long long>(w.w) * w.c, w.c};        // KRSC
  for (int i = 0; i < 4; ++i) {
    p.xs[i] = xs[i];
    p.ys[i] = ys[i];
    p.wst[i] = w.format == CUDNN_TENSOR_NHWC ? kr[i] : ks[i];
  }
  p.type = x.type;
  p.tf32 = x.type == CUDNN_DATA_FLOAT && conv.math != CUDNN_FMA_MATH && device_properties().major >= 8;
  return p;
}

// Checks the descriptors of one pass and resolves them. x/y are the input/output of the forward
// convolution whichever pass it is (for the backward passes they describe dx/dy).
cudnnStatus_t resolve(cudnnTensorDescriptor_t xd, cudnnFilterDescriptor_t wd, cudnnConvolutionDescriptor_t cd,
                      cudnnTensorDescriptor_t yd, const Use& use, ConvProblem& out) {
  const bool fwd = use.pass == ConvPass::Forward;
  if (cudnnStatus_t s = check_convolution(cd, use.call)) return s;
  if (cudnnStatus_t s = check_tensor(xd, use.call, fwd ? "x descriptor" : "dx/x descriptor")) return s;
  if (cudnnStatus_t s = check_filter(wd, use.call, "filter descriptor")) return s;
  if (cudnnStatus_t s = check_tensor(yd, use.call, fwd ? "y descriptor" : "dy descriptor")) return s;
  if (cudnnStatus_t s = check_configuration(*xd, *wd, *yd, *cd, use.call)) return s;
  if (cudnnStatus_t s = check_shapes(*xd, *wd, *yd, *cd, use)) return s;
  out = make_problem(*xd, *wd, *yd, *cd);
  return CUDNN_STATUS_SUCCESS;
}

int algo_count(ConvPass pass) {
  switch (pass) {
    case ConvPass::Forward: return CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
    case ConvPass::BackwardData: return CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
    case ConvPass::BackwardFilter: return CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  }
  return 0;
}

cudnnStatus_t check_algo(ConvPass pass, int algo, const char* call) {
  if (algo < 0 || algo >= algo_count(pass))
    return refuse(CUDNN_STATUS_BAD_PARAM, call, "algorithm " + std::to_string(algo) + " is invalid");
  if (!algo_implemented(pass, algo))
    return refuse(CUDNN_STATUS_NOT_SUPPORTED, call,
                  "algorithm " + std::to_string(algo) + " is not implemented by the emulator for this pass");
  return CUDNN_STATUS_SUCCESS;
}

// The heuristics' ranking: the implemented algorithms first, the GEMM-style ones ahead (they are
// the faster ones here, and callers exercise a workspace), then every other algorithm marked
// CUDNN_STATUS_NOT_SUPPORTED.
// As in cuDNN, BWD_DATA_ALGO_0, BWD_FILTER_ALGO_0 and BWD_FILTER_ALGO_3 are non-deterministic.
void ranking(ConvPass pass, int order[8], int& count) {
  static const int fwd[] = {CUDNN_CONVOLUTION_FWD_ALGO_GEMM,         CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                            CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, CUDNN_CONVOLUTION_FWD_ALGO_DIRECT,
                            CUDNN_CONVOLUTION_FWD_ALGO_FFT,          CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING,
                            CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD,     CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED};
  static const int data[] = {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1,        CUDNN_CONVOLUTION_BWD_DATA_ALGO_0,
                             CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT,      CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING,
                             CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD, CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED};
  static const int filter[] = {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1,        CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0,
                               CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT,      CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3,
                               CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED,
                               CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING};
  const int* src = pass == ConvPass::Forward ? fwd : pass == ConvPass::BackwardData ? data : filter;
  count = algo_count(pass);
  for (int i = 0; i < count; ++i) order[i] = src[i];
}

bool deterministic(ConvPass pass, int algo) {
  if (pass == ConvPass::BackwardData) return algo != CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
  if (pass == ConvPass::BackwardFilter)
    return algo != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 && algo != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
  return true;
}

// Fills perf[0, returned) with the ranking (Perf is one of the three *AlgoPerf_t structs).
template <typename Perf, typename Algo>
cudnnStatus_t heuristics(cudnnHandle_t handle, cudnnTensorDescriptor_t xd, cudnnFilterDescriptor_t wd,
                         cudnnConvolutionDescriptor_t cd, cudnnTensorDescriptor_t yd, int requested, int* returned,
                         Perf* perf, const Use& use) {
  Lock lock(device_lock());
  if (cudnnStatus_t s = check_handle(handle, use.call)) return s;
  ConvProblem p;
  if (cudnnStatus_t s = resolve(xd, wd, cd, yd, use, p)) return s;
  if (!returned || !perf) return refuse(CUDNN_STATUS_BAD_PARAM, use.call, "returnedAlgoCount or perfResults is NULL");
  if (requested <= 0)
    return refuse(CUDNN_STATUS_BAD_PARAM, use.call, "requestedAlgoCount " + std::to_string(requested) + " is not positive");
  int order[8], count = 0;
  ranking(use.pass, order, count);
  if (count > requested) count = requested;
  for (int i = 0; i < count; ++i) {
    Perf& e = perf[i];
    e = Perf{};
    e.algo = static_cast<Algo>(order[i]);
    const bool implemented = algo_implemented(use.pass, order[i]);
    e.status = implemented ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_NOT_SUPPORTED;
    e.time = -1.f;  // a heuristic estimate, nothing was timed
    e.memory = implemented ? conv_workspace_bytes(p, use.pass, order[i]) : 0;
    e.determinism = deterministic(use.pass, order[i]) ? CUDNN_DETERMINISTIC : CUDNN_NON_DETERMINISTIC;
    e.mathType = cd->math;
  }
  *returned = count;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t workspace_size(cudnnHandle_t handle, cudnnTensorDescriptor_t xd, cudnnFilterDescriptor_t wd,
                             cudnnConvolutionDescriptor_t cd, cudnnTensorDescriptor_t yd, int algo, size_t* bytes,
                             const Use& use) {
  Lock lock(device_lock());
  if (cudnnStatus_t s = check_handle(handle, use.call)) return s;
  ConvProblem p;
  if (cudnnStatus_t s = resolve(xd, wd, cd, yd, use, p)) return s;
  if (!bytes) return refuse(CUDNN_STATUS_BAD_PARAM, use.call, "sizeInBytes is NULL");
  if (cudnnStatus_t s = check_algo(use.pass, algo, use.call)) return s;
  *bytes = conv_workspace_bytes(p, use.pass, algo);
  return CUDNN_STATUS_SUCCESS;
}

// Bytes from the first to one past the last element a tensor touches through its strides.
size_t tensor_span(const cudnnTensorStruct& t) {
  const long long last = (t.n - 1) * t.ns + (t.c - 1) * t.cs + (t.h - 1) * t.hs + (t.w - 1) * t.ws;
  return static_cast<size_t>(last + 1) * element_bytes(t.type);
}

size_t filter_span(const cudnnFilterStruct& f) {
  return static_cast<size_t>(f.k) * f.c * f.h * f.w * element_bytes(f.type);
}

cudnnStatus_t check_data(const void* p, size_t bytes, size_t elem, const char* name, const char* call) {
  const std::string what = std::string(name) + " (" + std::to_string(bytes) + " bytes)";
  if (!p) return refuse(CUDNN_STATUS_BAD_PARAM, call, std::string(name) + " is NULL");
  if (reinterpret_cast<uintptr_t>(p) % elem != 0)
    return refuse(CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER, call, what + " is not aligned to its element size");
  if (!device_accessible(p, bytes))
    return refuse(CUDNN_STATUS_BAD_PARAM, call,
                  what + " is not device-accessible memory: host pointer, freed allocation, or a range running "
                         "past its allocation");
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t check_workspace(const ConvProblem& p, ConvPass pass, int algo, const void* ws, size_t bytes,
                              const char* call) {
  const size_t need = conv_workspace_bytes(p, pass, algo);
  if (need == 0) return CUDNN_STATUS_SUCCESS;
  if (bytes < need)
    return refuse(CUDNN_STATUS_BAD_PARAM, call,
                  "workSpaceSizeInBytes " + std::to_string(bytes) + " is below the " + std::to_string(need) +
                      " bytes algorithm " + std::to_string(algo) + " needs");
  if (!ws) return refuse(CUDNN_STATUS_BAD_PARAM, call, "the workspace is NULL");
  if (!device_accessible(ws, bytes))
    return refuse(CUDNN_STATUS_BAD_PARAM, call,
                  "the workspace (" + std::to_string(bytes) + " bytes) is not device-accessible memory");
  return CUDNN_STATUS_SUCCESS;
}

struct PassData {
  const void *alpha, *beta;
  const void *in0, *in1;  // (x, w) forward, (w, dy) backward data, (x, dy) backward filter
  void* out;
  void* workspace;
  size_t workspace_bytes;
};

// The common body of the three passes: every check, then the arithmetic.
cudnnStatus_t run_pass(cudnnHandle_t handle, cudnnTensorDescriptor_t xd, cudnnFilterDescriptor_t wd,
                       cudnnConvolutionDescriptor_t cd, cudnnTensorDescriptor_t yd, int algo, const PassData& d,
                       const Use& use) {
  Lock lock(device_lock());
  if (cudnnStatus_t s = check_handle(handle, use.call)) return s;
  if (!stream_alive(handle->stream))
    return refuse(CUDNN_STATUS_EXECUTION_FAILED, use.call, "the handle's stream has been destroyed");
  ConvProblem p;
  if (cudnnStatus_t s = resolve(xd, wd, cd, yd, use, p)) return s;
  if (!d.alpha || !d.beta) return refuse(CUDNN_STATUS_BAD_PARAM, use.call, "alpha or beta is NULL");
  if (cudnnStatus_t s = check_algo(use.pass, algo, use.call)) return s;
  const size_t elem = element_bytes(p.type);
  const size_t xb = tensor_span(*xd), wb = filter_span(*wd), yb = tensor_span(*yd);
  struct Operand {
    const void* ptr;
    size_t bytes;
    const char* name;
  };
  const Operand ops[3][3] = {{{d.in0, xb, "x"}, {d.in1, wb, "w"}, {d.out, yb, "y"}},
                             {{d.in0, wb, "w"}, {d.in1, yb, "dy"}, {d.out, xb, "dx"}},
                             {{d.in0, xb, "x"}, {d.in1, yb, "dy"}, {d.out, wb, "dw"}}};
  for (const Operand& o : ops[static_cast<int>(use.pass)])
    if (cudnnStatus_t s = check_data(o.ptr, o.bytes, elem, o.name, use.call)) return s;
  if (cudnnStatus_t s = check_workspace(p, use.pass, algo, d.workspace, d.workspace_bytes, use.call)) return s;
  run_conv(p, use.pass, algo, d.alpha, d.in0, d.in1, d.beta, d.out, d.workspace);
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace
}  // namespace facet::emu::dnn

using namespace facet::emu::dnn;

extern "C" {

cudnnStatus_t CUDNNWINAPI cudnnGetConvolutionForwardAlgorithm_v7(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t srcDesc, const cudnnFilterDescriptor_t filterDesc,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t destDesc, const int requestedAlgoCount,
    int* returnedAlgoCount, cudnnConvolutionFwdAlgoPerf_t* perfResults) {
  return heuristics<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(
      handle, srcDesc, filterDesc, convDesc, destDesc, requestedAlgoCount, returnedAlgoCount, perfResults,
      {ConvPass::Forward, false, "cudnnGetConvolutionForwardAlgorithm_v7"});
}

cudnnStatus_t CUDNNWINAPI cudnnGetConvolutionBackwardDataAlgorithm_v7(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t filterDesc, const cudnnTensorDescriptor_t diffDesc,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t gradDesc, const int requestedAlgoCount,
    int* returnedAlgoCount, cudnnConvolutionBwdDataAlgoPerf_t* perfResults) {
  return heuristics<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
      handle, gradDesc, filterDesc, convDesc, diffDesc, requestedAlgoCount, returnedAlgoCount, perfResults,
      {ConvPass::BackwardData, false, "cudnnGetConvolutionBackwardDataAlgorithm_v7"});
}

cudnnStatus_t CUDNNWINAPI cudnnGetConvolutionBackwardFilterAlgorithm_v7(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t srcDesc, const cudnnTensorDescriptor_t diffDesc,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnFilterDescriptor_t gradDesc, const int requestedAlgoCount,
    int* returnedAlgoCount, cudnnConvolutionBwdFilterAlgoPerf_t* perfResults) {
  return heuristics<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
      handle, srcDesc, gradDesc, convDesc, diffDesc, requestedAlgoCount, returnedAlgoCount, perfResults,
      {ConvPass::BackwardFilter, false, "cudnnGetConvolutionBackwardFilterAlgorithm_v7"});
}

cudnnStatus_t CUDNNWINAPI cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t handle,
                                                                  const cudnnTensorDescriptor_t xDesc,
                                                                  const cudnnFilterDescriptor_t wDesc,
                                                                  const cudnnConvolutionDescriptor_t convDesc,
                                                                  const cudnnTensorDescriptor_t yDesc,
                                                                  cudnnConvolutionFwdAlgo_t algo, size_t* sizeInBytes) {
  return workspace_size(handle, xDesc, wDesc, convDesc, yDesc, algo, sizeInBytes,
                        {ConvPass::Forward, false, "cudnnGetConvolutionForwardWorkspaceSize"});
}

cudnnStatus_t CUDNNWINAPI cudnnGetConvolutionBackwardDataWorkspaceSize(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t wDesc, const cudnnTensorDescriptor_t dyDesc,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t dxDesc,
    cudnnConvolutionBwdDataAlgo_t algo, size_t* sizeInBytes) {
  return workspace_size(handle, dxDesc, wDesc, convDesc, dyDesc, algo, sizeInBytes,
                        {ConvPass::BackwardData, false, "cudnnGetConvolutionBackwardDataWorkspaceSize"});
}

cudnnStatus_t CUDNNWINAPI cudnnGetConvolutionBackwardFilterWorkspaceSize(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const cudnnTensorDescriptor_t dyDesc,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnFilterDescriptor_t gradDesc,
    cudnnConvolutionBwdFilterAlgo_t algo, size_t* sizeInBytes) {
  return workspace_size(handle, xDesc, gradDesc, convDesc, dyDesc, algo, sizeInBytes,
                        {ConvPass::BackwardFilter, false, "cudnnGetConvolutionBackwardFilterWorkspaceSize"});
}

cudnnStatus_t CUDNNWINAPI cudnnConvolutionForward(cudnnHandle_t handle, const void* alpha,
                                                  const cudnnTensorDescriptor_t xDesc, const void* x,
                                                  const cudnnFilterDescriptor_t wDesc, const void* w,
                                                  const cudnnConvolutionDescriptor_t convDesc,
                                                  cudnnConvolutionFwdAlgo_t algo, void* workSpace,
                                                  size_t workSpaceSizeInBytes, const void* beta,
                                                  const cudnnTensorDescriptor_t yDesc, void* y) {
  return run_pass(handle, xDesc, wDesc, convDesc, yDesc, algo,
                  {alpha, beta, x, w, y, workSpace, workSpaceSizeInBytes},
                  {ConvPass::Forward, true, "cudnnConvolutionForward"});
}

cudnnStatus_t CUDNNWINAPI cudnnConvolutionBackwardData(cudnnHandle_t handle, const void* alpha,
                                                       const cudnnFilterDescriptor_t wDesc, const void* w,
                                                       const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                                       const cudnnConvolutionDescriptor_t convDesc,
                                                       cudnnConvolutionBwdDataAlgo_t algo, void* workSpace,
                                                       size_t workSpaceSizeInBytes, const void* beta,
                                                       const cudnnTensorDescriptor_t dxDesc, void* dx) {
  return run_pass(handle, dxDesc, wDesc, convDesc, dyDesc, algo,
                  {alpha, beta, w, dy, dx, workSpace, workSpaceSizeInBytes},
                  {ConvPass::BackwardData, true, "cudnnConvolutionBackwardData"});
}

cudnnStatus_t CUDNNWINAPI cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void* alpha,
                                                         const cudnnTensorDescriptor_t xDesc, const void* x,
                                                         const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                                         const cudnnConvolutionDescriptor_t convDesc,
                                                         cudnnConvolutionBwdFilterAlgo_t algo, void* workSpace,
                                                         size_t workSpaceSizeInBytes, const void* beta,
                                                         const cudnnFilterDescriptor_t dwDesc, void* dw) {
  return run_pass(handle, xDesc, dwDesc, convDesc, dyDesc, algo,
                  {alpha, beta, x, dy, dw, workSpace, workSpaceSizeInBytes},
                  {ConvPass::BackwardFilter, true, "cudnnConvolutionBackwardFilter"});
}

}  // extern "C"
