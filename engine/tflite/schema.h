// The part of the TFLite model format (tensorflow/lite/schema/schema.fbs, file identifier
// "TFL3") that facet reads, as plain structs: subgraph 0's tensors, operators and their builtin
// options, the operator codes and the constant buffers. parse_tflite() fills them from the raw
// bytes through the bounds-checked reader in flatbuffer.h and validates every index it reads
// (tensor -> buffer, operator -> opcode / tensors), so code above it may index freely.
// Execution (what the ops mean) is model.h's job; this file only knows the format.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace facet::tflite {

// schema.fbs enum TensorType (values are the wire values).
enum class TensorType : int8_t {
  FLOAT32 = 0, FLOAT16 = 1, INT32 = 2, UINT8 = 3, INT64 = 4, STRING = 5, BOOL = 6, INT16 = 7,
  COMPLEX64 = 8, INT8 = 9, FLOAT64 = 10,
};
const char* tensor_type_name(int type);  // "FLOAT32", ..., or "TYPE_<n>" for unknown values

// schema.fbs enum BuiltinOperator: the codes facet executes or names in messages.
namespace op {
constexpr int ADD = 0, AVERAGE_POOL_2D = 1, CONCATENATION = 2, CONV_2D = 3, DEPTHWISE_CONV_2D = 4,
              DEQUANTIZE = 6, LOGISTIC = 14, MAX_POOL_2D = 17, MUL = 18, RELU = 19, RELU_N1_TO_1 = 20,
              RELU6 = 21, RESHAPE = 22, RESIZE_BILINEAR = 23, TANH = 28, CUSTOM = 32, PAD = 34, PRELU = 54,
              PLACEHOLDER_FOR_GREATER_OP_CODES = 127;
}
const char* builtin_op_name(int code);  // "CONV_2D", ..., or "BUILTIN_<n>" past the known table

// schema.fbs enum ActivationFunctionType.
enum class Activation : int8_t { NONE = 0, RELU = 1, RELU_N1_TO_1 = 2, RELU6 = 3, TANH = 4, SIGN_BIT = 5 };
const char* activation_name(int act);

// schema.fbs union BuiltinOptions: the tags of the option tables we decode.
namespace options {
constexpr int NONE = 0, Conv2D = 1, DepthwiseConv2D = 2, Pool2D = 5, Concatenation = 10, Add = 11,
              ResizeBilinear = 15, Reshape = 17;
}

struct TensorDef {
  std::string name;
  std::vector<int32_t> shape;  // as stored (batch 1 for the MediaPipe graphs)
  int type = 0;                // TensorType wire value (may be one we do not support)
  uint32_t buffer = 0;         // index into ModelDef::buffers; 0 = the empty sentinel buffer
  bool sparse = false;         // has SparsityParameters (would need DENSIFY)
  bool quantized = false;      // has non-empty scale / zero_point
};

// Options of one operator, decoded according to its builtin code (unused fields keep defaults).
struct OpOptions {
  int type = options::NONE;  // union tag as stored
  bool present = false;      // an options table exists
  // Conv2D / DepthwiseConv2D / Pool2D
  int padding = 0;           // 0 SAME, 1 VALID
  int stride_w = 0, stride_h = 0;
  int dilation_w = 1, dilation_h = 1;
  int depth_multiplier = 0;  // DepthwiseConv2D
  int filter_w = 0, filter_h = 0;  // Pool2D
  int activation = 0;        // fused ActivationFunctionType (Conv, Depthwise, Pool, Add, Concatenation)
  int axis = 0;              // Concatenation
  bool has_new_shape = false;
  std::vector<int32_t> new_shape;  // Reshape
  bool align_corners = false, half_pixel_centers = false;  // ResizeBilinear
};

struct OperatorDef {
  int opcode_index = 0;
  int builtin = 0;          // resolved BuiltinOperator (max of deprecated_builtin_code and builtin_code)
  std::string custom_code;  // for CUSTOM
  int version = 1;
  std::vector<int32_t> inputs, outputs;  // tensor indices; -1 = optional input omitted
  OpOptions opt;
};

// A constant's bytes: [offset, offset + size) of the file (size 0 = no data).
struct BufferRef {
  uint64_t offset = 0, size = 0;
};

struct ModelDef {
  std::string name;  // file path (or a label), used in every message
  std::shared_ptr<const std::vector<uint8_t>> bytes;  // the whole file; buffers point into it
  uint32_t version = 0;
  std::string description;
  size_t num_subgraphs = 0;
  std::string subgraph_name;
  std::vector<TensorDef> tensors;     // subgraph 0
  std::vector<OperatorDef> operators; // subgraph 0, in execution order
  std::vector<int32_t> inputs, outputs;
  std::vector<BufferRef> buffers;

  // True when tensor t has constant data in the file.
  bool is_constant(int t) const {
    const uint32_t b = tensors[t].buffer;
    return b < buffers.size() && buffers[b].size > 0;
  }
  const uint8_t* buffer_data(uint32_t index) const { return bytes->data() + buffers[index].offset; }
  // "operator 12 (CONV_2D)" for messages.
  std::string op_label(size_t op_index) const;
};

// Parses a TFLite FlatBuffer. `name` prefixes every error ("<name>: ...").
ModelDef parse_tflite(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name);
// Reads and parses a file; errors name the path.
ModelDef read_tflite_file(const std::string& path);
// The whole file as bytes, shared by the parsed model (errors name the path: engine/io/read_file.h).
std::shared_ptr<const std::vector<uint8_t>> read_model_bytes(const std::string& path);

}  // namespace facet::tflite
