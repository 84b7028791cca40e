// TFLite inference graphs on the facet engine. load_tflite() reads a .tflite file (schema.h),
// checks that every operator is one we can execute, converts the constant weights once to f32
// Tensors on the chosen device (folding DEQUANTIZE of fp16 constants at load time), and keeps
// an execution plan: the operators in file order, each mapped onto an engine op
// (conv2d, depthwise_conv2d, add, relu, prelu, pad, max_pool2d, reshape, concat,
// resize_bilinear, sigmoid, ...). Model::run() executes that plan under NoGradGuard.
//
// Batch: the MediaPipe graphs are written for batch 1. An input whose stored leading dimension is
// 1 accepts any batch N; the ops carry N through, and RESHAPE targets whose leading dimension
// resolves to 1 get N (a RESHAPE that would fold the batch axis is refused for N > 1).
//
// Supported: CONV_2D, DEPTHWISE_CONV_2D (multiplier 1), ADD, RELU, RELU6, RELU_N1_TO_1, TANH,
// LOGISTIC, PRELU, PAD, MAX_POOL_2D, RESHAPE, CONCATENATION, RESIZE_BILINEAR (half-pixel
// centres), DEQUANTIZE (of constants); fused activations NONE / RELU / RELU_N1_TO_1 / RELU6 /
// TANH. Activations are FLOAT32, constants FLOAT32 or FLOAT16 (INT32 for shape operands).
// Anything else is refused at load with "<file>: unsupported ... at operator N".
// See docs/formats-tflite.md.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/tensor/tensor.h"
#include "engine/tflite/schema.h"

namespace facet::tflite {

struct TensorInfo {
  std::string name;
  Shape shape;    // as stored in the file; a leading 1 means "any batch size"
  int index = 0;  // tensor index in the subgraph
};

class Model {
 public:
  Model() = default;

  bool loaded() const { return impl_ != nullptr; }
  const std::string& path() const;
  Device device() const;
  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  size_t num_steps() const;  // engine ops per run (folded DEQUANTIZEs excluded)
  const ModelDef& def() const;  // the parsed file

  // Inputs in the graph's input order, f32, NHWC, on any device (copied to the model's device
  // when needed). Returns the graph outputs in order, on the model's device.
  std::vector<Tensor> run(Context& ctx, const std::vector<Tensor>& inputs) const;
  // As run(), but returns every subgraph tensor by index: each activation the run computed and
  // each float constant it used (undefined elsewhere). For checking intermediate results.
  std::vector<Tensor> run_all(Context& ctx, const std::vector<Tensor>& inputs) const;

  struct Impl;

 private:
  friend Model load_tflite(Context&, std::shared_ptr<const std::vector<uint8_t>>, const std::string&, Device);
  std::vector<Tensor> execute(Context& ctx, const std::vector<Tensor>& inputs, bool keep_all) const;
  std::shared_ptr<const Impl> impl_;
};

// Loads a model onto `device` (CPU, or the CUDA device of `ctx`). Errors name the file.
Model load_tflite(Context& ctx, const std::string& path, Device device);
// Same from bytes already in memory; `name` stands in for the path in messages.
Model load_tflite(Context& ctx, std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name,
                  Device device);

}  // namespace facet::tflite
