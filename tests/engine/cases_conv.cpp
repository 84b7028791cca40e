// Op table cases for engine/ops/conv.h: regular conv with kernels 1/3/4/5, strides 1 and 2, TF SAME
// (symmetric and asymmetric: an even input with stride 2 puts the odd pad pixel after), VALID,
// explicit (asymmetric) pads, with and without bias, odd channel counts; conv + leaky ReLU as one
// op; depthwise k3/k5 s1/s2.
// Shapes stay tiny because the double gradient check runs two forwards per checked element.
// gpu_tol is looser than the default: cuDNN may pick Winograd/FFT/implicit-GEMM algorithms whose
// fp32 rounding differs from direct summation (an indexing bug still shows as an O(1) error).
#include "engine/ops/conv.h"
#include "support/op_case.h"

namespace facet::test {
namespace {
using V = const std::vector<Tensor>&;
constexpr double kConvGpuTol = 1e-3;

OpCase conv(std::string name, Shape x, Shape w, bool bias, Conv2dOptions opt) {
  std::vector<InputSpec> ins = {in(std::move(x)), in(std::move(w), -0.5, 0.5)};
  const int64_t k = ins[1].shape[0];
  if (bias) ins.push_back(in({k}));
  OpCase c{"conv/conv2d/" + name, std::move(ins), [opt, bias](Context& ctx, V v) {
             return conv2d(ctx, v[0], v[1], bias ? v[2] : Tensor(), opt);
           }};
  c.gpu_tol = kConvGpuTol;
  return c;
}

// conv2d_leaky_relu: the fused op's own backward (activation gradient from the output's sign).
OpCase conv_leaky(std::string name, Shape x, Shape w, bool bias, Conv2dOptions opt, double slope) {
  std::vector<InputSpec> ins = {in(std::move(x)), in(std::move(w), -0.5, 0.5)};
  const int64_t k = ins[1].shape[0];
  if (bias) ins.push_back(in({k}));
  OpCase c{"conv/conv2d_leaky_relu/" + name, std::move(ins), [opt, bias, slope](Context& ctx, V v) {
             return conv2d_leaky_relu(ctx, v[0], v[1], bias ? v[2] : Tensor(), opt, slope);
           }};
  c.gpu_tol = kConvGpuTol;
  return c;
}

OpCase depthwise(std::string name, Shape x, int64_t k, bool bias, Conv2dOptions opt) {
  const int64_t ch = x[3];
  std::vector<InputSpec> ins = {in(std::move(x)), in({k, k, ch}, -0.5, 0.5)};
  if (bias) ins.push_back(in({ch}));
  OpCase c{"conv/depthwise/" + name, std::move(ins), [opt, bias](Context& ctx, V v) {
             return depthwise_conv2d(ctx, v[0], v[1], bias ? v[2] : Tensor(), opt);
           }};
  c.gpu_tol = kConvGpuTol;
  return c;
}

}  // namespace

FACET_OP_CASES({
    conv("k1_s1", {2, 5, 6, 3}, {4, 1, 1, 3}, true, Conv2dOptions::same(1)),
    conv("k1_s2_nobias", {2, 7, 6, 5}, {3, 1, 1, 5}, false, Conv2dOptions::same(2)),
    conv("k3_s1_same", {2, 6, 5, 3}, {5, 3, 3, 3}, true, Conv2dOptions::same(1)),
    // H 8 -> pads 0/1 (asymmetric), W 9 -> pads 1/1
    conv("k3_s2_same_asym", {1, 8, 9, 4}, {3, 3, 3, 4}, true, Conv2dOptions::same(2)),
    conv("k3_s2_same_odd_nobias", {2, 7, 7, 3}, {2, 3, 3, 3}, false, Conv2dOptions::same(2)),
    conv("k5_s1_same", {1, 7, 6, 2}, {3, 5, 5, 2}, true, Conv2dOptions::same(1)),
    // H 10 -> pads 1/2, W 11 -> pads 2/2 (DFL's Downscale is k5 s2)
    conv("k5_s2_same_asym", {2, 10, 11, 3}, {4, 5, 5, 3}, true, Conv2dOptions::same(2)),
    conv("k4_s2_same", {1, 8, 8, 3}, {2, 4, 4, 3}, true, Conv2dOptions::same(2)),
    // odd sizes with an odd pad total: H 7 and W 9 both get pads 1/2
    conv("k4_s2_same_odd_asym", {1, 7, 9, 3}, {2, 4, 4, 3}, true, Conv2dOptions::same(2)),
    conv("k2_s1_same_asym", {2, 5, 5, 3}, {3, 2, 2, 3}, false, Conv2dOptions::same(1)),
    conv("k3_s1_valid", {2, 7, 6, 3}, {4, 3, 3, 3}, true, Conv2dOptions::valid(1)),
    conv("k3_s2_valid_nobias", {1, 9, 8, 5}, {3, 3, 3, 5}, false, Conv2dOptions::valid(2)),
    conv("k3_explicit_asym", {2, 6, 5, 3}, {4, 3, 3, 3}, true, Conv2dOptions::pads(0, 2, 1, 0)),
    conv("k3_s2_explicit_asym", {1, 7, 8, 2}, {3, 3, 3, 2}, true, Conv2dOptions::pads(2, 0, 0, 1, 2)),
    conv("k3_dfl_symmetric_s2", {1, 8, 8, 3}, {2, 3, 3, 3}, true, Conv2dOptions::symmetric(3, 2)),
    conv("k3_odd_channels", {2, 5, 5, 7}, {5, 3, 3, 7}, true, Conv2dOptions::same(1)),
    conv("k1_odd_channels_wide", {1, 4, 3, 33}, {9, 1, 1, 33}, true, Conv2dOptions::same(1)),
    conv("k3_rect_stride", {1, 9, 10, 3}, {3, 3, 3, 3}, true, {2, 1, Padding::Same, 0, 0, 0, 0}),
    {"conv/conv2d/const_input", {in_const({2, 6, 6, 3}), in({4, 3, 3, 3}, -0.5, 0.5), in({4})},
     [](Context& c, V x) { return conv2d(c, x[0], x[1], x[2], Conv2dOptions::same(1)); }, 1e-5, 1e-4, kConvGpuTol},
    {"conv/conv2d/const_weight", {in({2, 6, 6, 3}), in_const({4, 3, 3, 3}, -0.5, 0.5)},
     [](Context& c, V x) { return conv2d(c, x[0], x[1], Tensor(), Conv2dOptions::same(2)); }, 1e-5, 1e-4, kConvGpuTol},
    // the SAEHD blocks' shapes in small: Downscale (k5 s2, 0.1), Upscale (k3 s1, 0.1), residual (k3, 0.2)
    conv_leaky("k5_s2_same_asym_0_1", {2, 10, 11, 3}, {4, 5, 5, 3}, true, Conv2dOptions::same(2), 0.1),
    conv_leaky("k3_dfl_symmetric_0_1", {2, 6, 5, 3}, {8, 3, 3, 3}, true, Conv2dOptions::symmetric(3, 1), 0.1),
    conv_leaky("k3_odd_channels_nobias_0_2", {1, 5, 5, 7}, {5, 3, 3, 7}, false, Conv2dOptions::same(1), 0.2),
    depthwise("k3_s1", {2, 6, 7, 5}, 3, true, Conv2dOptions::same(1)),
    depthwise("k3_s2_asym_nobias", {2, 8, 7, 3}, 3, false, Conv2dOptions::same(2)),
    depthwise("k5_s1", {1, 9, 8, 4}, 5, true, Conv2dOptions::same(1)),
    depthwise("k5_s2", {2, 10, 9, 6}, 5, true, Conv2dOptions::same(2)),
    depthwise("k3_valid", {1, 7, 7, 3}, 3, true, Conv2dOptions::valid(1)),
    depthwise("k3_explicit", {1, 6, 6, 2}, 3, false, Conv2dOptions::pads(2, 0, 0, 1)),
});

}  // namespace facet::test
