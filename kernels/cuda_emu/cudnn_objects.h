// The emulated cuDNN's objects (internal to cudnn_descriptors.cpp and cudnn_convolution.cpp):
// the opaque structs behind cudnnHandle_t and the tensor, filter and convolution descriptors, and
// the checks every call makes on them. Objects are never freed: a destroyed one stays allocated,
// marked dead, so that a later call passing it is recognised and refused (a freed address could
// otherwise be handed out again and look alive). The registries of created objects are guarded
// by emu_state's device_lock(), which every emulated cuDNN call holds.
#pragma once
#include <cudnn.h>

#include <cstddef>
#include <string>

struct cudnnContext {
  bool alive = true;
  cudaStream_t stream = nullptr;  // the legacy default stream until cudnnSetStream
};

// A 4-d tensor: dimensions and element strides of n, c, h, w.
struct cudnnTensorStruct {
  bool alive = true;
  bool set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  cudnnTensorFormat_t format = CUDNN_TENSOR_NCHW;  // NCHW for one set with explicit strides
  int n = 0, c = 0, h = 0, w = 0;
  long long ns = 0, cs = 0, hs = 0, ws = 0;
};

// A 4-d filter [k output maps, c input maps per group, h, w], packed as KCRS (format NCHW) or
// KRSC (format NHWC).
struct cudnnFilterStruct {
  bool alive = true;
  bool set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  cudnnTensorFormat_t format = CUDNN_TENSOR_NCHW;
  int k = 0, c = 0, h = 0, w = 0;
};

struct cudnnConvolutionStruct {
  bool alive = true;
  bool set = false;  // by cudnnSetConvolution2dDescriptor
  int pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  cudnnDataType_t compute = CUDNN_DATA_FLOAT;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  int groups = 1;
};

namespace facet::emu::dnn {

// Reports "call: problem (STATUS)" through report_misuse and returns status.
cudnnStatus_t refuse(cudnnStatus_t status, const std::string& call, const std::string& problem);

// Each returns CUDNN_STATUS_SUCCESS, or refuses with CUDNN_STATUS_BAD_PARAM when the object is
// NULL, was never created, has been destroyed or (descriptors) has not been set.
cudnnStatus_t check_handle(cudnnHandle_t h, const char* call);
cudnnStatus_t check_tensor(cudnnTensorDescriptor_t d, const char* call, const char* name);
cudnnStatus_t check_filter(cudnnFilterDescriptor_t d, const char* call, const char* name);
cudnnStatus_t check_convolution(cudnnConvolutionDescriptor_t d, const char* call);

// The output dimensions {n, k, h, w} cudnnGetConvolution2dForwardOutputDim defines for x, w and
// conv (each descriptor checked already), or the problem that leaves none: x.c != w.c * groups,
// or a dilated filter larger than the padded input.
bool forward_output_dims(const cudnnConvolutionStruct& conv, const cudnnTensorStruct& x, const cudnnFilterStruct& w,
                         int out[4], std::string& problem);

// One convolution as the three passes see it, resolved from checked descriptors: the input x
// [n, c, h, w], the filter [k, c / groups, r, s], the output y [n, k, oh, ow]. The passes read
// and write through the element strides, so every layout the descriptors allow works alike.
struct ConvProblem {
  int n = 0, c = 0, h = 0, w = 0;  // x (or dx)
  int k = 0, r = 0, s = 0;         // filter taps r x s
  int oh = 0, ow = 0;              // y (or dy)
  int groups = 1, cg = 0, kg = 0;  // channels and output maps per group
  int pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  bool flip = false;                           // CUDNN_CONVOLUTION: the filter is applied rotated by 180 degrees
  long long xs[4] = {}, ys[4] = {}, wst[4] = {};  // element strides of x, y and the filter (k, c, r, s order)
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  bool tf32 = false;  // float data whose math type lets cuDNN use TF32 tensor cores: inputs rounded to TF32
};

// The algorithms the emulator implements; the others are reported NOT_SUPPORTED.
enum class ConvPass { Forward, BackwardData, BackwardFilter };
bool algo_implemented(ConvPass pass, int algo);
// Workspace bytes the algorithm needs (0 for the direct ones; the GEMM ones hold their unrolled
// patches, converted operands and partial sums there).
size_t conv_workspace_bytes(const ConvProblem& p, ConvPass pass, int algo);
// Runs one pass with an implemented algorithm: out = alpha * result + beta * out (out not read
// when beta == 0). alpha and beta point to double for double data, to float otherwise. in0/in1
// are (x, w) forward, (w, dy) backward data, (x, dy) backward filter.
void run_conv(const ConvProblem& p, ConvPass pass, int algo, const void* alpha, const void* in0, const void* in1,
              const void* beta, void* out, void* workspace);

// Bytes per element of the data types the emulator models (float, double, half, bfloat16); 0
// for every other type.
size_t element_bytes(cudnnDataType_t t);

}  // namespace facet::emu::dnn
