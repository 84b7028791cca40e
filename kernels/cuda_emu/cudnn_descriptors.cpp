// The emulated device's cuDNN, part 1: the handle, status strings and version, and the tensor,
// filter and convolution descriptors of cuDNN's legacy API (the calls facet makes), written from
// NVIDIA's cuDNN API reference and compiled against the real cudnn.h. The convolutions
// themselves are in cudnn_convolution.cpp.
//
// The emulator is a test backend: strict where cuDNN is strict or where the behaviour is
// undefined (unknown, destroyed or unset objects, negative sizes, out-of-range enumerants, shapes
// that give no output), and it models the data types facet can use — float, double, half and
// bfloat16 — refusing the others with CUDNN_STATUS_NOT_SUPPORTED. Every refusal is reported
// through report_misuse before its status returns.
#include <cudnn.h>

#include <mutex>
#include <string>
#include <type_traits>
#include <unordered_set>

#include "kernels/cuda_emu/cudnn_objects.h"
#include "kernels/cuda_emu/emu_state.h"

namespace facet::emu::dnn {
namespace {

using Lock = std::lock_guard<std::recursive_mutex>;

// Every object of one kind ever created (live or destroyed); guarded by device_lock().
template <typename Object>
std::unordered_set<const Object*>& registry() {
  static auto* r = new std::unordered_set<const Object*>();  // never destroyed (see emu_state.cpp)
  return *r;
}

template <typename Object>
cudnnStatus_t create(Object** out, const char* call) {
  Lock lock(device_lock());
  if (!out) return refuse(CUDNN_STATUS_BAD_PARAM, call, "the output pointer is NULL");
  auto* o = new Object();
  registry<Object>().insert(o);
  *out = o;
  return CUDNN_STATUS_SUCCESS;
}

// Created, not destroyed, and (when it must be) set.
template <typename Object>
cudnnStatus_t check_object(const Object* o, bool must_be_set, const char* call, const char* name) {
  const std::string what = std::string("the ") + name;
  if (!o) return refuse(CUDNN_STATUS_BAD_PARAM, call, what + " is NULL");
  if (registry<Object>().count(o) == 0) return refuse(CUDNN_STATUS_BAD_PARAM, call, what + " was never created");
  if (!o->alive) return refuse(CUDNN_STATUS_BAD_PARAM, call, what + " has been destroyed");
  if constexpr (!std::is_same_v<Object, cudnnContext>) {
    if (must_be_set && !o->set) return refuse(CUDNN_STATUS_BAD_PARAM, call, what + " has not been set");
  }
  return CUDNN_STATUS_SUCCESS;
}

template <typename Object>
cudnnStatus_t destroy(Object* o, const char* call, const char* name) {
  Lock lock(device_lock());
  if (cudnnStatus_t s = check_object(o, false, call, name)) return s;
  o->alive = false;  // kept allocated (see cudnn_objects.h)
  return CUDNN_STATUS_SUCCESS;
}

bool known_data_type(cudnnDataType_t t) { return t >= CUDNN_DATA_FLOAT && t <= CUDNN_DATA_COMPLEX_FP64; }

// BAD_PARAM for a value that is no cudnnDataType_t, NOT_SUPPORTED for one the emulator does not model.
cudnnStatus_t check_data_type(cudnnDataType_t t, const char* call) {
  if (!known_data_type(t))
    return refuse(CUDNN_STATUS_BAD_PARAM, call, "dataType " + std::to_string(static_cast<int>(t)) + " is invalid");
  if (element_bytes(t) == 0)
    return refuse(CUDNN_STATUS_NOT_SUPPORTED, call,
                  "dataType " + std::to_string(static_cast<int>(t)) +
                      " is not modelled by the emulator (float, double, half and bfloat16 are)");
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t check_format(cudnnTensorFormat_t f, const char* call) {
  if (f == CUDNN_TENSOR_NCHW || f == CUDNN_TENSOR_NHWC) return CUDNN_STATUS_SUCCESS;
  if (f == CUDNN_TENSOR_NCHW_VECT_C)
    return refuse(CUDNN_STATUS_NOT_SUPPORTED, call,
                  "CUDNN_TENSOR_NCHW_VECT_C (vectorised integer layouts) is not modelled by the emulator");
  return refuse(CUDNN_STATUS_BAD_PARAM, call, "format " + std::to_string(static_cast<int>(f)) + " is invalid");
}

cudnnStatus_t check_dims(int a, int b, int c, int d, const char* names, const char* call) {
  if (a < 0 || b < 0 || c < 0 || d < 0)
    return refuse(CUDNN_STATUS_BAD_PARAM, call,
                  std::string(names) + " = " + std::to_string(a) + ", " + std::to_string(b) + ", " +
                      std::to_string(c) + ", " + std::to_string(d) + ": none may be negative");
  // cuDNN's limit on a tensor descriptor: 2 Giga-elements.
  if (static_cast<long long>(a) * b * c * d > (1ll << 31))
    return refuse(CUDNN_STATUS_NOT_SUPPORTED, call, "the tensor exceeds 2 Giga-elements");
  return CUDNN_STATUS_SUCCESS;
}

void set_tensor(cudnnTensorStruct& t, cudnnTensorFormat_t format, cudnnDataType_t type, int n, int c, int h, int w,
                long long ns, long long cs, long long hs, long long ws) {
  t.format = format;
  t.type = type;
  t.n = n;
  t.c = c;
  t.h = h;
  t.w = w;
  t.ns = ns;
  t.cs = cs;
  t.hs = hs;
  t.ws = ws;
  t.set = true;
}

// Output extent of one spatial dimension (cuDNN's formula), or -1 when the dilated filter does not fit.
int output_extent(int in, int pad, int filter, int dilation, int stride) {
  const long long span = static_cast<long long>(filter - 1) * dilation + 1;
  const long long room = static_cast<long long>(in) + 2ll * pad - span;
  return room < 0 ? -1 : static_cast<int>(1 + room / stride);
}

}  // namespace

cudnnStatus_t refuse(cudnnStatus_t status, const std::string& call, const std::string& problem) {
  report_misuse(call + ": " + problem + " (" + cudnnGetErrorString(status) + ")");
  return status;
}

cudnnStatus_t check_handle(cudnnHandle_t h, const char* call) { return check_object(h, false, call, "handle"); }
cudnnStatus_t check_tensor(cudnnTensorDescriptor_t d, const char* call, const char* name) {
  return check_object(d, true, call, name);
}
cudnnStatus_t check_filter(cudnnFilterDescriptor_t d, const char* call, const char* name) {
  return check_object(d, true, call, name);
}
cudnnStatus_t check_convolution(cudnnConvolutionDescriptor_t d, const char* call) {
  return check_object(d, true, call, "convolution descriptor");
}

size_t element_bytes(cudnnDataType_t t) {
  switch (t) {
    case CUDNN_DATA_FLOAT: return 4;
    case CUDNN_DATA_DOUBLE: return 8;
    case CUDNN_DATA_HALF: case CUDNN_DATA_BFLOAT16: return 2;
    default: return 0;
  }
}

bool forward_output_dims(const cudnnConvolutionStruct& conv, const cudnnTensorStruct& x, const cudnnFilterStruct& w,
                         int out[4], std::string& problem) {
  if (static_cast<long long>(w.c) * conv.groups != x.c) {
    problem = "the input has " + std::to_string(x.c) + " feature maps but the filter takes " + std::to_string(w.c) +
              " per group x " + std::to_string(conv.groups) + " groups";
    return false;
  }
  const int oh = output_extent(x.h, conv.pad_h, w.h, conv.dilation_h, conv.stride_h);
  const int ow = output_extent(x.w, conv.pad_w, w.w, conv.dilation_w, conv.stride_w);
  if (oh < 0 || ow < 0) {
    problem = "the dilated filter is larger than the zero-padded input";
    return false;
  }
  out[0] = x.n;
  out[1] = w.k;
  out[2] = oh;
  out[3] = ow;
  return true;
}

}  // namespace facet::emu::dnn

using namespace facet::emu;
using namespace facet::emu::dnn;

extern "C" {

size_t CUDNNWINAPI cudnnGetVersion(void) { return CUDNN_VERSION; }

const char* CUDNNWINAPI cudnnGetErrorString(cudnnStatus_t status) {
  switch (status) {
#define FACET_CUDNN_STATUS_NAME(s) \
  case s: return #s;
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_SUCCESS)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_INITIALIZED)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_DEPRECATED)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_LICENSE_ERROR)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_RUNTIME_IN_PROGRESS)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_RUNTIME_FP_OVERFLOW)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_BAD_PARAM)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_NULL_POINTER)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_CUDA_GRAPH_MISMATCH)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_INVALID_VALUE)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_SHAPE)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_LAYOUT)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_PADDING)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_INVALID_DYNAMIC_SHAPE)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_EXECUTION_FAILED)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_EXECUTION_FAILED_CUBLAS)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_EXECUTION_FAILED_CUDART)
    FACET_CUDNN_STATUS_NAME(CUDNN_STATUS_EXECUTION_FAILED_CURAND)
#undef FACET_CUDNN_STATUS_NAME
  }
  return "CUDNN_STATUS_UNKNOWN";
}

cudnnStatus_t CUDNNWINAPI cudnnCreate(cudnnHandle_t* handle) { return create(handle, "cudnnCreate"); }
cudnnStatus_t CUDNNWINAPI cudnnDestroy(cudnnHandle_t handle) { return destroy(handle, "cudnnDestroy", "handle"); }

cudnnStatus_t CUDNNWINAPI cudnnSetStream(cudnnHandle_t handle, cudaStream_t streamId) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  if (cudnnStatus_t s = check_handle(handle, "cudnnSetStream")) return s;
  if (!stream_alive(streamId))
    return refuse(CUDNN_STATUS_BAD_PARAM, "cudnnSetStream", "the stream was destroyed or never created");
  handle->stream = streamId;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t CUDNNWINAPI cudnnGetStream(cudnnHandle_t handle, cudaStream_t* streamId) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  if (cudnnStatus_t s = check_handle(handle, "cudnnGetStream")) return s;
  if (!streamId) return refuse(CUDNN_STATUS_BAD_PARAM, "cudnnGetStream", "streamId is NULL");
  *streamId = handle->stream;
  return CUDNN_STATUS_SUCCESS;
}

// ---- tensors -------------------------------------------------------------------------------

cudnnStatus_t CUDNNWINAPI cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* tensorDesc) {
  return create(tensorDesc, "cudnnCreateTensorDescriptor");
}

cudnnStatus_t CUDNNWINAPI cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t tensorDesc) {
  return destroy(tensorDesc, "cudnnDestroyTensorDescriptor", "tensor descriptor");
}

cudnnStatus_t CUDNNWINAPI cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t tensorDesc, cudnnTensorFormat_t format,
                                                     cudnnDataType_t dataType, int n, int c, int h, int w) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  const char* call = "cudnnSetTensor4dDescriptor";
  if (cudnnStatus_t s = check_object(tensorDesc, false, call, "tensor descriptor")) return s;
  if (cudnnStatus_t s = check_format(format, call)) return s;
  if (cudnnStatus_t s = check_data_type(dataType, call)) return s;
  if (cudnnStatus_t s = check_dims(n, c, h, w, "n, c, h, w", call)) return s;
  const long long hw = static_cast<long long>(h) * w;
  if (format == CUDNN_TENSOR_NCHW)
    set_tensor(*tensorDesc, format, dataType, n, c, h, w, c * hw, hw, w, 1);
  else
    set_tensor(*tensorDesc, format, dataType, n, c, h, w, c * hw, 1, static_cast<long long>(w) * c, c);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t CUDNNWINAPI cudnnSetTensor4dDescriptorEx(cudnnTensorDescriptor_t tensorDesc, cudnnDataType_t dataType,
                                                       int n, int c, int h, int w, int nStride, int cStride,
                                                       int hStride, int wStride) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  const char* call = "cudnnSetTensor4dDescriptorEx";
  if (cudnnStatus_t s = check_object(tensorDesc, false, call, "tensor descriptor")) return s;
  if (cudnnStatus_t s = check_data_type(dataType, call)) return s;
  if (cudnnStatus_t s = check_dims(n, c, h, w, "n, c, h, w", call)) return s;
  // Strides are kept as given; the convolutions refuse non-positive ones (NOT_SUPPORTED, as documented).
  set_tensor(*tensorDesc, CUDNN_TENSOR_NCHW, dataType, n, c, h, w, nStride, cStride, hStride, wStride);
  return CUDNN_STATUS_SUCCESS;
}

// ---- filters -------------------------------------------------------------------------------

cudnnStatus_t CUDNNWINAPI cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* filterDesc) {
  return create(filterDesc, "cudnnCreateFilterDescriptor");
}

cudnnStatus_t CUDNNWINAPI cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t filterDesc) {
  return destroy(filterDesc, "cudnnDestroyFilterDescriptor", "filter descriptor");
}

cudnnStatus_t CUDNNWINAPI cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t filterDesc, cudnnDataType_t dataType,
                                                     cudnnTensorFormat_t format, int k, int c, int h, int w) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  const char* call = "cudnnSetFilter4dDescriptor";
  if (cudnnStatus_t s = check_object(filterDesc, false, call, "filter descriptor")) return s;
  if (cudnnStatus_t s = check_data_type(dataType, call)) return s;
  if (cudnnStatus_t s = check_format(format, call)) return s;
  if (cudnnStatus_t s = check_dims(k, c, h, w, "k, c, h, w", call)) return s;
  filterDesc->type = dataType;
  filterDesc->format = format;
  filterDesc->k = k;
  filterDesc->c = c;
  filterDesc->h = h;
  filterDesc->w = w;
  filterDesc->set = true;
  return CUDNN_STATUS_SUCCESS;
}

// ---- convolution descriptors ---------------------------------------------------------------

cudnnStatus_t CUDNNWINAPI cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* convDesc) {
  return create(convDesc, "cudnnCreateConvolutionDescriptor");
}

cudnnStatus_t CUDNNWINAPI cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t convDesc) {
  return destroy(convDesc, "cudnnDestroyConvolutionDescriptor", "convolution descriptor");
}

cudnnStatus_t CUDNNWINAPI cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t convDesc, int pad_h, int pad_w,
                                                          int u, int v, int dilation_h, int dilation_w,
                                                          cudnnConvolutionMode_t mode, cudnnDataType_t computeType) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  const char* call = "cudnnSetConvolution2dDescriptor";
  if (cudnnStatus_t s = check_object(convDesc, false, call, "convolution descriptor")) return s;
  if (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION)
    return refuse(CUDNN_STATUS_BAD_PARAM, call, "mode " + std::to_string(static_cast<int>(mode)) + " is invalid");
  if (pad_h < 0 || pad_w < 0) return refuse(CUDNN_STATUS_BAD_PARAM, call, "pad_h and pad_w must not be negative");
  if (u <= 0 || v <= 0) return refuse(CUDNN_STATUS_BAD_PARAM, call, "the strides u and v must be positive");
  if (dilation_h <= 0 || dilation_w <= 0)
    return refuse(CUDNN_STATUS_BAD_PARAM, call, "dilation_h and dilation_w must be positive");
  if (!known_data_type(computeType))
    return refuse(CUDNN_STATUS_BAD_PARAM, call,
                  "computeType " + std::to_string(static_cast<int>(computeType)) + " is invalid");
  cudnnConvolutionStruct& c = *convDesc;
  c.pad_h = pad_h;
  c.pad_w = pad_w;
  c.stride_h = u;
  c.stride_w = v;
  c.dilation_h = dilation_h;
  c.dilation_w = dilation_w;
  c.mode = mode;
  c.compute = computeType;  // checked against the tensors' type by each convolution call
  c.set = true;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t CUDNNWINAPI cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t convDesc, cudnnMathType_t mathType) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  const char* call = "cudnnSetConvolutionMathType";
  if (cudnnStatus_t s = check_object(convDesc, false, call, "convolution descriptor")) return s;
  if (mathType < CUDNN_DEFAULT_MATH || mathType > CUDNN_FMA_MATH)
    return refuse(CUDNN_STATUS_BAD_PARAM, call, "mathType " + std::to_string(static_cast<int>(mathType)) + " is invalid");
  convDesc->math = mathType;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t CUDNNWINAPI cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t convDesc, int groupCount) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  const char* call = "cudnnSetConvolutionGroupCount";
  if (cudnnStatus_t s = check_object(convDesc, false, call, "convolution descriptor")) return s;
  if (groupCount < 1)
    return refuse(CUDNN_STATUS_BAD_PARAM, call, "groupCount " + std::to_string(groupCount) + " is below 1");
  convDesc->groups = groupCount;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t CUDNNWINAPI cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t convDesc,
                                                                const cudnnTensorDescriptor_t inputTensorDesc,
                                                                const cudnnFilterDescriptor_t filterDesc, int* n,
                                                                int* c, int* h, int* w) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  const char* call = "cudnnGetConvolution2dForwardOutputDim";
  if (cudnnStatus_t s = check_convolution(convDesc, call)) return s;
  if (cudnnStatus_t s = check_tensor(inputTensorDesc, call, "input tensor descriptor")) return s;
  if (cudnnStatus_t s = check_filter(filterDesc, call, "filter descriptor")) return s;
  if (!n || !c || !h || !w) return refuse(CUDNN_STATUS_BAD_PARAM, call, "an output pointer is NULL");
  int out[4];
  std::string problem;
  if (!forward_output_dims(*convDesc, *inputTensorDesc, *filterDesc, out, problem))
    return refuse(CUDNN_STATUS_BAD_PARAM, call, problem);
  *n = out[0];
  *c = out[1];
  *h = out[2];
  *w = out[3];
  return CUDNN_STATUS_SUCCESS;
}

}  // extern "C"
