// TFLite operators -> engine steps (see plan.h). Loading does all the checking a run would
// otherwise trip over: op support and options, tensor types, constant sizes, weight layouts,
// the data flow (every activation an op reads was written by an earlier op or is a graph input)
// and the shapes: each output shape is inferred for batch 1 from the op's inputs and options and
// must equal the shape the file declares. Messages read "<file>: operator N (OP): problem".
#include "engine/tflite/plan.h"

#include <algorithm>
#include <cstring>

#include "engine/core/error.h"
#include "kernels/common/dtype.h"

namespace facet::tflite {

namespace {

constexpr int64_t kMaxActivationElements = int64_t(1) << 31;  // per tensor at batch 1

Shape to_shape(const std::vector<int32_t>& s) { return Shape(s.begin(), s.end()); }

bool is_float_type(int t) {
  return t == static_cast<int>(TensorType::FLOAT32) || t == static_cast<int>(TensorType::FLOAT16);
}

// TF output size along one axis: SAME ceil(in / s), VALID ceil((in - k + 1) / s) (0 if k > in).
int64_t window_out(int64_t in, int64_t k, int64_t s, bool same) {
  if (same) return (in + s - 1) / s;
  return in >= k ? (in - k) / s + 1 : 0;
}

class Planner {
 public:
  Planner(Context& ctx, Model::Impl& m) : ctx_(ctx), m_(m), d_(m.def) {
    const size_t n = d_.tensors.size();
    avail_.assign(n, false);
    folded_.resize(n);
    cached_.resize(n);
    used_const_.assign(n, false);
    shape_.resize(n);
    for (size_t t = 0; t < n; ++t) shape_[t] = to_shape(d_.tensors[t].shape);
  }

  void plan() {
    for (int t : d_.inputs) {
      check_activation_type(t, "graph input");
      FACET_CHECK(!d_.is_constant(t), d_.name, ": graph input ", label(t), " is a constant");
      FACET_CHECK(!avail_[t], d_.name, ": graph input ", label(t), " is listed twice");
      bool ok = !shape_[t].empty();
      for (int64_t d : shape_[t]) ok = ok && d >= 1;
      FACET_CHECK(ok, d_.name, ": graph input ", label(t), " has shape ", shape_str(shape_[t]),
                  " (every dimension must be known and positive)");
      avail_[t] = true;
      m_.inputs.push_back({d_.tensors[t].name, shape_[t], t});
    }
    for (size_t i = 0; i < d_.operators.size(); ++i) plan_op(static_cast<int>(i));
    for (int t : d_.outputs) {
      if (!avail_[t] && is_const(t)) {
        float_const(t, "graph output");
        used_const_[t] = true;
      }
      FACET_CHECK(avail_[t] || used_const_[t], d_.name, ": graph output ", label(t), " is never computed");
      m_.outputs.push_back({d_.tensors[t].name, shape_[t], t});
    }
    for (size_t t = 0; t < used_const_.size(); ++t)
      if (used_const_[t]) m_.consts.emplace_back(static_cast<int>(t), float_const(static_cast<int>(t), "constant"));
    compute_releases();
  }

 private:
  std::string label(int t) const { return detail::concat("tensor ", t, " '", d_.tensors[t].name, "'"); }

  [[noreturn]] void fail(int op, const std::string& msg) const {
    throw Error(detail::concat(d_.name, ": ", d_.op_label(op), ": ", msg));
  }

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

  // A tensor a step reads from the value table: an activation computed earlier (or a graph
  // input), or a float constant placed there before the run.
  void use_value(int op, int t, const char* role) {
    if (t < 0) fail(op, detail::concat("the ", role, " is missing"));
    if (is_const(t)) {
      shape_[t] = float_const(t, role).shape();  // validates type and size now
      used_const_[t] = true;
      return;
    }
    check_activation_type(t, role);
    if (!avail_[t]) fail(op, detail::concat("reads ", label(t), " before any operator writes it"));
  }

  void need_inputs(int op, size_t lo, size_t hi) const {
    const size_t n = d_.operators[op].inputs.size();
    if (n < lo || n > hi)
      fail(op, lo == hi ? detail::concat("expects ", lo, " inputs, has ", n)
                        : detail::concat("expects ", lo, " to ", hi, " inputs, has ", n));
  }

  const Shape& image_shape(int op, int t) const {
    if (shape_[t].size() != 4) fail(op, detail::concat("input of shape ", shape_str(shape_[t]), " is not NHWC"));
    return shape_[t];
  }

  int check_activation(int op, int act) const {
    if (act < 0 || act >= static_cast<int>(Activation::SIGN_BIT))
      fail(op, detail::concat("unsupported fused activation ", activation_name(act)));
    return act;
  }

  Conv2dOptions conv_options(int op, const OpOptions& o) const {
    if (!o.present) fail(op, "has no options table (padding and strides are required)");
    if (o.stride_h <= 0 || o.stride_w <= 0) fail(op, detail::concat("invalid strides ", o.stride_h, "x", o.stride_w));
    if (o.dilation_h != 1 || o.dilation_w != 1)
      fail(op, detail::concat("dilation ", o.dilation_h, "x", o.dilation_w, " is not supported (only 1)"));
    if (o.padding != 0 && o.padding != 1) fail(op, detail::concat("unknown padding mode ", o.padding));
    Conv2dOptions c;
    c.stride_h = o.stride_h;
    c.stride_w = o.stride_w;
    c.padding = o.padding == 0 ? Padding::Same : Padding::Valid;
    return c;
  }

  // Records the inferred output shape after checking it against the declared one.
  void set_output_shape(int op, int out, const Shape& inferred) {
    for (int64_t d : inferred)
      if (d <= 0) fail(op, detail::concat("computes an empty output ", shape_str(inferred)));
    if (numel(inferred) > kMaxActivationElements)
      fail(op, detail::concat("output shape ", shape_str(inferred), " is implausibly large"));
    const Shape& declared = shape_[out];
    if (!declared.empty() && declared != inferred)
      fail(op, detail::concat("computes an output of shape ", shape_str(inferred), " but the file declares ",
                              label(out), " as ", shape_str(declared)));
    shape_[out] = inferred;
  }

  void plan_op(int i);
  Shape plan_conv(int i, Step& s);
  Shape plan_reshape(int i, Step& s) const;
  Shape plan_concat(int i, Step& s) const;
  void compute_releases();

  Context& ctx_;
  Model::Impl& m_;
  const ModelDef& d_;
  std::vector<bool> avail_;       // activation written by an earlier step, or a graph input
  std::vector<Tensor> folded_;    // DEQUANTIZE outputs of constants
  std::vector<Tensor> cached_;    // converted constants
  std::vector<bool> used_const_;  // constants a step reads from the value table
  std::vector<Shape> shape_;      // declared shapes, replaced by inferred ones as ops are planned
};

void Planner::plan_op(int i) {
  const OperatorDef& od = d_.operators[i];
  const OpOptions& o = od.opt;
  if (od.builtin == op::CUSTOM)
    throw Error(detail::concat(d_.name, ": unsupported TFLite custom op '", od.custom_code, "' at operator ", i));
  if (od.outputs.size() != 1) fail(i, detail::concat("has ", od.outputs.size(), " outputs (expected 1)"));
  const int out = od.outputs[0];
  if (avail_[out] || is_const(out)) fail(i, detail::concat("writes ", label(out), ", which already has a value"));

  Step s;
  s.op = i;
  s.out = out;
  auto x_in = [&](size_t k, const char* role) {
    use_value(i, od.inputs[k], role);
    s.in.push_back(od.inputs[k]);
  };
  Shape y;
  switch (od.builtin) {
    case op::DEQUANTIZE: {
      need_inputs(i, 1, 1);
      const int t = od.inputs[0];
      if (t < 0 || !is_const(t))
        fail(i, "DEQUANTIZE of a non-constant tensor is not supported (only fp16 constants are folded)");
      if (d_.tensors[out].type != static_cast<int>(TensorType::FLOAT32))
        fail(i, detail::concat("unsupported output type ", tensor_type_name(d_.tensors[out].type)));
      folded_[out] = float_const(t, "DEQUANTIZE input");
      if (!shape_[out].empty() && shape_[out] != folded_[out].shape())
        fail(i, detail::concat("output ", label(out), " declared ", shape_str(shape_[out]), " for an input of shape ",
                               shape_str(folded_[out].shape())));
      shape_[out] = folded_[out].shape();
      return;  // folded: no step
    }
    case op::CONV_2D:
    case op::DEPTHWISE_CONV_2D:
      need_inputs(i, 2, 3);
      x_in(0, "input");
      y = plan_conv(i, s);
      break;
    case op::ADD: {
      need_inputs(i, 2, 2);
      x_in(0, "first operand");
      x_in(1, "second operand");
      s.act = check_activation(i, o.activation);
      s.kind = StepKind::Add;
      const Shape &a = shape_[s.in[0]], &b = shape_[s.in[1]];
      y.assign(std::max(a.size(), b.size()), 1);
      for (size_t k = 0; k < y.size(); ++k) {  // numpy broadcasting, aligned at the last axis
        const int64_t da = k + a.size() >= y.size() ? a[k + a.size() - y.size()] : 1;
        const int64_t db = k + b.size() >= y.size() ? b[k + b.size() - y.size()] : 1;
        if (da != db && da != 1 && db != 1)
          fail(i, detail::concat("operands of shapes ", shape_str(a), " and ", shape_str(b), " do not broadcast"));
        y[k] = da == 1 ? db : da;
      }
      break;
    }
    case op::RELU:
    case op::RELU6:
    case op::RELU_N1_TO_1:
    case op::TANH:
    case op::LOGISTIC:
      need_inputs(i, 1, 1);
      x_in(0, "input");
      s.kind = od.builtin == op::RELU           ? StepKind::Relu
               : od.builtin == op::RELU6        ? StepKind::Relu6
               : od.builtin == op::RELU_N1_TO_1 ? StepKind::ReluN1To1
               : od.builtin == op::TANH         ? StepKind::Tanh
                                                : StepKind::Logistic;
      y = shape_[s.in[0]];
      break;
    case op::PRELU: {
      need_inputs(i, 2, 2);
      x_in(0, "input");
      if (od.inputs[1] < 0) fail(i, "alpha is missing");
      const Tensor a = float_const(od.inputs[1], "alpha");
      y = shape_[s.in[0]];
      // TFLite broadcasts alpha against the input; the MediaPipe graphs use [1, 1, C] (per channel).
      bool per_channel = a.rank() >= 1 && !y.empty() && a.dim(-1) == y.back();
      for (int k = 0; k + 1 < a.rank(); ++k) per_channel = per_channel && a.dim(k) == 1;
      if (!per_channel)
        fail(i, detail::concat("alpha of shape ", shape_str(a.shape()), " for an input of shape ", shape_str(y),
                               " is not per-channel ([1, ..., 1, C])"));
      s.w = a.view({a.dim(-1)});
      s.kind = StepKind::Prelu;
      break;
    }
    case op::PAD: {
      need_inputs(i, 2, 2);
      x_in(0, "input");
      if (od.inputs[1] < 0) fail(i, "the paddings are missing");
      const std::vector<int32_t> p = int_const(i, od.inputs[1], "paddings");
      y = shape_[s.in[0]];
      if (p.size() != 2 * y.size()) fail(i, detail::concat(p.size(), " padding values for a rank-", y.size(), " input"));
      for (size_t k = 0; k < y.size(); ++k) {
        if (p[2 * k] < 0 || p[2 * k + 1] < 0) fail(i, "negative paddings are not supported");
        s.pad_before.push_back(p[2 * k]);
        s.pad_after.push_back(p[2 * k + 1]);
        y[k] += int64_t(p[2 * k]) + p[2 * k + 1];
      }
      s.kind = StepKind::Pad;
      break;
    }
    case op::MAX_POOL_2D: {
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
      s.kind = StepKind::MaxPool;
      const Shape& x = image_shape(i, s.in[0]);
      // A window larger than the image means nothing more (SAME) or an empty output (VALID);
      // refusing it keeps a corrupt filter size from turning into billions of comparisons.
      if (s.kh > x[1] || s.kw > x[2])
        fail(i, detail::concat("filter ", s.kh, "x", s.kw, " is larger than the ", x[1], "x", x[2], " input"));
      const bool same = o.padding == 0;
      y = {x[0], window_out(x[1], s.kh, s.sh, same), window_out(x[2], s.kw, s.sw, same), x[3]};
      break;
    }
    case op::RESHAPE:
      need_inputs(i, 1, 2);
      x_in(0, "input");
      y = plan_reshape(i, s);
      s.kind = StepKind::Reshape;
      break;
    case op::CONCATENATION:
      need_inputs(i, 1, 1024);
      for (size_t k = 0; k < od.inputs.size(); ++k) x_in(k, "input");
      y = plan_concat(i, s);
      s.act = check_activation(i, o.activation);
      s.kind = StepKind::Concat;
      break;
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
      s.kind = StepKind::Resize;
      const Shape& x = image_shape(i, s.in[0]);
      y = {x[0], s.out_h, s.out_w, x[3]};
      break;
    }
    default:
      throw Error(detail::concat(d_.name, ": unsupported TFLite op ", builtin_op_name(od.builtin), " at operator ", i));
  }
  if (d_.tensors[out].type != static_cast<int>(TensorType::FLOAT32))
    fail(i, detail::concat("unsupported tensor type ", tensor_type_name(d_.tensors[out].type), " for output ",
                           label(out)));
  set_output_shape(i, out, y);
  avail_[out] = true;
  m_.steps.push_back(std::move(s));
}

Shape Planner::plan_conv(int i, Step& s) {
  const OperatorDef& od = d_.operators[i];
  const bool dw = od.builtin == op::DEPTHWISE_CONV_2D;
  s.conv = conv_options(i, od.opt);
  s.act = check_activation(i, od.opt.activation);
  if (od.inputs[1] < 0) fail(i, "the filter is missing");
  const Tensor w = float_const(od.inputs[1], "filter");
  if (w.rank() != 4 || w.numel() == 0)
    fail(i, detail::concat("filter of shape ", shape_str(w.shape()), " is not a non-empty 4-D tensor"));
  const Shape& x = image_shape(i, s.in[0]);
  const int64_t out_c = w.dim(dw ? 3 : 0);
  if (od.inputs.size() > 2 && od.inputs[2] >= 0) s.b = float_const(od.inputs[2], "bias");
  if (s.b.defined() && (s.b.rank() != 1 || s.b.dim(0) != out_c))
    fail(i, detail::concat("bias of shape ", shape_str(s.b.shape()), " for ", out_c, " output channels"));
  if (dw) {
    // TFLite depthwise filters are [1, kh, kw, C * multiplier]; ours are [kh, kw, C].
    if (w.dim(0) != 1) fail(i, detail::concat("depthwise filter of shape ", shape_str(w.shape())));
    if (out_c % x[3] != 0)
      fail(i, detail::concat("depthwise filter has ", out_c, " channels for ", x[3], " input channels"));
    const int64_t mult = out_c / x[3];
    if (mult != 1 || od.opt.depth_multiplier > 1)
      fail(i, detail::concat("depth_multiplier ", std::max<int64_t>(mult, od.opt.depth_multiplier),
                             " is not supported (only 1)"));
    s.w = w.view({w.dim(1), w.dim(2), w.dim(3)});
    s.kind = StepKind::Depthwise;
  } else {
    if (w.dim(3) != x[3])
      fail(i, detail::concat("filter of shape ", shape_str(w.shape()), " for ", x[3], " input channels"));
    s.w = w;
    s.kind = StepKind::Conv2d;
  }
  const bool same = s.conv.padding == Padding::Same;
  return {x[0], window_out(x[1], w.dim(1), s.conv.stride_h, same), window_out(x[2], w.dim(2), s.conv.stride_w, same),
          out_c};
}

// The target for the batch-1 input, from the shape operand, the options or (old converters) the
// output tensor, with a -1 entry resolved.
Shape Planner::plan_reshape(int i, Step& s) const {
  const OperatorDef& od = d_.operators[i];
  std::vector<int32_t> t;
  if (od.inputs.size() > 1 && od.inputs[1] >= 0)
    t = int_const(i, od.inputs[1], "target shape");
  else if (od.opt.has_new_shape)
    t = od.opt.new_shape;
  else
    t = d_.tensors[od.outputs[0]].shape;
  const int64_t in_n = numel(shape_[s.in[0]]);
  int64_t known = 1;
  int infer = -1;
  for (size_t k = 0; k < t.size(); ++k) {
    if (t[k] == -1 && infer < 0)
      infer = static_cast<int>(k);
    else if (t[k] <= 0)
      fail(i, "the target shape has more than one -1, a zero or a negative entry");
    else if ((known *= t[k]) > in_n)
      fail(i, detail::concat("the target shape holds more than the input's ", in_n, " elements"));
  }
  s.target = to_shape(t);
  if (infer >= 0) {
    if (in_n % known != 0) fail(i, detail::concat("cannot reshape ", in_n, " elements into rows of ", known));
    s.target[infer] = in_n / known;
  } else if (known != in_n) {
    fail(i, detail::concat("target shape ", shape_str(s.target), " does not hold ", in_n, " elements"));
  }
  return s.target;
}

Shape Planner::plan_concat(int i, Step& s) const {
  const Shape& first = shape_[s.in[0]];
  const int rank = static_cast<int>(first.size());
  const int axis = d_.operators[i].opt.axis < 0 ? d_.operators[i].opt.axis + rank : d_.operators[i].opt.axis;
  if (axis < 0 || axis >= rank) fail(i, detail::concat("axis ", d_.operators[i].opt.axis, " for rank ", rank));
  s.axis = axis;
  Shape y = first;
  for (size_t k = 1; k < s.in.size(); ++k) {
    const Shape& x = shape_[s.in[k]];
    bool ok = x.size() == first.size();
    for (int a = 0; ok && a < rank; ++a) ok = a == axis || x[a] == first[a];
    if (!ok) fail(i, detail::concat("inputs of shapes ", shape_str(first), " and ", shape_str(x), " along axis ", axis));
    y[axis] += x[axis];
  }
  return y;
}

void Planner::compute_releases() {
  std::vector<int> last(d_.tensors.size(), -1);
  for (size_t k = 0; k < m_.steps.size(); ++k)
    for (int t : m_.steps[k].in) last[t] = static_cast<int>(k);
  for (int t : d_.outputs) last[t] = -1;               // kept to the end
  for (const auto& c : m_.consts) last[c.first] = -1;  // shared with the model: nothing to free
  for (size_t t = 0; t < last.size(); ++t)
    if (last[t] >= 0) m_.steps[last[t]].release.push_back(static_cast<int>(t));
}

}  // namespace

void build_plan(Context& ctx, Model::Impl& m) { Planner(ctx, m).plan(); }

}  // namespace facet::tflite
