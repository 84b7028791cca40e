// oneDNN convolutions behind ConvCache (see conv2d.h for the why and the layout choices).
//
// One Problem per (pass, geometry, math, bias or not, epilogue, thread count): its primitive descriptor,
// primitive and the memory objects around it. User buffers are bound per call with
// set_data_handle, which neither allocates nor copies. Scratchpads are in user mode and share one
// grow-only buffer of the cache, so a call never allocates once its problem exists. The thread
// count is in the key because oneDNN sizes some kernels' work split when the primitive is made.
#include "kernels/onednn/conv2d.h"

#include "kernels/common/error.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <map>
#include <oneapi/dnnl/dnnl.hpp>
#include <new>
#include <unordered_map>

namespace facet::onednn {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using DT = memory::data_type;

enum class Pass { Forward, BackwardData, BackwardWeights, DepthwiseForward };

const char* pass_name(Pass p) {
  switch (p) {
    case Pass::Forward: return "forward";
    case Pass::DepthwiseForward: return "depthwise_forward";
    case Pass::BackwardData: return "backward_data";
    case Pass::BackwardWeights: return "backward_weights";
  }
  return "?";
}

// (pass, math, bias, threads, n, h, w, c, k, kh, kw, stride_h, stride_w, pads t/b/l/r, leaky ReLU
// and its slope's bits): fixed size, so that looking a problem up allocates nothing.
using Key = std::array<int64_t, 19>;

Key make_key(Pass pass, Math math, bool bias, const cpu::Conv2dGeom& g, int64_t batch, Epilogue ep) {
  uint32_t slope_bits = 0;
  std::memcpy(&slope_bits, &ep.slope, sizeof slope_bits);
  return {static_cast<int64_t>(pass), static_cast<int64_t>(math), bias, omp_get_max_threads(), batch, g.h, g.w, g.c,
          g.k, g.kh, g.kw, g.stride_h, g.stride_w, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right, ep.leaky_relu,
          ep.leaky_relu ? slope_bits : 0};
}

DT compute_type(Math m) { return m == Math::BF16 ? DT::bf16 : DT::f32; }

memory::desc activations(int64_t n, int64_t h, int64_t w, int64_t c, DT dt) {
  return memory::desc({n, c, h, w}, dt, Tag::nhwc);
}
memory::desc weights_ohwi(const cpu::Conv2dGeom& g, DT dt) { return memory::desc({g.k, g.c, g.kh, g.kw}, dt, Tag::ohwi); }
memory::desc weights_any(const cpu::Conv2dGeom& g, DT dt) { return memory::desc({g.k, g.c, g.kh, g.kw}, dt, Tag::any); }
// Depthwise weights as a grouped convolution's (groups = channels, one in and one out each); ours
// are [kh, kw, c], which is oneDNN's hwigo with i = o = 1.
memory::desc depthwise_weights(const cpu::Conv2dGeom& g, DT dt, Tag tag) {
  return memory::desc({g.c, 1, 1, g.kh, g.kw}, dt, tag);
}
memory::desc bias_desc(const cpu::Conv2dGeom& g) { return memory::desc({g.k}, DT::f32, Tag::x); }

memory::dims strides(const cpu::Conv2dGeom& g) { return {g.stride_h, g.stride_w}; }
memory::dims pad_before(const cpu::Conv2dGeom& g) { return {g.pad_top, g.pad_left}; }
memory::dims pad_after(const cpu::Conv2dGeom& g) { return {g.pad_bottom, g.pad_right}; }

// Every primitive's attributes: a scratchpad we pass in (so an execution allocates nothing), and a
// forward's epilogue as post-ops.
dnnl::primitive_attr attributes(Epilogue ep = {}) {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (ep.leaky_relu) {  // oneDNN's relu with a negative slope alpha is leaky ReLU
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, ep.slope, 0.f);
    a.set_post_ops(ops);
  }
  return a;
}

// A tensor that reaches oneDNN either as the caller's f32 buffer (bound per call) or, when the
// primitive wants another type or layout, through a cached reorder into a buffer owned here.
struct Operand {
  memory user;       // the caller's buffer (handle set per call)
  memory prim;       // what the primitive reads or writes: `user` itself, or an owned buffer
  dnnl::reorder to;  // user -> prim (inputs) or prim -> user (outputs), when they differ
  bool converted = false;

  Operand() = default;
  Operand(const dnnl::engine& eng, const memory::desc& user_desc, const memory::desc& prim_desc, bool is_output)
      : user(user_desc, eng, DNNL_MEMORY_NONE) {
    converted = user_desc != prim_desc;
    if (converted) {
      prim = memory(prim_desc, eng);
      to = is_output ? dnnl::reorder(prim, user) : dnnl::reorder(user, prim);
    } else {
      prim = user;
    }
  }
  void bind(const void* p) { user.set_data_handle(const_cast<void*>(p)); }
  void bring_in(dnnl::stream& s) {
    if (converted) to.execute(s, user, prim);
  }
  void send_out(dnnl::stream& s) {
    if (converted) to.execute(s, prim, user);
  }
};

struct Problem {
  Pass pass;
  Math math;
  int64_t batch = 0;
  std::string kernel;
  dnnl::primitive prim;
  size_t scratch_bytes = 0;
  memory scratch;
  // Forward: a = src, b = weights, out = dst. Backward data: a = diff_dst, b = weights,
  // out = diff_src. Backward weights: a = src, b = diff_dst, out = diff_weights.
  Operand a, b, out;
  memory bias;  // bias (forward) or diff_bias (backward weights); empty when the call has none
  bool has_bias = false;
  std::unordered_map<int, memory> args;  // built once: the memory objects stay, their handles change
};

int arg_of(Pass p, int which) {  // which: 0 = a, 1 = b, 2 = out
  static const int args[4][3] = {{DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                                 {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
                                 {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS},
                                 {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST}};
  return args[static_cast<int>(p)][which];
}

}  // namespace

bool cpu_has_native_bf16() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

struct ConvCache::Impl {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{eng};
  std::map<Key, Problem> problems;
  // The scratchpad every problem uses in turn (calls never overlap), grown when a problem is made.
  void* scratch = nullptr;
  size_t scratch_bytes = 0;

  ~Impl() { std::free(scratch); }

  void reserve_scratch(size_t bytes) {
    if (bytes <= scratch_bytes) return;
    std::free(scratch);
    scratch = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!scratch) throw std::bad_alloc();
    scratch_bytes = bytes;
  }

  // The forward descriptor at batch n, as the problem itself (batch 1) or as the hint oneDNN's
  // backward descriptors need.
  dnnl::convolution_forward::primitive_desc forward_pd(const cpu::Conv2dGeom& g, Math m, bool bias, int64_t n,
                                                       dnnl::prop_kind prop, bool depthwise = false,
                                                       Epilogue ep = {}) {
    const DT ct = compute_type(m);
    const auto x = activations(n, g.h, g.w, g.c, ct);
    const auto y = activations(n, g.oh, g.ow, g.k, DT::f32);
    const auto w = depthwise ? depthwise_weights(g, ct, Tag::any) : weights_any(g, ct);
    const auto d = bias ? dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct, x, w,
                                                          bias_desc(g), y, strides(g), pad_before(g), pad_after(g))
                        : dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct, x, w, y,
                                                          strides(g), pad_before(g), pad_after(g));
    return {d, attributes(ep), eng};
  }

  Problem make(Pass pass, const cpu::Conv2dGeom& g, Math m, bool bias, Epilogue ep) {
    Problem p;
    p.pass = pass;
    p.math = m;
    p.has_bias = bias;
    const DT ct = compute_type(m);
    const auto src_user = activations(g.n, g.h, g.w, g.c, DT::f32);
    const auto dst_user = activations(g.n, g.oh, g.ow, g.k, DT::f32);
    const auto w_user = weights_ohwi(g, DT::f32);
    if (pass == Pass::Forward || pass == Pass::DepthwiseForward) {
      const bool depthwise = pass == Pass::DepthwiseForward;
      auto pd = forward_pd(g, m, bias, 1, dnnl::prop_kind::forward_inference, depthwise, ep);
      p.batch = 1;
      p.a = Operand(eng, activations(1, g.h, g.w, g.c, DT::f32), pd.src_desc(), false);
      p.b = Operand(eng, depthwise ? depthwise_weights(g, DT::f32, Tag::hwigo) : w_user, pd.weights_desc(), false);
      p.out = Operand(eng, activations(1, g.oh, g.ow, g.k, DT::f32), pd.dst_desc(), true);
      p.prim = dnnl::convolution_forward(pd);
      p.kernel = pd.impl_info_str();
      p.scratch_bytes = pd.scratchpad_desc().get_size();
      p.scratch = memory(pd.scratchpad_desc(), eng, DNNL_MEMORY_NONE);
    } else if (pass == Pass::BackwardData) {
      const auto hint = forward_pd(g, m, false, g.n, dnnl::prop_kind::forward_training);
      const dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, src_user, weights_any(g, ct),
                                                    activations(g.n, g.oh, g.ow, g.k, ct), strides(g), pad_before(g),
                                                    pad_after(g));
      dnnl::convolution_backward_data::primitive_desc pd(d, attributes(), eng, hint);
      p.batch = g.n;
      p.a = Operand(eng, dst_user, pd.diff_dst_desc(), false);
      p.b = Operand(eng, w_user, pd.weights_desc(), false);
      p.out = Operand(eng, src_user, pd.diff_src_desc(), true);
      p.prim = dnnl::convolution_backward_data(pd);
      p.kernel = pd.impl_info_str();
      p.scratch_bytes = pd.scratchpad_desc().get_size();
      p.scratch = memory(pd.scratchpad_desc(), eng, DNNL_MEMORY_NONE);
    } else {
      const auto hint = forward_pd(g, m, bias, g.n, dnnl::prop_kind::forward_training);
      const auto x = activations(g.n, g.h, g.w, g.c, ct);
      const auto dy = activations(g.n, g.oh, g.ow, g.k, ct);
      const auto dw = weights_any(g, DT::f32);
      const auto d = bias ? dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, x, dw,
                                                                     bias_desc(g), dy, strides(g), pad_before(g),
                                                                     pad_after(g))
                          : dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, x, dw, dy,
                                                                     strides(g), pad_before(g), pad_after(g));
      dnnl::convolution_backward_weights::primitive_desc pd(d, attributes(), eng, hint);
      p.batch = g.n;
      p.a = Operand(eng, src_user, pd.src_desc(), false);
      p.b = Operand(eng, dst_user, pd.diff_dst_desc(), false);
      p.out = Operand(eng, w_user, pd.diff_weights_desc(), true);
      p.prim = dnnl::convolution_backward_weights(pd);
      p.kernel = pd.impl_info_str();
      p.scratch_bytes = pd.scratchpad_desc().get_size();
      p.scratch = memory(pd.scratchpad_desc(), eng, DNNL_MEMORY_NONE);
    }
    p.args = {{arg_of(pass, 0), p.a.prim}, {arg_of(pass, 1), p.b.prim}, {arg_of(pass, 2), p.out.prim},
              {DNNL_ARG_SCRATCHPAD, p.scratch}};
    if (bias) {
      p.bias = memory(bias_desc(g), eng, DNNL_MEMORY_NONE);
      p.args.emplace(pass == Pass::BackwardWeights ? DNNL_ARG_DIFF_BIAS : DNNL_ARG_BIAS, p.bias);
    }
    reserve_scratch(std::max<size_t>(p.scratch_bytes, 64));
    return p;
  }

  Problem& get(Pass pass, const cpu::Conv2dGeom& g, Math m, bool bias, Epilogue ep = {}) {
    const bool per_image = pass == Pass::Forward || pass == Pass::DepthwiseForward;
    const Key key = make_key(pass, m, bias, g, per_image ? 1 : g.n, ep);
    auto it = problems.find(key);
    if (it != problems.end()) return it->second;
    if (m == Math::BF16 && !cpu_has_native_bf16())
      throw Error("conv2d: bf16 convolutions on the CPU need AVX512_BF16 or AMX, which this CPU lacks (use f32)");
    try {
      return problems.emplace(key, make(pass, g, m, bias, ep)).first->second;
    } catch (const dnnl::error& e) {
      throw Error(std::string("conv2d: oneDNN cannot run the ") + pass_name(pass) + " pass of a " +
                  std::to_string(g.kh) + "x" + std::to_string(g.kw) + " convolution " + std::to_string(g.n) + "x" +
                  std::to_string(g.h) + "x" + std::to_string(g.w) + "x" + std::to_string(g.c) + " -> " +
                  std::to_string(g.k) + " channels: " + e.what());
    }
  }

  void run(Problem& p, const void* bias) {
    p.scratch.set_data_handle(scratch);
    if (p.has_bias) p.bias.set_data_handle(const_cast<void*>(bias));
    p.prim.execute(stream, p.args);
  }

  // A forward problem (made at batch 1) run once per image of the batch g.n.
  void forward_per_image(Problem& p, const cpu::Conv2dGeom& g, const float* x, const float* w, const float* bias,
                         float* y);
};

ConvCache::ConvCache() : impl_(std::make_unique<Impl>()) {}
ConvCache::~ConvCache() = default;

void ConvCache::forward(const cpu::Conv2dGeom& g, Math math, const float* x, const float* w, const float* bias,
                        float* y, Epilogue epilogue) {
  impl_->forward_per_image(impl_->get(Pass::Forward, g, math, bias != nullptr, epilogue), g, x, w, bias, y);
}

void ConvCache::depthwise_forward(const cpu::Conv2dGeom& g, Math math, const float* x, const float* w,
                                  const float* bias, float* y) {
  impl_->forward_per_image(impl_->get(Pass::DepthwiseForward, g, math, bias != nullptr), g, x, w, bias, y);
}

void ConvCache::Impl::forward_per_image(Problem& p, const cpu::Conv2dGeom& g, const float* x, const float* w,
                                        const float* bias, float* y) {
  dnnl::stream& s = stream;
  p.b.bind(w);
  p.b.bring_in(s);
  const int64_t x_image = g.h * g.w * g.c, y_image = g.oh * g.ow * g.k;
  for (int64_t i = 0; i < g.n; ++i) {
    p.a.bind(x + i * x_image);
    p.a.bring_in(s);
    p.out.bind(y + i * y_image);
    run(p, bias);
    p.out.send_out(s);
  }
  s.wait();
}

void ConvCache::backward_data(const cpu::Conv2dGeom& g, Math math, const float* dy, const float* w, float* dx) {
  Problem& p = impl_->get(Pass::BackwardData, g, math, false);
  dnnl::stream& s = impl_->stream;
  p.a.bind(dy);
  p.a.bring_in(s);
  p.b.bind(w);
  p.b.bring_in(s);
  p.out.bind(dx);
  impl_->run(p, nullptr);
  p.out.send_out(s);
  s.wait();
}

void ConvCache::backward_filter(const cpu::Conv2dGeom& g, Math math, const float* x, const float* dy, float* dw,
                                float* dbias) {
  Problem& p = impl_->get(Pass::BackwardWeights, g, math, dbias != nullptr);
  dnnl::stream& s = impl_->stream;
  p.a.bind(x);
  p.a.bring_in(s);
  p.b.bind(dy);
  p.b.bring_in(s);
  p.out.bind(dw);
  impl_->run(p, dbias);
  p.out.send_out(s);
  s.wait();
}

std::vector<ProblemInfo> ConvCache::problems() const {
  std::vector<ProblemInfo> out;
  for (const auto& [key, p] : impl_->problems) out.push_back({pass_name(p.pass), p.batch, p.kernel, p.math});
  return out;
}

}  // namespace facet::onednn
