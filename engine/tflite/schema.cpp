// TFLite schema reading: field ids follow tensorflow/lite/schema/schema.fbs (schema v3c). A
// table field's id is its declaration index, except that a union occupies two ids (its type tag,
// then the value). Every index read from the file is range-checked here, so a corrupt model is
// refused with "<file>: <problem>" before anything executes.
#include "engine/tflite/schema.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "engine/core/error.h"
#include "engine/io/read_file.h"
#include "engine/tflite/flatbuffer.h"

namespace facet::tflite {

namespace {

// BuiltinOperator names in code order (0 = ADD ... 161 = RIGHT_SHIFT); used only in messages.
const char* const kBuiltinNames[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
    "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
    "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
    "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
    "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
    "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE",
    "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
    "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR",
    "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE",
    "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE",
    "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK",
    "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
    "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM",
    "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D",
    "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE",
    "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU",
    "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
};

const char* const kTensorTypeNames[] = {"FLOAT32", "FLOAT16", "INT32",   "UINT8",      "INT64",  "STRING",
                                        "BOOL",    "INT16",   "COMPLEX64", "INT8",     "FLOAT64", "COMPLEX128",
                                        "UINT64",  "RESOURCE", "VARIANT", "UINT32",    "UINT16",  "INT4"};

const char* const kActivationNames[] = {"NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"};

// Field ids (schema.fbs declaration order; unions take two ids).
namespace f {
constexpr int kModelVersion = 0, kModelOpcodes = 1, kModelSubgraphs = 2, kModelDescription = 3, kModelBuffers = 4;
constexpr int kOpcodeDeprecated = 0, kOpcodeCustom = 1, kOpcodeVersion = 2, kOpcodeBuiltin = 3;
constexpr int kSubgraphTensors = 0, kSubgraphInputs = 1, kSubgraphOutputs = 2, kSubgraphOperators = 3,
              kSubgraphName = 4;
constexpr int kTensorShape = 0, kTensorType = 1, kTensorBuffer = 2, kTensorName = 3, kTensorQuant = 4,
              kTensorSparsity = 6;
constexpr int kQuantScale = 2, kQuantZeroPoint = 3;
constexpr int kOperatorOpcode = 0, kOperatorInputs = 1, kOperatorOutputs = 2, kOperatorOptionsType = 3,
              kOperatorOptions = 4;
constexpr int kBufferData = 0, kBufferOffset = 1, kBufferSize = 2;
}  // namespace f

constexpr size_t kMaxRank = 8;
constexpr int64_t kMaxElements = int64_t(1) << 40;

std::vector<int32_t> int_vector(const fb::Vector& v) {
  std::vector<int32_t> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = v.get<int32_t>(i);
  return r;
}

const char* expected_options_name(int builtin) {
  switch (builtin) {
    case op::CONV_2D: return "Conv2DOptions";
    case op::DEPTHWISE_CONV_2D: return "DepthwiseConv2DOptions";
    case op::MAX_POOL_2D:
    case op::AVERAGE_POOL_2D: return "Pool2DOptions";
    case op::CONCATENATION: return "ConcatenationOptions";
    case op::ADD: return "AddOptions";
    case op::RESIZE_BILINEAR: return "ResizeBilinearOptions";
    case op::RESHAPE: return "ReshapeOptions";
    default: return nullptr;
  }
}

int expected_options_type(int builtin) {
  switch (builtin) {
    case op::CONV_2D: return options::Conv2D;
    case op::DEPTHWISE_CONV_2D: return options::DepthwiseConv2D;
    case op::MAX_POOL_2D:
    case op::AVERAGE_POOL_2D: return options::Pool2D;
    case op::CONCATENATION: return options::Concatenation;
    case op::ADD: return options::Add;
    case op::RESIZE_BILINEAR: return options::ResizeBilinear;
    case op::RESHAPE: return options::Reshape;
    default: return -1;
  }
}

// Decodes the options table `t` of an operator with builtin code `builtin` (tag already checked).
void decode_options(const fb::Table& t, int builtin, OpOptions& o) {
  switch (builtin) {
    case op::CONV_2D:
      o.padding = t.get<int8_t>(0, 0);
      o.stride_w = t.get<int32_t>(1, 0);
      o.stride_h = t.get<int32_t>(2, 0);
      o.activation = t.get<int8_t>(3, 0);
      o.dilation_w = t.get<int32_t>(4, 1);
      o.dilation_h = t.get<int32_t>(5, 1);
      break;
    case op::DEPTHWISE_CONV_2D:
      o.padding = t.get<int8_t>(0, 0);
      o.stride_w = t.get<int32_t>(1, 0);
      o.stride_h = t.get<int32_t>(2, 0);
      o.depth_multiplier = t.get<int32_t>(3, 0);
      o.activation = t.get<int8_t>(4, 0);
      o.dilation_w = t.get<int32_t>(5, 1);
      o.dilation_h = t.get<int32_t>(6, 1);
      break;
    case op::MAX_POOL_2D:
    case op::AVERAGE_POOL_2D:
      o.padding = t.get<int8_t>(0, 0);
      o.stride_w = t.get<int32_t>(1, 0);
      o.stride_h = t.get<int32_t>(2, 0);
      o.filter_w = t.get<int32_t>(3, 0);
      o.filter_h = t.get<int32_t>(4, 0);
      o.activation = t.get<int8_t>(5, 0);
      break;
    case op::CONCATENATION:
      o.axis = t.get<int32_t>(0, 0);
      o.activation = t.get<int8_t>(1, 0);
      break;
    case op::ADD: o.activation = t.get<int8_t>(0, 0); break;
    case op::RESIZE_BILINEAR:
      o.align_corners = t.get<uint8_t>(2, 0) != 0;
      o.half_pixel_centers = t.get<uint8_t>(3, 0) != 0;
      break;
    case op::RESHAPE:
      if (t.has(0)) {
        o.has_new_shape = true;
        o.new_shape = int_vector(t.vector(0, 4, "ReshapeOptions.new_shape"));
      }
      break;
    default: break;
  }
}

}  // namespace

const char* builtin_op_name(int code) {
  static thread_local char buf[32];
  if (code >= 0 && code < static_cast<int>(sizeof kBuiltinNames / sizeof kBuiltinNames[0])) return kBuiltinNames[code];
  std::snprintf(buf, sizeof buf, "BUILTIN_%d", code);
  return buf;
}

const char* tensor_type_name(int type) {
  static thread_local char buf[32];
  if (type >= 0 && type < static_cast<int>(sizeof kTensorTypeNames / sizeof kTensorTypeNames[0]))
    return kTensorTypeNames[type];
  std::snprintf(buf, sizeof buf, "TYPE_%d", type);
  return buf;
}

const char* activation_name(int act) {
  static thread_local char buf[32];
  if (act >= 0 && act < 6) return kActivationNames[act];
  std::snprintf(buf, sizeof buf, "ACTIVATION_%d", act);
  return buf;
}

std::string ModelDef::op_label(size_t op_index) const {
  const OperatorDef& o = operators[op_index];
  std::string n = o.builtin == op::CUSTOM ? "CUSTOM '" + o.custom_code + "'" : builtin_op_name(o.builtin);
  return detail::concat("operator ", op_index, " (", n, ")");
}

ModelDef parse_tflite(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name) {
  ModelDef m;
  m.name = name;
  m.bytes = bytes;
  const fb::Bytes b(bytes->data(), bytes->size(), name);
  const fb::Table model = fb::root(b, "TFL3", "TFLite");
  m.version = model.get<uint32_t>(f::kModelVersion, 0);
  m.description = model.string(f::kModelDescription, "Model.description");

  // Buffers first: tensors refer to them by index.
  const fb::Vector bufs = model.vector(f::kModelBuffers, 4, "Model.buffers");
  m.buffers.resize(bufs.size());
  for (size_t i = 0; i < bufs.size(); ++i) {
    const fb::Table bt = bufs.table(i, "Buffer");
    const fb::Vector data = bt.vector(f::kBufferData, 1, "Buffer.data");
    if (data.size()) {
      m.buffers[i] = {data.data_pos(), data.size()};
    } else {
      // Models over 2 GB keep buffers outside the FlatBuffer: offset is from the file start, and 1
      // is the writer's placeholder for "not yet written".
      const uint64_t off = bt.get<uint64_t>(f::kBufferOffset, 0), size = bt.get<uint64_t>(f::kBufferSize, 0);
      if (off > 1 && size > 0) {
        b.check_range(off, size, "external buffer data");
        m.buffers[i] = {off, size};
      }
    }
  }

  const fb::Vector codes = model.vector(f::kModelOpcodes, 4, "Model.operator_codes");
  struct Code { int builtin; std::string custom; int version; };
  std::vector<Code> opcodes(codes.size());
  for (size_t i = 0; i < codes.size(); ++i) {
    const fb::Table c = codes.table(i, "OperatorCode");
    // The byte-wide deprecated_builtin_code holds codes < 127 (127 = "see builtin_code"); newer
    // writers fill both. The schema's rule: the larger of the two is the real code.
    const int dep = c.get<int8_t>(f::kOpcodeDeprecated, 0);
    const int code = c.get<int32_t>(f::kOpcodeBuiltin, 0);
    opcodes[i].builtin = std::max(dep, code);
    if (opcodes[i].builtin < 0) b.fail(detail::concat("corrupt TFLite file: operator code ", i, " is negative"));
    opcodes[i].custom = c.string(f::kOpcodeCustom, "OperatorCode.custom_code");
    opcodes[i].version = c.get<int32_t>(f::kOpcodeVersion, 1);
  }

  const fb::Vector subgraphs = model.vector(f::kModelSubgraphs, 4, "Model.subgraphs");
  if (subgraphs.size() == 0) b.fail("TFLite model has no subgraph");
  m.num_subgraphs = subgraphs.size();
  const fb::Table sg = subgraphs.table(0, "SubGraph");
  m.subgraph_name = sg.string(f::kSubgraphName, "SubGraph.name");

  const fb::Vector tensors = sg.vector(f::kSubgraphTensors, 4, "SubGraph.tensors");
  m.tensors.resize(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const fb::Table t = tensors.table(i, "Tensor");
    TensorDef& td = m.tensors[i];
    td.name = t.string(f::kTensorName, "Tensor.name");
    td.shape = int_vector(t.vector(f::kTensorShape, 4, "Tensor.shape"));
    td.type = t.get<int8_t>(f::kTensorType, 0);
    td.buffer = t.get<uint32_t>(f::kTensorBuffer, 0);
    const std::string label = detail::concat("tensor ", i, " '", td.name, "'");
    if (td.shape.size() > kMaxRank) b.fail(detail::concat(label, " has rank ", td.shape.size(), " (at most ", kMaxRank, ")"));
    int64_t n = 1;
    for (int32_t d : td.shape) {
      if (d < 0) b.fail(detail::concat(label, " has a negative dimension (", d, ")"));
      if (d > 0 && n > kMaxElements / d) b.fail(detail::concat(label, " has an implausibly large shape"));
      n *= d;
    }
    if (td.buffer >= m.buffers.size() && !(td.buffer == 0 && m.buffers.empty()))
      b.fail(detail::concat("corrupt TFLite file: ", label, " refers to buffer ", td.buffer, " of ", m.buffers.size()));
    const fb::Table q = t.table(f::kTensorQuant, "QuantizationParameters");
    if (q.present())
      td.quantized = q.vector(f::kQuantScale, 4, "QuantizationParameters.scale").size() > 0 ||
                     q.vector(f::kQuantZeroPoint, 8, "QuantizationParameters.zero_point").size() > 0;
    td.sparse = t.table(f::kTensorSparsity, "SparsityParameters").present();
  }
  const int64_t nt = static_cast<int64_t>(m.tensors.size());
  auto check_indices = [&](const std::vector<int32_t>& v, bool allow_missing, const std::string& what) {
    for (int32_t x : v)
      if (x >= nt || x < (allow_missing ? -1 : 0))
        b.fail(detail::concat("corrupt TFLite file: ", what, " refers to tensor ", x, " of ", nt));
  };
  m.inputs = int_vector(sg.vector(f::kSubgraphInputs, 4, "SubGraph.inputs"));
  m.outputs = int_vector(sg.vector(f::kSubgraphOutputs, 4, "SubGraph.outputs"));
  check_indices(m.inputs, false, "the subgraph's input list");
  check_indices(m.outputs, false, "the subgraph's output list");

  const fb::Vector ops = sg.vector(f::kSubgraphOperators, 4, "SubGraph.operators");
  m.operators.resize(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const fb::Table o = ops.table(i, "Operator");
    OperatorDef& od = m.operators[i];
    const uint32_t oc = o.get<uint32_t>(f::kOperatorOpcode, 0);
    if (oc >= opcodes.size())
      b.fail(detail::concat("corrupt TFLite file: operator ", i, " uses operator code ", oc, " of ", opcodes.size()));
    od.opcode_index = static_cast<int>(oc);
    od.builtin = opcodes[oc].builtin;
    od.custom_code = opcodes[oc].custom;
    od.version = opcodes[oc].version;
    od.inputs = int_vector(o.vector(f::kOperatorInputs, 4, "Operator.inputs"));
    od.outputs = int_vector(o.vector(f::kOperatorOutputs, 4, "Operator.outputs"));
    check_indices(od.inputs, true, m.op_label(i) + " input");
    check_indices(od.outputs, false, m.op_label(i) + " output");
    od.opt.type = o.get<uint8_t>(f::kOperatorOptionsType, 0);
    const fb::Table opt = o.table(f::kOperatorOptions, "builtin options");
    if (opt.present() && od.opt.type != options::NONE) {
      const int want = expected_options_type(od.builtin);
      if (want >= 0) {
        if (od.opt.type != want)
          b.fail(detail::concat("corrupt TFLite file: ", m.op_label(i), " carries builtin options of union type ",
                                od.opt.type, ", expected ", expected_options_name(od.builtin), " (", want, ")"));
        od.opt.present = true;
        decode_options(opt, od.builtin, od.opt);
      }
    }
  }
  return m;
}

std::shared_ptr<const std::vector<uint8_t>> read_model_bytes(const std::string& path) {
  return std::make_shared<const std::vector<uint8_t>>(read_file_bytes(path));
}

ModelDef read_tflite_file(const std::string& path) { return parse_tflite(read_model_bytes(path), path); }

}  // namespace facet::tflite
