// TFLite graph -> engine execution plan (see model.h). Loading does all the checking a run
// would otherwise trip over: op support and options, tensor types, constant sizes, weight
// layouts, and the data flow (every activation an op reads was written by an earlier op or is a
// graph input). A run then only validates the caller's inputs and lets the engine ops check the
// shapes; any error raised by an op is re-thrown naming the file and the operator.
#include "engine/tflite/model.h"

#include <algorithm>
#include <cstring>

#include "engine/core/error.h"
#include "engine/ops/conv.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "engine/ops/linear.h"
#include "engine/ops/pool_resize.h"
#include "kernels/common/dtype.h"

namespace facet::tflite {

namespace {

enum class Kind { Conv2d, Depthwise, Add, Relu, Relu6, ReluN1To1, Tanh, Logistic, Prelu, Pad, MaxPool, Reshape,
                  Concat, Resize };

struct Step {
  Kind kind = Kind::Relu;
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

Shape to_shape(const std::vector<int32_t>& s) { return Shape(s.begin(), s.end()); }

bool is_float_type(int t) {
  return t == static_cast<int>(TensorType::FLOAT32) || t == static_cast<int>(TensorType::FLOAT16);
}

}  // namespace

struct Model::Impl {
  ModelDef def;
  Device device;
  std::vector<TensorInfo> inputs, outputs;
  std::vector<Step> steps;
  std::vector<std::pair<int, Tensor>> consts;  // float constants the steps read from the value table
};

namespace {

// Builds the plan; one instance per load.
class Planner {
 public:
  Planner(Context& ctx, Model::Impl& m) : ctx_(ctx), m_(m), d_(m.def) {
    const size_t n = d_.tensors.size();
    avail_.assign(n, false);
    folded_.resize(n);
    cached_.resize(n);
    used_const_.assign(n, false);
  }

  void plan() {
    for (int t : d_.inputs) {
      check_activation_type(t, "graph input");
      FACET_CHECK(!d_.is_constant(t), d_.name, ": graph input ", label(t), " is a constant");
      avail_[t] = true;
      m_.inputs.push_back({d_.tensors[t].name, to_shape(d_.tensors[t].shape), t});
    }
    for (size_t i = 0; i < d_.operators.size(); ++i) plan_op(static_cast<int>(i));
    for (int t : d_.outputs) {
      if (!avail_[t] && (folded_[t].defined() || d_.is_constant(t))) add_const_input(t);
      FACET_CHECK(avail_[t] || used_const_[t], d_.name, ": graph output ", label(t), " is never computed");
      m_.outputs.push_back({d_.tensors[t].name, to_shape(d_.tensors[t].shape), t});
    }
    for (size_t t = 0; t < used_const_.size(); ++t)
      if (used_const_[t]) m_.consts.emplace_back(static_cast<int>(t), float_const(static_cast<int>(t), "constant"));
    compute_releases();
  }

 private:
  std::string label(int t) const { return detail::concat("tensor ", t, " '", d_.tensors[t].name, "'"); }
  std::string where(int op) const { return detail::concat(d_.name, ": ", d_.op_label(op), ": "); }

  [[noreturn]] void fail(int op, const std::string& msg) const { throw Error(where(op) + msg); }

  void check_activation_type(int t, const char* role) const {
    const int ty = d_.tensors[t].type;
    FACET_CHECK(ty == static_cast<int>(TensorType::FLOAT32), d_.name, ": unsupported tensor type ",
                tensor_type_name(ty), " for ", role, " ", label(t), " (activations must be FLOAT32)");
  }

  bool is_const(int t) const { return folded_[t].defined() || d_.is_constant(t); }

  // A FLOAT32 / FLOAT16 constant as an f32 Tensor on the model's device (converted once).
  Tensor float_const(int t, const char* role) {
    if (folded_[t].defined()) return folded_[t];
    if (cached_[t].defined()) return cached_[t];
    const TensorDef& td = d_.tensors[t];
    FACET_CHECK(d_.is_constant(t), d_.name, ": ", role, " ", label(t), " must be a constant");
    FACET_CHECK(!td.sparse, d_.name, ": ", label(t), " is stored sparse (needs DENSIFY, not supported)");
    FACET_CHECK(is_float_type(td.type), d_.name, ": unsupported tensor type ", tensor_type_name(td.type), " for ",
                role, " ", label(t), " (constants must be FLOAT32 or FLOAT16)");
    const Shape shape = to_shape(td.shape);
    const int64_t n = numel(shape);
    const size_t elem = td.type == static_cast<int>(TensorType::FLOAT32) ? 4 : 2;
    const BufferRef& br = d_.buffers[td.buffer];
    FACET_CHECK(br.size == static_cast<uint64_t>(n) * elem, d_.name, ": ", label(t), " of shape ", shape_str(shape),
                " and type ", tensor_type_name(td.type), " needs ", n * elem, " bytes, its buffer has ", br.size);
    std::vector<float> v(static_cast<size_t>(n));
    const uint8_t* src = d_.buffer_data(td.buffer);
    if (elem == 4) {
      std::memcpy(v.data(), src, static_cast<size_t>(n) * 4);
    } else {
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        v[static_cast<size_t>(i)] = f16_bits_to_f32(h);
      }
    }
    Tensor c = Tensor::from_vector(ctx_, shape, v, DType::F32, Device::cpu());
    if (m_.device.is_cuda()) c = c.to(ctx_, m_.device);
    c.set_name(td.name);
    cached_[t] = c;
    return c;
  }

  std::vector<int32_t> int_const(int op, int t, const char* role) const {
    const TensorDef& td = d_.tensors[t];
    if (!d_.is_constant(t)) fail(op, detail::concat(role, " ", label(t), " must be a constant"));
    if (td.type != static_cast<int>(TensorType::INT32))
      fail(op, detail::concat("unsupported tensor type ", tensor_type_name(td.type), " for ", role, " ", label(t),
                              " (expected INT32)"));
    const int64_t n = numel(to_shape(td.shape));
    const BufferRef& br = d_.buffers[td.buffer];
    if (br.size != static_cast<uint64_t>(n) * 4)
      fail(op, detail::concat(label(t), " has ", n, " INT32 elements but a buffer of ", br.size, " bytes"));
    std::vector<int32_t> v(static_cast<size_t>(n));
    std::memcpy(v.data(), d_.buffer_data(td.buffer), static_cast<size_t>(n) * 4);
    return v;
  }

  // A tensor some step reads from the value table: an activation computed earlier (or a graph
  // input), or a float constant placed there before the run.
  void use_value(int op, int t, const char* role) {
    if (t < 0) fail(op, detail::concat("the ", role, " is missing"));
    if (is_const(t)) {
      float_const(t, role);  // validates type and size now
      used_const_[t] = true;
      return;
    }
    check_activation_type(t, role);
    if (!avail_[t]) fail(op, detail::concat("reads ", label(t), " before any operator writes it"));
  }

  void add_const_input(int t) {
    float_const(t, "graph output");
    used_const_[t] = true;
  }

  void need_inputs(int op, size_t lo, size_t hi) const {
    const size_t n = d_.operators[op].inputs.size();
    if (n < lo || n > hi)
      fail(op, lo == hi ? detail::concat("expects ", lo, " inputs, has ", n)
                        : detail::concat("expects ", lo, " to ", hi, " inputs, has ", n));
  }

  int check_activation(int op, int act) const {
    if (act < 0 || act == static_cast<int>(Activation::SIGN_BIT) || act > static_cast<int>(Activation::SIGN_BIT))
      fail(op, detail::concat("unsupported fused activation ", activation_name(act)));
    return act;
  }

  Conv2dOptions conv_options(int op, const OpOptions& o) const {
    if (!o.present) fail(op, "has no options table (padding and strides are required)");
    if (o.stride_h <= 0 || o.stride_w <= 0)
      fail(op, detail::concat("invalid strides ", o.stride_h, "x", o.stride_w));
    if (o.dilation_h != 1 || o.dilation_w != 1)
      fail(op, detail::concat("dilation ", o.dilation_h, "x", o.dilation_w, " is not supported (only 1)"));
    if (o.padding != 0 && o.padding != 1) fail(op, detail::concat("unknown padding mode ", o.padding));
    Conv2dOptions c;
    c.stride_h = o.stride_h;
    c.stride_w = o.stride_w;
    c.padding = o.padding == 0 ? Padding::Same : Padding::Valid;
    return c;
  }

  void plan_op(int i) {
    const OperatorDef& od = d_.operators[i];
    const OpOptions& o = od.opt;
    if (od.builtin == op::CUSTOM)
      throw Error(detail::concat(d_.name, ": unsupported TFLite custom op '", od.custom_code, "' at operator ", i));
    if (od.outputs.size() != 1)
      fail(i, detail::concat("has ", od.outputs.size(), " outputs (expected 1)"));
    const int out = od.outputs[0];
    if (avail_[out] || is_const(out)) fail(i, detail::concat("writes ", label(out), ", which already has a value"));

    Step s;
    s.op = i;
    s.out = out;
    auto x_in = [&](size_t k, const char* role) {
      use_value(i, od.inputs[k], role);
      s.in.push_back(od.inputs[k]);
    };
    switch (od.builtin) {
      case op::DEQUANTIZE: {
        need_inputs(i, 1, 1);
        const int t = od.inputs[0];
        if (t < 0 || !is_const(t))
          fail(i, "DEQUANTIZE of a non-constant tensor is not supported (only fp16 constants are folded)");
        if (d_.tensors[out].type != static_cast<int>(TensorType::FLOAT32))
          fail(i, detail::concat("unsupported output type ", tensor_type_name(d_.tensors[out].type)));
        folded_[out] = float_const(t, "DEQUANTIZE input");
        return;  // folded: no step
      }
      case op::CONV_2D:
      case op::DEPTHWISE_CONV_2D: {
        need_inputs(i, 2, 3);
        const bool dw = od.builtin == op::DEPTHWISE_CONV_2D;
        x_in(0, "input");
        s.conv = conv_options(i, o);
        s.act = check_activation(i, o.activation);
        if (od.inputs[1] < 0) fail(i, "the filter is missing");
        Tensor w = float_const(od.inputs[1], "filter");
        if (w.rank() != 4) fail(i, detail::concat("filter of shape ", shape_str(w.shape()), " is not 4-D"));
        if (od.inputs.size() > 2 && od.inputs[2] >= 0) s.b = float_const(od.inputs[2], "bias");
        const int64_t out_c = w.dim(dw ? 3 : 0);
        if (s.b.defined() && (s.b.rank() != 1 || s.b.dim(0) != out_c))
          fail(i, detail::concat("bias of shape ", shape_str(s.b.shape()), " for ", out_c, " output channels"));
        if (dw) {
          // TFLite depthwise filters are [1, kh, kw, C * multiplier]; ours are [kh, kw, C].
          const auto& xs = d_.tensors[od.inputs[0]].shape;
          const int64_t c = xs.size() == 4 ? xs[3] : out_c;
          if (w.dim(0) != 1) fail(i, detail::concat("depthwise filter of shape ", shape_str(w.shape())));
          if (c <= 0 || out_c % c != 0)
            fail(i, detail::concat("depthwise filter has ", out_c, " channels for ", c, " input channels"));
          const int64_t mult = out_c / c;
          if (mult != 1 || (o.depth_multiplier > 1 && o.depth_multiplier != mult))
            fail(i, detail::concat("depth_multiplier ", std::max<int64_t>(mult, o.depth_multiplier),
                                   " is not supported (only 1)"));
          s.w = w.view({w.dim(1), w.dim(2), w.dim(3)});
          s.kind = Kind::Depthwise;
        } else {
          s.w = w;
          s.kind = Kind::Conv2d;
        }
        break;
      }
      case op::ADD:
        need_inputs(i, 2, 2);
        x_in(0, "first operand");
        x_in(1, "second operand");
        s.act = check_activation(i, o.activation);
        s.kind = Kind::Add;
        break;
      case op::RELU:
      case op::RELU6:
      case op::RELU_N1_TO_1:
      case op::TANH:
      case op::LOGISTIC:
        need_inputs(i, 1, 1);
        x_in(0, "input");
        s.kind = od.builtin == op::RELU ? Kind::Relu
                 : od.builtin == op::RELU6 ? Kind::Relu6
                 : od.builtin == op::RELU_N1_TO_1 ? Kind::ReluN1To1
                 : od.builtin == op::TANH ? Kind::Tanh : Kind::Logistic;
        break;
      case op::PRELU: {
        need_inputs(i, 2, 2);
        x_in(0, "input");
        if (od.inputs[1] < 0) fail(i, "alpha is missing");
        Tensor a = float_const(od.inputs[1], "alpha");
        // TFLite broadcasts alpha against the input; the MediaPipe graphs use [1, 1, C] (per channel).
        for (int k = 0; k + 1 < a.rank(); ++k)
          if (a.dim(k) != 1)
            fail(i, detail::concat("alpha of shape ", shape_str(a.shape()), " is not per-channel ([1, ..., 1, C])"));
        s.w = a.view({a.rank() ? a.dim(-1) : 1});
        s.kind = Kind::Prelu;
        break;
      }
      case op::PAD: {
        need_inputs(i, 2, 2);
        x_in(0, "input");
        if (od.inputs[1] < 0) fail(i, "the paddings are missing");
        const std::vector<int32_t> p = int_const(i, od.inputs[1], "paddings");
        const size_t rank = d_.tensors[od.inputs[0]].shape.size();
        if (p.size() != 2 * rank) fail(i, detail::concat(p.size(), " padding values for a rank-", rank, " input"));
        for (size_t k = 0; k < rank; ++k) {
          if (p[2 * k] < 0 || p[2 * k + 1] < 0) fail(i, "negative paddings are not supported");
          s.pad_before.push_back(p[2 * k]);
          s.pad_after.push_back(p[2 * k + 1]);
        }
        s.kind = Kind::Pad;
        break;
      }
      case op::MAX_POOL_2D:
        need_inputs(i, 1, 1);
        x_in(0, "input");
        if (!o.present) fail(i, "has no options table (filter and strides are required)");
        if (o.filter_h <= 0 || o.filter_w <= 0 || o.stride_h <= 0 || o.stride_w <= 0)
          fail(i, detail::concat("invalid filter ", o.filter_h, "x", o.filter_w, " or strides ", o.stride_h, "x",
                                 o.stride_w));
        if (o.padding != 0 && o.padding != 1) fail(i, detail::concat("unknown padding mode ", o.padding));
        s.kh = o.filter_h, s.kw = o.filter_w, s.sh = o.stride_h, s.sw = o.stride_w;
        s.pool_pad = o.padding == 0 ? PoolPadding::Same : PoolPadding::Valid;
        s.act = check_activation(i, o.activation);
        s.kind = Kind::MaxPool;
        break;
      case op::RESHAPE:
        need_inputs(i, 1, 2);
        x_in(0, "input");
        plan_reshape(i, s);
        s.kind = Kind::Reshape;
        break;
      case op::CONCATENATION: {
        need_inputs(i, 1, 64);
        for (size_t k = 0; k < od.inputs.size(); ++k) x_in(k, "input");
        const int rank = static_cast<int>(d_.tensors[out].shape.size());
        const int axis = o.axis < 0 ? o.axis + rank : o.axis;
        if (axis < 0 || axis >= std::max(rank, 1)) fail(i, detail::concat("axis ", o.axis, " for rank ", rank));
        s.axis = axis;
        s.act = check_activation(i, o.activation);
        s.kind = Kind::Concat;
        break;
      }
      case op::RESIZE_BILINEAR: {
        need_inputs(i, 2, 2);
        x_in(0, "input");
        if (od.inputs[1] < 0) fail(i, "the size is missing");
        const std::vector<int32_t> sz = int_const(i, od.inputs[1], "size");
        if (sz.size() != 2 || sz[0] <= 0 || sz[1] <= 0) fail(i, "size must hold two positive values");
        if (o.align_corners || !o.half_pixel_centers)
          fail(i, detail::concat("align_corners=", o.align_corners, " half_pixel_centers=", o.half_pixel_centers,
                                 " is not supported (only half_pixel_centers=true, align_corners=false)"));
        s.out_h = sz[0];
        s.out_w = sz[1];
        s.kind = Kind::Resize;
        break;
      }
      default:
        throw Error(detail::concat(d_.name, ": unsupported TFLite op ", builtin_op_name(od.builtin), " at operator ", i));
    }
    if (d_.tensors[out].type != static_cast<int>(TensorType::FLOAT32))
      fail(i, detail::concat("unsupported tensor type ", tensor_type_name(d_.tensors[out].type), " for output ",
                             label(out)));
    avail_[out] = true;
    m_.steps.push_back(std::move(s));
  }

  // The target shape for the stored input, from the shape operand, the options or (old
  // converters) the output tensor, with a -1 entry resolved.
  void plan_reshape(int i, Step& s) const {
    const OperatorDef& od = d_.operators[i];
    std::vector<int32_t> t;
    if (od.inputs.size() > 1 && od.inputs[1] >= 0 && d_.is_constant(od.inputs[1]))
      t = int_const(i, od.inputs[1], "shape");
    else if (od.inputs.size() > 1 && od.inputs[1] >= 0)
      fail(i, "a computed (non-constant) target shape is not supported");
    else if (od.opt.has_new_shape)
      t = od.opt.new_shape;
    else
      t = d_.tensors[od.outputs[0]].shape;
    const int64_t in_n = numel(to_shape(d_.tensors[od.inputs[0]].shape));
    int64_t known = 1;
    int infer = -1;
    for (size_t k = 0; k < t.size(); ++k) {
      if (t[k] == -1 && infer < 0) {
        infer = static_cast<int>(k);
      } else if (t[k] < 0) {
        fail(i, "target shape has more than one -1 or a negative entry");
      } else {
        known *= t[k];
      }
    }
    s.target = to_shape(t);
    if (infer >= 0) {
      if (known == 0 || in_n % known != 0)
        fail(i, detail::concat("cannot reshape ", in_n, " elements to a multiple of ", known));
      s.target[infer] = in_n / known;
    } else if (known != in_n) {
      fail(i, detail::concat("target shape ", shape_str(s.target), " does not hold ", in_n, " elements"));
    }
  }

  void compute_releases() {
    std::vector<int> last(d_.tensors.size(), -1);
    for (size_t k = 0; k < m_.steps.size(); ++k)
      for (int t : m_.steps[k].in) last[t] = static_cast<int>(k);
    for (int t : d_.outputs) last[t] = -1;  // kept to the end
    for (const auto& c : m_.consts) last[c.first] = -1;  // shared with the model: nothing to free
    for (size_t t = 0; t < last.size(); ++t)
      if (last[t] >= 0) m_.steps[last[t]].release.push_back(static_cast<int>(t));
  }

  Context& ctx_;
  Model::Impl& m_;
  const ModelDef& d_;
  std::vector<bool> avail_;        // activation has been written by an earlier step / is an input
  std::vector<Tensor> folded_;     // DEQUANTIZE outputs of constants
  std::vector<Tensor> cached_;     // converted constants
  std::vector<bool> used_const_;   // constants a step reads from the value table
};

Tensor apply_activation(Context& ctx, const Tensor& y, int act) {
  switch (static_cast<Activation>(act)) {
    case Activation::NONE: return y;
    case Activation::RELU: return relu(ctx, y);
    case Activation::RELU_N1_TO_1: return clamp(ctx, y, -1.0, 1.0);
    case Activation::RELU6: return clamp(ctx, y, 0.0, 6.0);
    case Activation::TANH: return tanh(ctx, y);
    default: throw Error("unsupported fused activation");  // refused at load
  }
}

Tensor execute_step(Context& ctx, const Step& s, const std::vector<Tensor>& v, int64_t batch) {
  const Tensor& x = v[s.in[0]];
  switch (s.kind) {
    case Kind::Conv2d: return apply_activation(ctx, conv2d(ctx, x, s.w, s.b, s.conv), s.act);
    case Kind::Depthwise: return apply_activation(ctx, depthwise_conv2d(ctx, x, s.w, s.b, s.conv), s.act);
    case Kind::Add: return apply_activation(ctx, add(ctx, x, v[s.in[1]]), s.act);
    case Kind::Relu: return relu(ctx, x);
    case Kind::Relu6: return clamp(ctx, x, 0.0, 6.0);
    case Kind::ReluN1To1: return clamp(ctx, x, -1.0, 1.0);
    case Kind::Tanh: return tanh(ctx, x);
    case Kind::Logistic: return sigmoid(ctx, x);
    case Kind::Prelu: return prelu(ctx, x, s.w);
    case Kind::Pad: return pad(ctx, x, s.pad_before, s.pad_after, 0.0);
    case Kind::MaxPool: return apply_activation(ctx, max_pool2d(ctx, x, s.kh, s.kw, s.sh, s.sw, s.pool_pad), s.act);
    case Kind::Reshape: {
      Shape t = s.target;
      if (batch != 1) {
        FACET_CHECK(!t.empty() && t[0] == 1, "the target shape ", shape_str(t),
                    " would fold the batch axis; run this model with batch 1");
        t[0] = batch;
      }
      return reshape(ctx, x, t);
    }
    case Kind::Concat: {
      FACET_CHECK(s.axis != 0 || batch == 1, "concatenation along the batch axis needs batch 1");
      std::vector<Tensor> xs;
      for (int t : s.in) xs.push_back(v[t]);
      return apply_activation(ctx, concat(ctx, xs, s.axis), s.act);
    }
    case Kind::Resize: return resize_bilinear(ctx, x, s.out_h, s.out_w);
  }
  throw Error("unknown step");
}

}  // namespace

Model load_tflite(Context& ctx, std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name,
                  Device device) {
  FACET_CHECK(device.is_cpu() || device == ctx.device(), name, ": cannot load onto ", device.str(),
              " with a context for ", ctx.device().str(), " (create the Context with that device)");
  auto impl = std::make_shared<Model::Impl>();
  impl->def = parse_tflite(std::move(bytes), name);
  impl->device = device;
  Planner(ctx, *impl).plan();
  Model m;
  m.impl_ = std::move(impl);
  return m;
}

Model load_tflite(Context& ctx, const std::string& path, Device device) {
  FACET_CHECK(device.is_cpu() || device == ctx.device(), path, ": cannot load onto ", device.str(),
              " with a context for ", ctx.device().str(), " (create the Context with that device)");
  ModelDef def = read_tflite_file(path);
  return load_tflite(ctx, def.bytes, path, device);
}

const std::string& Model::path() const { return impl_->def.name; }
Device Model::device() const { return impl_->device; }
const std::vector<TensorInfo>& Model::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Model::outputs() const { return impl_->outputs; }
size_t Model::num_steps() const { return impl_->steps.size(); }
const ModelDef& Model::def() const { return impl_->def; }

std::vector<Tensor> Model::run(Context& ctx, const std::vector<Tensor>& inputs) const {
  return execute(ctx, inputs, false);
}
std::vector<Tensor> Model::run_all(Context& ctx, const std::vector<Tensor>& inputs) const {
  return execute(ctx, inputs, true);
}

std::vector<Tensor> Model::execute(Context& ctx, const std::vector<Tensor>& inputs, bool keep_all) const {
  FACET_CHECK(impl_ != nullptr, "tflite::Model::run: no model loaded");
  const Impl& m = *impl_;
  const std::string& file = m.def.name;
  FACET_CHECK(inputs.size() == m.inputs.size(), file, ": run with ", inputs.size(), " inputs, the graph takes ",
              m.inputs.size());
  NoGradGuard no_grad(ctx);
  std::vector<Tensor> v(m.def.tensors.size());
  int64_t batch = 1;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    const TensorInfo& info = m.inputs[k];
    FACET_CHECK(x.defined(), file, ": input ", k, " '", info.name, "' is undefined");
    FACET_CHECK(x.dtype() == DType::F32, file, ": input '", info.name, "' must be f32, got ", dtype_name(x.dtype()));
    bool ok = x.rank() == static_cast<int>(info.shape.size());
    for (int a = 0; ok && a < x.rank(); ++a)
      ok = x.dim(a) == info.shape[a] || (a == 0 && info.shape[0] == 1 && x.dim(0) >= 1);
    FACET_CHECK(ok, file, ": input '", info.name, "' has shape ", shape_str(x.shape()), ", the graph expects ",
                shape_str(info.shape), " (the leading 1 may be any batch size)");
    if (info.shape.size() && info.shape[0] == 1) {
      FACET_CHECK(batch == 1 || x.dim(0) == batch, file, ": inputs disagree on the batch size (", batch, " vs ",
                  x.dim(0), ")");
      batch = x.dim(0);
    }
    v[info.index] = x.device() == m.device ? x : x.to(ctx, m.device);
  }
  for (const auto& c : m.consts) v[c.first] = c.second;
  for (const Step& s : m.steps) {
    try {
      v[s.out] = execute_step(ctx, s, v, batch);
    } catch (const Error& e) {
      throw Error(detail::concat(file, ": ", m.def.op_label(s.op), ": ", e.what()));
    }
    if (!keep_all)
      for (int t : s.release) v[t] = Tensor();
  }
  if (keep_all) return v;
  std::vector<Tensor> outs;
  for (const TensorInfo& o : m.outputs) outs.push_back(v[o.index]);
  return outs;
}

}  // namespace facet::tflite
