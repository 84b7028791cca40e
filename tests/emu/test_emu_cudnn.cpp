// The emulated cuDNN against a naive reference: the three convolution passes in NCHW and NHWC
// with stride, padding, dilation, groups and both convolution modes, alpha/beta blending (beta = 0
// over NaN included) and bf16 rounding, and every misuse it must refuse with the documented status.
#include "tests/emu/emu_library_support.h"

namespace {

using namespace facet::emu_test;

// ---- cuDNN -------------------------------------------------------------------------------------

struct ConvCase {
  int n, c, h, w, k, r, s, pad_h, pad_w, stride, dilation, groups;
  cudnnConvolutionMode_t mode;
  cudnnTensorFormat_t format;
  int oh() const { return (h + 2 * pad_h - ((r - 1) * dilation + 1)) / stride + 1; }
  int ow() const { return (w + 2 * pad_w - ((s - 1) * dilation + 1)) / stride + 1; }
  int cg() const { return c / groups; }
  size_t x_elems() const { return static_cast<size_t>(n) * c * h * w; }
  size_t y_elems() const { return static_cast<size_t>(n) * k * oh() * ow(); }
  size_t w_elems() const { return static_cast<size_t>(k) * cg() * r * s; }
};

const ConvCase kConvCases[] = {
    {2, 3, 5, 6, 4, 3, 3, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_TENSOR_NHWC},  // 3x3 "same"
    {1, 2, 7, 6, 3, 3, 2, 1, 0, 2, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_TENSOR_NCHW},  // stride 2, uneven pads
    {1, 2, 7, 7, 2, 3, 3, 2, 2, 1, 2, 1, CUDNN_CROSS_CORRELATION, CUDNN_TENSOR_NHWC},  // dilation 2
    {2, 4, 5, 5, 6, 3, 3, 1, 1, 1, 1, 2, CUDNN_CROSS_CORRELATION, CUDNN_TENSOR_NCHW},  // 2 groups
    {1, 4, 6, 5, 4, 2, 3, 1, 1, 2, 1, 2, CUDNN_CONVOLUTION, CUDNN_TENSOR_NHWC},        // flipped, groups, stride 2
    {1, 3, 8, 7, 2, 3, 3, 2, 1, 2, 2, 1, CUDNN_CONVOLUTION, CUDNN_TENSOR_NCHW},        // flipped, dilated, strided
};

std::string describe(const ConvCase& c) {
  return "case n" + std::to_string(c.n) + " c" + std::to_string(c.c) + " " + std::to_string(c.h) + "x" +
         std::to_string(c.w) + " k" + std::to_string(c.k) + " " + std::to_string(c.r) + "x" + std::to_string(c.s) +
         " groups" + std::to_string(c.groups) + (c.format == CUDNN_TENSOR_NHWC ? " NHWC" : " NCHW");
}

// Logical index of a tensor element in NCHW order, and its storage index in the case's layout.
size_t nchw(int n, int c, int h, int w, int C, int H, int W) { return ((static_cast<size_t>(n) * C + c) * H + h) * W + w; }
size_t stored(const ConvCase& cc, int n, int c, int h, int w, int C, int H, int W) {
  return cc.format == CUDNN_TENSOR_NCHW ? nchw(n, c, h, w, C, H, W) : ((static_cast<size_t>(n) * H + h) * W + w) * C + c;
}

// Logical tensors (NCHW, filters KCRS) to and from the case's layout (filters KRSC for NHWC).
template <typename T>
std::vector<T> to_layout(const ConvCase& cc, const std::vector<T>& v, int N, int C, int H, int W) {
  std::vector<T> out(v.size());
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int h = 0; h < H; ++h)
        for (int w = 0; w < W; ++w) out[stored(cc, n, c, h, w, C, H, W)] = v[nchw(n, c, h, w, C, H, W)];
  return out;
}
template <typename T>
std::vector<T> from_layout(const ConvCase& cc, const std::vector<T>& v, int N, int C, int H, int W) {
  std::vector<T> out(v.size());
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int h = 0; h < H; ++h)
        for (int w = 0; w < W; ++w) out[nchw(n, c, h, w, C, H, W)] = v[stored(cc, n, c, h, w, C, H, W)];
  return out;
}

// The three passes by definition, in double: every (image, output map, output pixel, channel of
// the group, tap) pairs one input value with one filter value.
struct ConvReference {
  std::vector<double> y, dx, dw;
};
ConvReference conv_reference(const ConvCase& cc, const std::vector<float>& x, const std::vector<float>& w,
                             const std::vector<float>& dy) {
  ConvReference ref{std::vector<double>(cc.y_elems()), std::vector<double>(cc.x_elems()),
                    std::vector<double>(cc.w_elems())};
  const int kg = cc.k / cc.groups, OH = cc.oh(), OW = cc.ow();
  for (int n = 0; n < cc.n; ++n)
    for (int k = 0; k < cc.k; ++k)
      for (int oh = 0; oh < OH; ++oh)
        for (int ow = 0; ow < OW; ++ow)
          for (int c = 0; c < cc.cg(); ++c)
            for (int r = 0; r < cc.r; ++r)
              for (int s = 0; s < cc.s; ++s) {
                const int ih = oh * cc.stride - cc.pad_h + r * cc.dilation;
                const int iw = ow * cc.stride - cc.pad_w + s * cc.dilation;
                if (ih < 0 || ih >= cc.h || iw < 0 || iw >= cc.w) continue;
                const int tr = cc.mode == CUDNN_CONVOLUTION ? cc.r - 1 - r : r;
                const int ts = cc.mode == CUDNN_CONVOLUTION ? cc.s - 1 - s : s;
                const size_t xi = nchw(n, k / kg * cc.cg() + c, ih, iw, cc.c, cc.h, cc.w);
                const size_t wi = nchw(k, c, tr, ts, cc.cg(), cc.r, cc.s);
                const size_t yi = nchw(n, k, oh, ow, cc.k, OH, OW);
                ref.y[yi] += double(x[xi]) * w[wi];
                ref.dx[xi] += double(w[wi]) * dy[yi];
                ref.dw[wi] += double(x[xi]) * dy[yi];
              }
  return ref;
}

// The four descriptors of one case.
struct ConvDescriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  ConvDescriptors(const ConvCase& cc, cudnnDataType_t type, cudnnDataType_t compute, cudnnMathType_t math) {
    EXPECT_EQ(cudnnCreateTensorDescriptor(&x), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnCreateTensorDescriptor(&y), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnCreateFilterDescriptor(&w), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnCreateConvolutionDescriptor(&conv), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetTensor4dDescriptor(x, cc.format, type, cc.n, cc.c, cc.h, cc.w), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetTensor4dDescriptor(y, cc.format, type, cc.n, cc.k, cc.oh(), cc.ow()), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetFilter4dDescriptor(w, type, cc.format, cc.k, cc.cg(), cc.r, cc.s), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetConvolution2dDescriptor(conv, cc.pad_h, cc.pad_w, cc.stride, cc.stride, cc.dilation,
                                              cc.dilation, cc.mode, compute),
              CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetConvolutionGroupCount(conv, cc.groups), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetConvolutionMathType(conv, math), CUDNN_STATUS_SUCCESS);
  }
  ~ConvDescriptors() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
  }
  ConvDescriptors(const ConvDescriptors&) = delete;
  ConvDescriptors& operator=(const ConvDescriptors&) = delete;
};

// An implemented algorithm the heuristics offer for a pass, with its workspace size.
struct Offer {
  int algo;
  size_t bytes;
  bool deterministic;
};

class EmuCudnn : public ::testing::Test {
 public:
  void SetUp() override { ASSERT_EQ(cudnnCreate(&handle_), CUDNN_STATUS_SUCCESS); }
  void TearDown() override {
    if (handle_) cudnnDestroy(handle_);
  }

  std::vector<Offer> forward_offers(const ConvDescriptors& d) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    EXPECT_EQ(cudnnGetConvolutionForwardAlgorithm_v7(handle_, d.x, d.w, d.conv, d.y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                     &n, perf),
              CUDNN_STATUS_SUCCESS);
    return offers(perf, n, [&](int algo, size_t* b) {
      return cudnnGetConvolutionForwardWorkspaceSize(handle_, d.x, d.w, d.conv, d.y,
                                                     static_cast<cudnnConvolutionFwdAlgo_t>(algo), b);
    });
  }
  std::vector<Offer> backward_data_offers(const ConvDescriptors& d) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int n = 0;
    EXPECT_EQ(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle_, d.w, d.y, d.conv, d.x,
                                                          CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf),
              CUDNN_STATUS_SUCCESS);
    return offers(perf, n, [&](int algo, size_t* b) {
      return cudnnGetConvolutionBackwardDataWorkspaceSize(handle_, d.w, d.y, d.conv, d.x,
                                                          static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), b);
    });
  }
  std::vector<Offer> backward_filter_offers(const ConvDescriptors& d) {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int n = 0;
    EXPECT_EQ(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle_, d.x, d.y, d.conv, d.w,
                                                            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf),
              CUDNN_STATUS_SUCCESS);
    return offers(perf, n, [&](int algo, size_t* b) {
      return cudnnGetConvolutionBackwardFilterWorkspaceSize(handle_, d.x, d.y, d.conv, d.w,
                                                            static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), b);
    });
  }
  template <typename Perf, typename SizeQuery>
  static std::vector<Offer> offers(const Perf* perf, int n, SizeQuery size) {
    std::vector<Offer> out;
    for (int i = 0; i < n; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
      size_t bytes = 0;
      EXPECT_EQ(size(perf[i].algo, &bytes), CUDNN_STATUS_SUCCESS);
      EXPECT_EQ(bytes, perf[i].memory);
      out.push_back({static_cast<int>(perf[i].algo), bytes, perf[i].determinism == CUDNN_DETERMINISTIC});
    }
    EXPECT_GE(out.size(), 2u);
    bool uses_workspace = false;
    for (const Offer& o : out) uses_workspace |= o.bytes > 0;
    EXPECT_TRUE(uses_workspace);  // the GEMM-style algorithm
    return out;
  }

  cudnnHandle_t handle() const { return handle_; }

 protected:
  cudnnHandle_t handle_ = nullptr;
};

// A storage type's conversions from and to float (the scale type is float, double for double).
template <typename T>
struct Storage {
  static T from(float v) { return static_cast<T>(v); }
  static double to(T v) { return static_cast<double>(v); }
};
template <>
struct Storage<__nv_bfloat16> {
  static __nv_bfloat16 from(float v) { return __float2bfloat16(v); }
  static double to(__nv_bfloat16 v) { return __bfloat162float(v); }
};
template <>
struct Storage<__half> {
  static __half from(float v) { return __float2half(v); }
  static double to(__half v) { return __half2float(v); }
};

template <typename T>
std::vector<T> stored_as(const std::vector<float>& v) {
  std::vector<T> out;
  for (float x : v) out.push_back(Storage<T>::from(x));
  return out;
}

cudnnStatus_t run_pass(cudnnHandle_t h, int pass, const ConvDescriptors& d, const Offer& o, const void* alpha,
                       const void* beta, const void* x, const void* w, const void* dy, void* out, void* ws) {
  if (pass == 0)
    return cudnnConvolutionForward(h, alpha, d.x, x, d.w, w, d.conv, static_cast<cudnnConvolutionFwdAlgo_t>(o.algo), ws,
                                   o.bytes, beta, d.y, out);
  if (pass == 1)
    return cudnnConvolutionBackwardData(h, alpha, d.w, w, d.y, dy, d.conv,
                                        static_cast<cudnnConvolutionBwdDataAlgo_t>(o.algo), ws, o.bytes, beta, d.x, out);
  return cudnnConvolutionBackwardFilter(h, alpha, d.x, x, d.y, dy, d.conv,
                                        static_cast<cudnnConvolutionBwdFilterAlgo_t>(o.algo), ws, o.bytes, beta, d.w,
                                        out);
}

// Runs each pass (0 forward, 1 backward data, 2 backward filter) with every algorithm offered,
// with beta = 0 over NaN and with alpha = 2, beta = 0.5 over old values. The values have few
// mantissa bits, so every sum is exact and the result is the reference rounded once to T.
template <typename T, typename Scale>
void check_passes(cudnnHandle_t h, const ConvCase& cc, const std::vector<Offer> offers[3], const ConvDescriptors& d) {
  const auto x = test_values(cc.x_elems(), 11), w = test_values(cc.w_elems(), 12), dy = test_values(cc.y_elems(), 13);
  const ConvReference ref = conv_reference(cc, x, w, dy);
  DeviceBuffer dx_in(stored_as<T>(to_layout(cc, x, cc.n, cc.c, cc.h, cc.w)));
  DeviceBuffer dw_in(stored_as<T>(to_layout(cc, w, cc.k, cc.cg(), cc.r, cc.s)));
  DeviceBuffer ddy_in(stored_as<T>(to_layout(cc, dy, cc.n, cc.k, cc.oh(), cc.ow())));
  const int dims[3][4] = {{cc.n, cc.k, cc.oh(), cc.ow()}, {cc.n, cc.c, cc.h, cc.w}, {cc.k, cc.cg(), cc.r, cc.s}};
  const std::vector<double>* want[3] = {&ref.y, &ref.dx, &ref.dw};
  for (int pass = 0; pass < 3; ++pass)
    for (const Offer& o : offers[pass])
      for (auto [alpha, beta] : {std::pair<Scale, Scale>{1, 0}, std::pair<Scale, Scale>{2, 0.5}}) {
        const int* dm = dims[pass];
        const auto old = test_values(want[pass]->size(), 14);
        const std::vector<float> init = beta == 0 ? std::vector<float>(old.size(), std::nanf("")) : old;
        // The workspace is followed by guard bytes the pass must leave alone.
        constexpr size_t kGuard = 64;
        DeviceBuffer out(stored_as<T>(to_layout(cc, init, dm[0], dm[1], dm[2], dm[3]))), ws(o.bytes + kGuard);
        ASSERT_EQ(cudaMemset(ws.get(), 0xab, o.bytes + kGuard), cudaSuccess);
        ASSERT_EQ(run_pass(h, pass, d, o, &alpha, &beta, dx_in.get(), dw_in.get(), ddy_in.get(), out.get(), ws.get()),
                  CUDNN_STATUS_SUCCESS)
            << describe(cc) << " pass " << pass << " algo " << o.algo;
        const auto guard = ws.download<unsigned char>();
        for (size_t i = o.bytes; i < guard.size(); ++i) ASSERT_EQ(guard[i], 0xab) << "workspace overrun, algo " << o.algo;
        const auto got = from_layout(cc, out.download<T>(), dm[0], dm[1], dm[2], dm[3]);
        for (size_t i = 0; i < got.size(); ++i) {
          const double exact = alpha * (*want[pass])[i] + (beta == 0 ? 0.0 : beta * double(old[i]));
          ASSERT_EQ(Storage<T>::to(got[i]), Storage<T>::to(Storage<T>::from(static_cast<float>(exact))))
              << describe(cc) << " pass " << pass << " algo " << o.algo << " beta " << beta << " element " << i;
        }
      }
}

template <typename T, typename Scale>
void check_every_case(EmuCudnn* t, cudnnDataType_t type, cudnnDataType_t compute, cudnnMathType_t math) {
  for (const ConvCase& cc : kConvCases) {
    ConvDescriptors d(cc, type, compute, math);
    int n, c, h, w;
    ASSERT_EQ(cudnnGetConvolution2dForwardOutputDim(d.conv, d.x, d.w, &n, &c, &h, &w), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(std::vector<int>({n, c, h, w}), std::vector<int>({cc.n, cc.k, cc.oh(), cc.ow()})) << describe(cc);
    const std::vector<Offer> offers[3] = {t->forward_offers(d), t->backward_data_offers(d), t->backward_filter_offers(d)};
    // Like cuDNN, each backward pass offers a non-deterministic algorithm and a deterministic one.
    for (int pass = 1; pass < 3; ++pass) {
      bool det = false, nondet = false;
      for (const Offer& o : offers[pass]) (o.deterministic ? det : nondet) = true;
      EXPECT_TRUE(det && nondet) << "pass " << pass;
    }
    check_passes<T, Scale>(t->handle(), cc, offers, d);
  }
}

TEST_F(EmuCudnn, FloatPassesMatchTheDefinition) {
  check_every_case<float, float>(this, CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, CUDNN_FMA_MATH);
}
TEST_F(EmuCudnn, Bfloat16PassesRoundTheDefinitionOnce) {
  check_every_case<__nv_bfloat16, float>(this, CUDNN_DATA_BFLOAT16, CUDNN_DATA_FLOAT, CUDNN_TENSOR_OP_MATH);
}
TEST_F(EmuCudnn, HalfPassesRoundTheDefinitionOnce) {
  check_every_case<__half, float>(this, CUDNN_DATA_HALF, CUDNN_DATA_FLOAT, CUDNN_DEFAULT_MATH);
}
TEST_F(EmuCudnn, DoublePassesMatchTheDefinition) {
  check_every_case<double, double>(this, CUDNN_DATA_DOUBLE, CUDNN_DATA_DOUBLE, CUDNN_DEFAULT_MATH);
}

// With values whose sums round, the algorithms of a pass agree to float rounding (each sums in a
// fixed order of its own, as cuDNN's algorithms do), and each gives the same bits when run again.
TEST_F(EmuCudnn, AlgorithmsOfAPassAgreeAndRepeatBitwise) {
  for (const ConvCase& cc : {kConvCases[3], kConvCases[4]}) {
    ConvDescriptors d(cc, CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, CUDNN_FMA_MATH);
    auto irrational = [](size_t n, double phase) {
      std::vector<float> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(std::sin(i * 0.7 + phase) / 3.0);
      return v;
    };
    DeviceBuffer x(irrational(cc.x_elems(), 0.1)), w(irrational(cc.w_elems(), 0.2)), dy(irrational(cc.y_elems(), 0.3));
    const std::vector<Offer> offers[3] = {forward_offers(d), backward_data_offers(d), backward_filter_offers(d)};
    const size_t out_elems[3] = {cc.y_elems(), cc.x_elems(), cc.w_elems()};
    const float alpha = 1.f, beta = 0.f;
    for (int pass = 0; pass < 3; ++pass) {
      std::vector<std::vector<float>> results;
      for (const Offer& o : offers[pass]) {
        DeviceBuffer out(out_elems[pass] * sizeof(float)), ws(o.bytes);
        ASSERT_EQ(run_pass(handle_, pass, d, o, &alpha, &beta, x.get(), w.get(), dy.get(), out.get(), ws.get()),
                  CUDNN_STATUS_SUCCESS);
        results.push_back(out.download<float>());
        ASSERT_EQ(run_pass(handle_, pass, d, o, &alpha, &beta, x.get(), w.get(), dy.get(), out.get(), ws.get()),
                  CUDNN_STATUS_SUCCESS);
        EXPECT_EQ(out.download<float>(), results.back()) << describe(cc) << " pass " << pass << " run twice";
      }
      for (size_t i = 1; i < results.size(); ++i)
        for (size_t j = 0; j < out_elems[pass]; ++j)
          ASSERT_NEAR(results[i][j], results[0][j], 1e-5f * (1.f + std::fabs(results[0][j])))
              << describe(cc) << " pass " << pass << " element " << j;
    }
  }
}

// A 1x1 convolution over 3 channels: 1*1 + 1*2^-8 + 1*2^-7 = 1 + 3*2^-8 lies halfway between the
// bfloat16 neighbours 1 + 2^-7 (odd) and 1 + 2^-6 (even); round to nearest even gives 1 + 2^-6.
TEST_F(EmuCudnn, Bfloat16OutputRoundsToNearestEven) {
  const ConvCase cc{1, 3, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_TENSOR_NHWC};
  ConvDescriptors d(cc, CUDNN_DATA_BFLOAT16, CUDNN_DATA_FLOAT, CUDNN_TENSOR_OP_MATH);
  DeviceBuffer x(stored_as<__nv_bfloat16>({1.f, 1.f, 1.f})), w(stored_as<__nv_bfloat16>({1.f, 0.00390625f, 0.0078125f}));
  DeviceBuffer y(2);
  const float alpha = 1.f, beta = 0.f;
  ASSERT_EQ(cudnnConvolutionForward(handle_, &alpha, d.x, x.get(), d.w, w.get(), d.conv,
                                    CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, &beta, d.y, y.get()),
            CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(__bfloat162float(y.download<__nv_bfloat16>()[0]), 1.015625f);
}

// Float data may run on TF32 tensor cores (compute capability 8.0 on) unless the math type is
// CUDNN_FMA_MATH; the emulator rounds the inputs to TF32 then.
TEST_F(EmuCudnn, FloatInputsRoundToTf32UnlessFmaMath) {
  const ConvCase cc{1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_TENSOR_NCHW};
  cudaDeviceProp prop{};
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
  DeviceBuffer x(std::vector<float>{1.f + 1.f / 4096}), w(std::vector<float>{1.f}), y(4);
  const float alpha = 1.f, beta = 0.f;
  for (auto [math, want] : {std::pair{CUDNN_FMA_MATH, 1.f + 1.f / 4096},
                            std::pair{CUDNN_DEFAULT_MATH, prop.major >= 8 ? 1.f : 1.f + 1.f / 4096}}) {
    ConvDescriptors d(cc, CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, math);
    ASSERT_EQ(cudnnConvolutionForward(handle_, &alpha, d.x, x.get(), d.w, w.get(), d.conv,
                                      CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, &beta, d.y, y.get()),
              CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(y.download<float>()[0], want) << "math type " << math;
  }
}

// Misuse: each call is refused with the documented status, and the report names the call.
class EmuCudnnMisuse : public EmuCudnn {
 protected:
  const ConvCase cc_{1, 4, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_TENSOR_NHWC};
  ConvDescriptors d_{cc_, CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, CUDNN_FMA_MATH};
  DeviceBuffer x_{cc_.x_elems() * 4}, w_{cc_.w_elems() * 4}, y_{cc_.y_elems() * 4};
  DeviceBuffer ws_{1 << 16};
  const float one_ = 1.f, zero_ = 0.f;

  cudnnStatus_t forward(cudnnTensorDescriptor_t xd, const void* x, cudnnTensorDescriptor_t yd,
                        cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                        void* ws = nullptr, size_t ws_bytes = 0, cudnnFilterDescriptor_t wd = nullptr) {
    return cudnnConvolutionForward(handle_, &one_, xd, x, wd ? wd : d_.w, w_.get(), d_.conv, algo, ws, ws_bytes,
                                   &zero_, yd, y_.get());
  }
  size_t gemm_workspace() {
    size_t bytes = 0;
    EXPECT_EQ(cudnnGetConvolutionForwardWorkspaceSize(handle_, d_.x, d_.w, d_.conv, d_.y,
                                                      CUDNN_CONVOLUTION_FWD_ALGO_GEMM, &bytes),
              CUDNN_STATUS_SUCCESS);
    return bytes;
  }
};

TEST_F(EmuCudnnMisuse, TheBaselineWorks) {
  EXPECT_EQ(forward(d_.x, x_.get(), d_.y), CUDNN_STATUS_SUCCESS);
  const size_t need = gemm_workspace();
  ASSERT_GT(need, 0u);
  ASSERT_LE(need, size_t(1) << 16);
  EXPECT_EQ(forward(d_.x, x_.get(), d_.y, CUDNN_CONVOLUTION_FWD_ALGO_GEMM, ws_.get(), need), CUDNN_STATUS_SUCCESS);
}

TEST_F(EmuCudnnMisuse, DestroyedHandle) {
  ASSERT_EQ(cudnnDestroy(handle_), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(forward(d_.x, x_.get(), d_.y), CUDNN_STATUS_BAD_PARAM);
  EXPECT_TRUE(misuse_names("cudnnConvolutionForward"));
  EXPECT_EQ(cudnnDestroy(handle_), CUDNN_STATUS_BAD_PARAM);
  handle_ = nullptr;
}

TEST_F(EmuCudnnMisuse, DestroyedStream) {
  cudaStream_t s;
  ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
  ASSERT_EQ(cudnnSetStream(handle_, s), CUDNN_STATUS_SUCCESS);
  cudaStream_t got = nullptr;
  EXPECT_EQ(cudnnGetStream(handle_, &got), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(got, s);
  ASSERT_EQ(cudaStreamDestroy(s), cudaSuccess);
  EXPECT_EQ(forward(d_.x, x_.get(), d_.y), CUDNN_STATUS_EXECUTION_FAILED);
}

TEST_F(EmuCudnnMisuse, UnsetOrDestroyedDescriptor) {
  cudnnTensorDescriptor_t unset;
  ASSERT_EQ(cudnnCreateTensorDescriptor(&unset), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(forward(unset, x_.get(), d_.y), CUDNN_STATUS_BAD_PARAM);
  EXPECT_NE(facet::emu::last_misuse().find("has not been set"), std::string::npos);
  ASSERT_EQ(cudnnDestroyTensorDescriptor(unset), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(forward(unset, x_.get(), d_.y), CUDNN_STATUS_BAD_PARAM);
  EXPECT_NE(facet::emu::last_misuse().find("destroyed"), std::string::npos);
}

TEST_F(EmuCudnnMisuse, InconsistentShapes) {
  cudnnTensorDescriptor_t t;
  ASSERT_EQ(cudnnCreateTensorDescriptor(&t), CUDNN_STATUS_SUCCESS);
  // x with 3 channels for a filter over 4
  ASSERT_EQ(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, 3, 5, 5), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(forward(t, x_.get(), d_.y), CUDNN_STATUS_BAD_PARAM);
  int n, c, h, w;
  EXPECT_EQ(cudnnGetConvolution2dForwardOutputDim(d_.conv, t, d_.w, &n, &c, &h, &w), CUDNN_STATUS_BAD_PARAM);
  // y one pixel too narrow: NOT_SUPPORTED forward, BAD_PARAM backward and in the queries
  ASSERT_EQ(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, 2, 5, 4), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(forward(d_.x, x_.get(), t), CUDNN_STATUS_NOT_SUPPORTED);
  EXPECT_EQ(cudnnConvolutionBackwardData(handle_, &one_, d_.w, w_.get(), t, y_.get(), d_.conv,
                                         CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, nullptr, 0, &zero_, d_.x, x_.get()),
            CUDNN_STATUS_BAD_PARAM);
  size_t bytes;
  EXPECT_EQ(cudnnGetConvolutionForwardWorkspaceSize(handle_, d_.x, d_.w, d_.conv, t,
                                                    CUDNN_CONVOLUTION_FWD_ALGO_GEMM, &bytes),
            CUDNN_STATUS_BAD_PARAM);
  // y with the wrong number of maps
  ASSERT_EQ(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, 3, 5, 5), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(forward(d_.x, x_.get(), t), CUDNN_STATUS_BAD_PARAM);
  cudnnDestroyTensorDescriptor(t);
  // 2 groups for a filter of 2 maps over 4 channels: x.c != w.c * groups
  ASSERT_EQ(cudnnSetConvolutionGroupCount(d_.conv, 2), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(forward(d_.x, x_.get(), d_.y), CUDNN_STATUS_BAD_PARAM);
  // 3 output maps in 2 groups of 2 channels: k not a multiple of the group count
  cudnnFilterDescriptor_t f;
  ASSERT_EQ(cudnnCreateFilterDescriptor(&f), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnSetFilter4dDescriptor(f, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, 3, 2, 3, 3), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(forward(d_.x, x_.get(), d_.y, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, f),
            CUDNN_STATUS_BAD_PARAM);
  cudnnDestroyFilterDescriptor(f);
}

TEST_F(EmuCudnnMisuse, WorkspaceTooSmallOrMissing) {
  const size_t need = gemm_workspace();
  EXPECT_EQ(forward(d_.x, x_.get(), d_.y, CUDNN_CONVOLUTION_FWD_ALGO_GEMM, ws_.get(), need - 1),
            CUDNN_STATUS_BAD_PARAM);
  EXPECT_TRUE(misuse_names("workSpaceSizeInBytes"));
  EXPECT_EQ(forward(d_.x, x_.get(), d_.y, CUDNN_CONVOLUTION_FWD_ALGO_GEMM, nullptr, need), CUDNN_STATUS_BAD_PARAM);
  std::vector<char> host(need);
  EXPECT_EQ(forward(d_.x, x_.get(), d_.y, CUDNN_CONVOLUTION_FWD_ALGO_GEMM, host.data(), need), CUDNN_STATUS_BAD_PARAM);
}

TEST_F(EmuCudnnMisuse, HostOrShortData) {
  std::vector<float> host(cc_.x_elems());
  EXPECT_EQ(forward(d_.x, host.data(), d_.y), CUDNN_STATUS_BAD_PARAM);
  EXPECT_TRUE(misuse_names("not device-accessible"));
  DeviceBuffer short_x((cc_.x_elems() - 1) * 4);
  EXPECT_EQ(forward(d_.x, short_x.get(), d_.y), CUDNN_STATUS_BAD_PARAM);
  EXPECT_EQ(forward(d_.x, static_cast<char*>(x_.get()) + 2, d_.y), CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER);
}

TEST_F(EmuCudnnMisuse, UnsupportedTypesAndAlgorithms) {
  ConvDescriptors wrong_compute(cc_, CUDNN_DATA_BFLOAT16, CUDNN_DATA_DOUBLE, CUDNN_DEFAULT_MATH);
  size_t bytes;
  EXPECT_EQ(cudnnGetConvolutionForwardWorkspaceSize(handle_, wrong_compute.x, wrong_compute.w, wrong_compute.conv,
                                                    wrong_compute.y, CUDNN_CONVOLUTION_FWD_ALGO_GEMM, &bytes),
            CUDNN_STATUS_NOT_SUPPORTED);
  ConvDescriptors true_half(cc_, CUDNN_DATA_HALF, CUDNN_DATA_HALF, CUDNN_DEFAULT_MATH);  // not modelled
  EXPECT_EQ(cudnnGetConvolutionForwardWorkspaceSize(handle_, true_half.x, true_half.w, true_half.conv, true_half.y,
                                                    CUDNN_CONVOLUTION_FWD_ALGO_GEMM, &bytes),
            CUDNN_STATUS_NOT_SUPPORTED);
  ConvDescriptors bf16(cc_, CUDNN_DATA_BFLOAT16, CUDNN_DATA_FLOAT, CUDNN_DEFAULT_MATH);
  EXPECT_EQ(forward(d_.x, x_.get(), d_.y, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, bf16.w),
            CUDNN_STATUS_BAD_PARAM);  // float tensors, bfloat16 filter
  EXPECT_EQ(forward(d_.x, x_.get(), d_.y, CUDNN_CONVOLUTION_FWD_ALGO_FFT), CUDNN_STATUS_NOT_SUPPORTED);
  EXPECT_EQ(forward(d_.x, x_.get(), d_.y, static_cast<cudnnConvolutionFwdAlgo_t>(99)), CUDNN_STATUS_BAD_PARAM);
  cudnnTensorDescriptor_t t;
  ASSERT_EQ(cudnnCreateTensorDescriptor(&t), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NHWC, CUDNN_DATA_INT8, 1, 1, 1, 1), CUDNN_STATUS_NOT_SUPPORTED);
  EXPECT_EQ(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, -1, 1, 1), CUDNN_STATUS_BAD_PARAM);
  EXPECT_EQ(cudnnSetTensor4dDescriptor(t, static_cast<cudnnTensorFormat_t>(7), CUDNN_DATA_FLOAT, 1, 1, 1, 1),
            CUDNN_STATUS_BAD_PARAM);
  cudnnDestroyTensorDescriptor(t);
  EXPECT_EQ(cudnnSetConvolution2dDescriptor(d_.conv, 1, 1, 0, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
            CUDNN_STATUS_BAD_PARAM);
  EXPECT_EQ(cudnnSetConvolutionGroupCount(d_.conv, 0), CUDNN_STATUS_BAD_PARAM);
  cudnnConvolutionFwdAlgoPerf_t perf[1];
  int n = 0;
  EXPECT_EQ(cudnnGetConvolutionForwardAlgorithm_v7(handle_, d_.x, d_.w, d_.conv, d_.y, 0, &n, perf),
            CUDNN_STATUS_BAD_PARAM);
  EXPECT_EQ(cudnnGetConvolutionForwardAlgorithm_v7(handle_, d_.x, d_.w, d_.conv, d_.y, 1, &n, perf),
            CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(n, 1);
  EXPECT_STREQ(cudnnGetErrorString(CUDNN_STATUS_NOT_SUPPORTED), "CUDNN_STATUS_NOT_SUPPORTED");
  EXPECT_EQ(cudnnGetVersion(), static_cast<size_t>(CUDNN_VERSION));
}


}  // namespace
