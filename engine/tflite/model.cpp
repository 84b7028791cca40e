// Loading (parse -> plan, see plan.h) and running a TFLite graph on the engine. Loading has
// already checked everything about the graph, so a run only validates the caller's inputs (f32,
// the stored shape with any leading batch size) and executes the steps under NoGradGuard,
// dropping each activation after its last reader. An error raised inside an engine op is
// re-thrown naming the file and the operator.
#include "engine/tflite/model.h"

#include "engine/core/error.h"
#include "engine/ops/conv.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "engine/ops/linear.h"
#include "engine/ops/pool_resize.h"
#include "engine/tflite/plan.h"

namespace facet::tflite {

namespace {

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
    case StepKind::Conv2d: return apply_activation(ctx, conv2d(ctx, x, s.w, s.b, s.conv), s.act);
    case StepKind::Depthwise: return apply_activation(ctx, depthwise_conv2d(ctx, x, s.w, s.b, s.conv), s.act);
    case StepKind::Add: return apply_activation(ctx, add(ctx, x, v[s.in[1]]), s.act);
    case StepKind::Relu: return relu(ctx, x);
    case StepKind::Relu6: return clamp(ctx, x, 0.0, 6.0);
    case StepKind::ReluN1To1: return clamp(ctx, x, -1.0, 1.0);
    case StepKind::Tanh: return tanh(ctx, x);
    case StepKind::Logistic: return sigmoid(ctx, x);
    case StepKind::Prelu: return prelu(ctx, x, s.w);
    case StepKind::Pad: return pad(ctx, x, s.pad_before, s.pad_after, 0.0);
    case StepKind::MaxPool: return apply_activation(ctx, max_pool2d(ctx, x, s.kh, s.kw, s.sh, s.sw, s.pool_pad), s.act);
    case StepKind::Reshape: {
      Shape t = s.target;
      if (batch != 1) {
        FACET_CHECK(!t.empty() && t[0] == 1, "the target shape ", shape_str(t),
                    " would fold the batch axis; run this model with batch 1");
        t[0] = batch;
      }
      return reshape(ctx, x, t);
    }
    case StepKind::Concat: {
      FACET_CHECK(s.axis != 0 || batch == 1, "concatenation along the batch axis needs batch 1");
      std::vector<Tensor> xs;
      for (int t : s.in) xs.push_back(v[t]);
      return apply_activation(ctx, concat(ctx, xs, s.axis), s.act);
    }
    case StepKind::Resize: return resize_bilinear(ctx, x, s.out_h, s.out_w);
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
  build_plan(ctx, *impl);
  Model m;
  m.impl_ = std::move(impl);
  return m;
}

Model load_tflite(Context& ctx, const std::string& path, Device device) {
  return load_tflite(ctx, read_model_bytes(path), path, device);
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
  FACET_CHECK(m.device.is_cpu() || ctx.device() == m.device, file, ": the model lives on ", m.device.str(),
              ", run it with a context for that device (this one is for ", ctx.device().str(), ")");
  NoGradGuard no_grad(ctx);
  std::vector<Tensor> v(m.def.tensors.size());
  int64_t batch = -1;  // from the first input stored with a leading 1
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
      FACET_CHECK(batch < 0 || x.dim(0) == batch, file, ": inputs disagree on the batch size (", batch, " vs ",
                  x.dim(0), ")");
      batch = x.dim(0);
    }
    v[info.index] = x.device() == m.device ? x : x.to(ctx, m.device);
  }
  if (batch < 0) batch = 1;
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
