// Internal to engine/tflite: the execution plan a loaded Model runs. build_plan() turns a parsed
// file (schema.h) into Steps, one per executed operator, with constants converted on the device
// and every output shape inferred (for batch 1) and checked against the shape the file declares,
// so a corrupt stride, padding or size is caught at load instead of allocating nonsense at run.
#pragma once
#include <utility>
#include <vector>

#include "engine/ops/conv.h"
#include "engine/ops/pool_resize.h"
#include "engine/tflite/model.h"

namespace facet::tflite {

enum class StepKind { Conv2d, Depthwise, Add, Relu, Relu6, ReluN1To1, Tanh, Logistic, Prelu, Pad, MaxPool, Reshape,
                      Concat, Resize };

struct Step {
  StepKind kind = StepKind::Relu;
  int op = 0;            // operator index in the file (messages)
  std::vector<int> in;   // tensor indices read from the value table
  int out = 0;
  Tensor w, b;           // conv / depthwise weight and bias, PReLU alpha: ready on the device
  Conv2dOptions conv;
  int kh = 0, kw = 0, sh = 0, sw = 0;  // MAX_POOL_2D
  PoolPadding pool_pad = PoolPadding::Same;
  int act = 0;           // fused ActivationFunctionType
  std::vector<int64_t> pad_before, pad_after;
  Shape target;          // RESHAPE, resolved for the stored (batch-1) input
  int axis = 0;          // CONCATENATION, normalised
  int64_t out_h = 0, out_w = 0;  // RESIZE_BILINEAR
  std::vector<int> release;  // tensors no later step reads
};

struct Model::Impl {
  ModelDef def;
  Device device;
  std::vector<TensorInfo> inputs, outputs;
  std::vector<Step> steps;
  std::vector<std::pair<int, Tensor>> consts;  // float constants the steps read from the value table
};

// Fills m.inputs, m.outputs, m.steps and m.consts from m.def (m.device set). Throws facet::Error
// "<file>: ..." for anything the engine cannot execute.
void build_plan(Context& ctx, Model::Impl& m);

}  // namespace facet::tflite
