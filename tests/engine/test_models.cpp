// SAEHD models (engine/models): option parsing and validation errors, presets, parameter counts
// against an independent table computed from DeepFakeArchi.py's layer formulas (docs/models.md)
// and against built modules, FLOPs against the hand-derived estimates there, output shapes of every df/liae x u/d/t variant, the
// training / swap wirings, state-dict names, and a double-precision gradient check of a tiny DF
// model. Networks here use toy dims (allow_small_dims) so the file runs in seconds on a CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/models/saehd_loss.h"
#include "engine/models/saehd_model.h"
#include "engine/models/saehd_stats.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "support/sampled_gradcheck.h"

using namespace facet;
using namespace facet::models;

namespace {

const std::vector<std::string> kOpts = {"", "u", "d", "t", "ud", "ut", "dt", "udt"};

std::string archi_name(const std::string& type, const std::string& opts) { return opts.empty() ? type : type + "-" + opts; }

SaehdOptions toy(const std::string& archi, int res, int ae = 8, int e = 4, int d = 4, int m = 2) {
  SaehdOptions o;
  o.archi = archi;
  o.resolution = res;
  o.ae_dims = ae;
  o.e_dims = e;
  o.d_dims = d;
  o.d_mask_dims = m;
  o.allow_small_dims = true;
  return o;
}

SaehdOptions dfl(const std::string& archi, int res, int ae, int e, int d, int m) {
  SaehdOptions o = toy(archi, res, ae, e, d, m);
  o.allow_small_dims = false;
  return o;
}

void expect_error(const SaehdOptions& o, const std::vector<std::string>& parts) {
  try {
    validated(o);
    FAIL() << "accepted " << o.archi << " @" << o.resolution;
  } catch (const Error& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "'" << p << "' not in: " << e.what();
  }
}

Tensor images(Context& ctx, int64_t n, int64_t r, DType dt = DType::F32, Device dev = Device::cpu()) {
  return Tensor::uniform(ctx, {n, r, r, 3}, 0, 1, dt, dev);
}

std::map<std::string, Shape> param_shapes(const nn::Module& m) {
  std::map<std::string, Shape> s;
  for (const auto& [n, t] : m.named_parameters()) s[n] = t.shape();
  return s;
}

}  // namespace

// ---------------------------------------------------------------- options

TEST(SaehdOptions, ParseArchi) {
  Archi a = parse_archi("df");
  EXPECT_TRUE(a.is_df());
  EXPECT_FALSE(a.u || a.d || a.t);
  a = parse_archi("liae-ud");
  EXPECT_TRUE(a.is_liae() && a.u && a.d && !a.t);
  EXPECT_EQ(parse_archi("df-tdu").str(), "df-udt");
  EXPECT_EQ(parse_archi("liae-uu").str(), "liae-u");  // repeats allowed, as in DFL
  for (const char* bad : {"", "DF", "dfx", "df-", "df-x", "df-u-d", "liae_ud", "-ud"}) {
    try {
      parse_archi(bad);
      FAIL() << "accepted \"" << bad << "\"";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("archi"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("df"), std::string::npos) << e.what();
    }
  }
  try {
    parse_archi("df-uc");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'c'"), std::string::npos) << e.what();
  }
}

TEST(SaehdOptions, ValidationErrorsNameOptionAndRange) {
  SaehdOptions o = validated(SaehdOptions{});
  EXPECT_EQ(o.d_mask_dims, 22);  // DFL default d_dims/3 -> even
  EXPECT_EQ(o.archi, "liae-ud");
  auto with = [](auto f) {
    SaehdOptions x;
    f(x);
    return x;
  };
  expect_error(with([](SaehdOptions& x) { x.resolution = 48; }), {"resolution", "48", "64..512"});
  expect_error(with([](SaehdOptions& x) { x.resolution = 544; }), {"resolution", "64..512"});
  expect_error(with([](SaehdOptions& x) { x.resolution = 136; x.archi = "df"; }), {"resolution", "multiple of 16"});
  expect_error(with([](SaehdOptions& x) { x.resolution = 144; x.archi = "df-ud"; }), {"resolution", "multiple of 32"});
  expect_error(with([](SaehdOptions& x) { x.resolution = 144; x.archi = "liae-t"; }), {"resolution", "multiple of 32"});
  EXPECT_NO_THROW(validated(with([](SaehdOptions& x) { x.resolution = 144; x.archi = "liae-u"; })));
  expect_error(with([](SaehdOptions& x) { x.face_type = "full"; }), {"face_type", "h, mf, f, wf, head"});
  expect_error(with([](SaehdOptions& x) { x.archi = "dfl"; }), {"archi", "dfl"});
  expect_error(with([](SaehdOptions& x) { x.ae_dims = 16; }), {"ae_dims", "32..1024"});
  expect_error(with([](SaehdOptions& x) { x.ae_dims = 2048; }), {"ae_dims", "32..1024"});
  expect_error(with([](SaehdOptions& x) { x.e_dims = 63; }), {"e_dims", "even", "16..256"});
  expect_error(with([](SaehdOptions& x) { x.e_dims = 8; }), {"e_dims", "16..256"});
  expect_error(with([](SaehdOptions& x) { x.d_dims = 258; }), {"d_dims", "16..256"});
  expect_error(with([](SaehdOptions& x) { x.d_mask_dims = 8; }), {"d_mask_dims", "16..256"});
  expect_error(with([](SaehdOptions& x) { x.d_mask_dims = 21; }), {"d_mask_dims", "even"});
  // allow_small_dims lowers the minimum to 2 (evenness stays)
  EXPECT_NO_THROW(validated(toy("df-ud", 64)));
  expect_error(toy("df", 64, 8, 3), {"e_dims", "2..256"});
  expect_error(toy("df", 64, 1), {"ae_dims", "2..1024"});
  for (const auto& name : {"h", "mf", "f", "wf", "head"})
    EXPECT_NO_THROW(validated(with([&](SaehdOptions& x) { x.face_type = name; })));
}

TEST(SaehdOptions, DefaultMaskDimsAndPresets) {
  EXPECT_EQ(default_d_mask_dims(64), 22);
  EXPECT_EQ(default_d_mask_dims(96), 32);
  EXPECT_EQ(default_d_mask_dims(48), 16);
  EXPECT_EQ(default_d_mask_dims(16), 16);        // 6, raised to DFL's minimum
  EXPECT_EQ(default_d_mask_dims(16, true), 6);   // 16/3 = 5 -> even 6
  EXPECT_EQ(default_d_mask_dims(4, true), 2);
  struct P { const char* name; int res; const char* archi; int ae, e, d, m; };
  for (const P& p : {P{"quick96", 96, "df-ud", 128, 64, 64, 16}, P{"saehd", 128, "liae-ud", 256, 64, 64, 22},
                     P{"df128", 128, "df-ud", 256, 64, 64, 22}, P{"tiny", 64, "df-ud", 64, 16, 16, 8}}) {
    SaehdOptions o = saehd_preset(p.name);
    EXPECT_EQ(o.resolution, p.res) << p.name;
    EXPECT_EQ(o.archi, p.archi) << p.name;
    EXPECT_EQ(o.ae_dims, p.ae) << p.name;
    EXPECT_EQ(o.e_dims, p.e) << p.name;
    EXPECT_EQ(o.d_dims, p.d) << p.name;
    EXPECT_EQ(o.d_mask_dims, p.m) << p.name;
    EXPECT_EQ(o.face_type, "f") << p.name;
    EXPECT_TRUE(o.masked_training) << p.name;
  }
  EXPECT_EQ(saehd_preset_names().size(), 4u);
  try {
    saehd_preset("quick128");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("quick96, saehd, df128, tiny"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- parameter counts and FLOPs

TEST(SaehdStats, ParameterCountsMatchTheReferenceTable) {
  // The independent counts of docs/models.md ("reference" column, computed from DFL's
  // DeepFakeArchi.py), to the printed precision, plus the exact counts re-derived by hand from the
  // layer formulas (docs/models.md shows the derivation).
  struct Row {
    SaehdOptions o;
    double enc, inter, dec, total;                 // as printed (M)
    int64_t enc_x, inter_x, dec_x, total_x;        // exact
  };
  const std::vector<Row> rows = {
      {dfl("liae-ud", 128, 256, 64, 64, 22), 4.31, 19.93, 38.20, 82.4, 4306560, 19933440, 38203115, 82376555},
      {dfl("df", 128, 256, 64, 64, 22), 4.31, 14.96, 19.14, 57.5, 4306560, 14959872, 19136000, 57538432},
      {dfl("df-ud", 128, 256, 64, 64, 22), 4.31, 11.80, 19.18, 54.5, 4306560, 11801856, 19181291, 54470998},
      {dfl("liae-ud", 256, 256, 64, 64, 22), 4.31, 51.42, 38.20, 145.3, 4306560, 51415296, 38203115, 145340267},
      {dfl("df-udt", 224, 256, 64, 64, 22), 15.65, 9.65, 34.46, 94.2, 15654144, 9646592, 34455979, 94212694},
      {saehd_preset("quick96"), 4.31, 3.10, 15.44, 38.3, 4306560, 3098368, 15444701, 38294330},
  };
  for (const Row& r : rows) {
    SaehdParamCounts c = saehd_param_counts(r.o);
    const std::string what = r.o.archi + " @" + std::to_string(r.o.resolution);
    EXPECT_NEAR(c.encoder / 1e6, r.enc, 0.005 + 1e-9) << what;
    EXPECT_NEAR(c.inter / 1e6, r.inter, 0.005 + 1e-9) << what;
    EXPECT_NEAR(c.decoder / 1e6, r.dec, 0.005 + 1e-9) << what;
    EXPECT_NEAR(c.total / 1e6, r.total, 0.05 + 1e-9) << what;
    EXPECT_EQ(c.encoder, r.enc_x) << what;
    EXPECT_EQ(c.inter, r.inter_x) << what;
    EXPECT_EQ(c.decoder, r.dec_x) << what;
    EXPECT_EQ(c.total, r.total_x) << what;
    EXPECT_EQ(c.total, c.encoder + c.n_inters * c.inter + c.n_decoders * c.decoder) << what;
  }
  EXPECT_EQ(saehd_param_counts(saehd_preset("tiny")).total, 3164490);
}

TEST(SaehdStats, AnalyticLayersMatchBuiltModels) {
  // Every variant, toy dims: each analytic layer is a real "<part>/<name>/weight" + "/bias" of the
  // expected shape, nothing else exists, and part / total counts agree.
  Context ctx;
  for (const char* type : {"df", "liae"})
    for (const auto& opts : kOpts) {
      const SaehdOptions o = toy(archi_name(type, opts), 64, 8, 4, 6, 2);
      auto model = SaehdModel::create(ctx, o);
      const SaehdParamCounts c = saehd_param_counts(o);
      EXPECT_EQ(model->num_parameters(), c.total) << o.archi;
      std::map<std::string, Shape> have = param_shapes(*model);
      size_t expected_tensors = 0;
      const std::vector<std::string> parts = parse_archi(o.archi).is_df()
                                                 ? std::vector<std::string>{"encoder", "inter", "decoder_src", "decoder_dst"}
                                                 : std::vector<std::string>{"encoder", "inter_AB", "inter_B", "decoder"};
      for (const auto& part : parts) {
        int64_t sum = 0;
        for (const LayerShape& l : saehd_layer_shapes(o, part)) {
          const std::string w = part + "/" + l.name + "/weight", b = part + "/" + l.name + "/bias";
          const Shape ws = l.k ? Shape{l.out, l.k, l.k, l.in} : Shape{l.in, l.out};
          ASSERT_TRUE(have.count(w)) << o.archi << ": no " << w;
          EXPECT_EQ(have[w], ws) << o.archi << " " << w;
          ASSERT_TRUE(have.count(b)) << o.archi << ": no " << b;
          EXPECT_EQ(have[b], Shape{l.out}) << o.archi << " " << b;
          sum += l.params();
          expected_tensors += 2;
        }
        EXPECT_EQ(model->part(part).num_parameters(), sum) << o.archi << " " << part;
      }
      EXPECT_EQ(have.size(), expected_tensors) << o.archi;
    }
  // Real DFL-range models of each family: the tiny preset (df-ud) and a small liae-ud.
  for (const SaehdOptions& o : {saehd_preset("tiny"), dfl("liae-ud", 64, 32, 16, 16, 16)}) {
    auto model = SaehdModel::create(ctx, o);
    EXPECT_EQ(model->num_parameters(), saehd_param_counts(o).total) << o.archi;
  }
}

TEST(SaehdStats, FlopsMatchThePerfAnchors) {
  // The hand-derived estimates of docs/models.md ("anchor" column, from DeepFakeArchi.py's layer
  // shapes), archi df, 128, 256/64/64/22: encoder 0.649, inter 0.164, decoder image 25.37 + mask
  // 1.56 GMAC = 55.5 GFLOP forward, 166.5 GFLOP per training image. Same method: df-ud 128 (our df128 preset) 45.8, liae-ud 128 54.2, Quick96 24.2 GFLOP per
  // training image. Tolerance 1%: the anchors are estimates rounded to 3 digits (df-ud: 45.7 here).
  SaehdFlops f = saehd_flops(dfl("df", 128, 256, 64, 64, 22));
  EXPECT_NEAR(f.encoder / 2e9, 0.649, 0.001);
  EXPECT_NEAR(f.inter / 2e9, 0.164, 0.001);
  EXPECT_NEAR(f.decoder_image / 2e9, 25.37, 0.01);
  EXPECT_NEAR(f.decoder_mask / 2e9, 1.56, 0.01);
  EXPECT_NEAR(f.forward_per_image / 1e9, 55.5, 0.1);
  EXPECT_NEAR(f.training_per_image / 1e9, 166.5, 0.2);
  EXPECT_DOUBLE_EQ(f.swap_per_image, f.forward_per_image);
  auto train_gflop = [](const SaehdOptions& o) { return saehd_flops(o).training_per_image / 1e9; };
  EXPECT_NEAR(train_gflop(saehd_preset("df128")), 45.8, 0.458);
  EXPECT_NEAR(saehd_flops(saehd_preset("df128")).forward_per_image / 2e9, 7.63, 0.0763);
  EXPECT_NEAR(train_gflop(saehd_preset("saehd")), 54.2, 0.542);
  EXPECT_NEAR(train_gflop(saehd_preset("quick96")), 24.2, 0.242);
  EXPECT_NEAR(train_gflop(dfl("liae", 128, 256, 64, 64, 22)), 200.3, 2.0);
  EXPECT_NEAR(train_gflop(dfl("df", 256, 256, 64, 64, 22)), 665.8, 6.7);
  // LIAE: a training image passes 1.5 Inters on average, the swap one.
  SaehdFlops l = saehd_flops(saehd_preset("saehd"));
  EXPECT_DOUBLE_EQ(l.forward_per_image - l.swap_per_image, 0.5 * l.inter);
  EXPECT_NEAR(train_gflop(saehd_preset("tiny")), 0.781, 0.001);
}

// ---------------------------------------------------------------- shapes and wiring

TEST(SaehdModels, OutputShapesOfEveryVariant) {
  Context ctx;
  NoGradGuard ng(ctx);
  for (const char* type : {"df", "liae"})
    for (const auto& opts : kOpts) {
      const bool needs32 = opts.find('d') != std::string::npos || opts.find('t') != std::string::npos;
      std::vector<int> resolutions = {64, 96};
      if (!needs32) resolutions.push_back(80);
      for (int r : resolutions) {
        const SaehdOptions o = toy(archi_name(type, opts), r);
        const std::string what = o.archi + " @" + std::to_string(r);
        auto model = SaehdModel::create(ctx, o);
        SaehdPredictions p = model->train_forward(ctx, images(ctx, 2, r), images(ctx, 3, r), true);
        const std::vector<std::pair<ImageAndMask*, int64_t>> outs = {{&p.src_src, 2}, {&p.dst_dst, 3}, {&p.src_dst, 3}};
        for (auto [im, n] : outs) {
          EXPECT_EQ(im->image.shape(), (Shape{n, r, r, 3})) << what;
          EXPECT_EQ(im->mask.shape(), (Shape{n, r, r, 1})) << what;
        }
        for (double v : p.src_dst.image.to_double(ctx)) ASSERT_TRUE(v > 0 && v < 1) << what;
        for (double v : p.dst_dst.mask.to_double(ctx)) ASSERT_TRUE(v > 0 && v < 1) << what;
        ImageAndMask s = model->swap(ctx, images(ctx, 1, r));
        EXPECT_EQ(s.image.shape(), (Shape{1, r, r, 3})) << what;
        EXPECT_EQ(s.mask.shape(), (Shape{1, r, r, 1})) << what;
        EXPECT_EQ(model->reconstruct_src(ctx, images(ctx, 1, r)).image.shape(), (Shape{1, r, r, 3})) << what;
        EXPECT_EQ(model->reconstruct_dst(ctx, images(ctx, 1, r)).mask.shape(), (Shape{1, r, r, 1})) << what;
      }
    }
}

TEST(SaehdModels, IntermediateShapesAndPixelNorm) {
  // R = 64, e 4 (8e = 32), ae 8: encoder R/16 (R/32 with t); Inter at L = R/16 (R/32 with d),
  // upscaled to 2L unless t; LIAE Inters output 2*ae and the decoder takes 4*ae.
  Context ctx;
  NoGradGuard ng(ctx);
  struct Case { const char* archi; int64_t enc, code_res, code_ch; };
  for (const Case& c : {Case{"df", 4 * 4 * 32, 8, 8}, Case{"df-d", 4 * 4 * 32, 4, 8}, Case{"df-t", 2 * 2 * 32, 4, 8},
                        Case{"df-dt", 2 * 2 * 32, 2, 8}, Case{"liae-ud", 4 * 4 * 32, 4, 16}, Case{"liae-udt", 2 * 2 * 32, 2, 16}}) {
    auto model = SaehdModel::create(ctx, toy(c.archi, 64));
    auto& enc = static_cast<Encoder&>(model->part("encoder"));
    auto& inter = static_cast<Inter&>(model->part(parse_archi(c.archi).is_df() ? "inter" : "inter_AB"));
    Tensor e = enc(ctx, images(ctx, 2, 64));
    EXPECT_EQ(e.shape(), (Shape{2, c.enc})) << c.archi;
    Tensor z = inter(ctx, e);
    EXPECT_EQ(z.shape(), (Shape{2, c.code_res, c.code_res, c.code_ch})) << c.archi;
  }
  // `u`: the flattened encoder output times rsqrt(mean(x^2) + 1e-6) per sample; the same weights
  // without `u` give x.
  for (const char* opts : {"u", "ut"}) {
    Archi with_u = parse_archi(std::string("df-") + opts), without_u = with_u;
    without_u.u = false;
    Context c1(Device::cpu(), 11), c2(Device::cpu(), 11);
    Encoder eu(c1, 3, 4, with_u), en(c2, 3, 4, without_u);
    Tensor x = images(c1, 2, 64);
    std::vector<double> yu = eu(c1, x).to_double(c1), yn = en(c2, x).to_double(c2);
    ASSERT_EQ(yu.size(), yn.size());
    const size_t f = yu.size() / 2;
    for (size_t b = 0; b < 2; ++b) {
      double ms = 0;
      for (size_t i = 0; i < f; ++i) ms += yn[b * f + i] * yn[b * f + i] / f;
      for (size_t i = 0; i < f; ++i) ASSERT_NEAR(yu[b * f + i], yn[b * f + i] / std::sqrt(ms + 1e-6), 1e-5) << opts;
    }
  }
  auto model = SaehdModel::create(ctx, toy("df", 64));
  EXPECT_THROW(model->swap(ctx, images(ctx, 1, 96)), Error);
  try {
    model->train_forward(ctx, images(ctx, 1, 64), Tensor::zeros(ctx, {1, 64, 64, 1}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("resolution 64"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model->part("inter_AB"), Error);
}

TEST(SaehdModels, TrainingAndSwapWiring) {
  // DF: the swap is decoder_src(inter(encoder(dst))). LIAE: src and swap codes are
  // concat(AB, AB), dst's concat(B, AB) on the channel axis, all through one decoder.
  Context ctx;
  NoGradGuard ng(ctx);
  Tensor src = images(ctx, 2, 64), dst = images(ctx, 2, 64);
  {
    auto m = SaehdModel::create(ctx, toy("df-ud", 64));
    auto& df = static_cast<DFModel&>(*m);
    SaehdPredictions p = df.train_forward(ctx, src, dst, true);
    EXPECT_EQ(p.src_dst.image.to_double(ctx), df.swap(ctx, dst).image.to_double(ctx));
    EXPECT_EQ(p.src_dst.mask.to_double(ctx), df.decoder_src->forward(ctx, df.inter->forward(ctx, df.encoder->forward(ctx, dst))).mask.to_double(ctx));
    EXPECT_EQ(p.dst_dst.image.to_double(ctx), df.reconstruct_dst(ctx, dst).image.to_double(ctx));
    EXPECT_EQ(p.src_src.image.to_double(ctx), df.reconstruct_src(ctx, src).image.to_double(ctx));
    EXPECT_NE(p.src_dst.image.to_double(ctx), p.dst_dst.image.to_double(ctx));
    EXPECT_FALSE(df.train_forward(ctx, src, dst).src_dst.image.defined());
  }
  {
    auto m = SaehdModel::create(ctx, toy("liae-ud", 64));
    auto& li = static_cast<LIAEModel&>(*m);
    SaehdPredictions p = li.train_forward(ctx, src, dst, true);
    Tensor e = li.encoder->forward(ctx, dst);
    Tensor b = li.inter_B->forward(ctx, e), ab = li.inter_AB->forward(ctx, e);
    EXPECT_EQ(p.dst_dst.image.to_double(ctx), li.decoder->forward(ctx, concat(ctx, {b, ab}, -1)).image.to_double(ctx));
    EXPECT_EQ(p.src_dst.image.to_double(ctx), li.decoder->forward(ctx, concat(ctx, {ab, ab}, -1)).image.to_double(ctx));
    EXPECT_EQ(p.src_dst.mask.to_double(ctx), li.swap(ctx, dst).mask.to_double(ctx));
    EXPECT_EQ(p.src_src.image.to_double(ctx), li.reconstruct_src(ctx, src).image.to_double(ctx));
    EXPECT_EQ(p.dst_dst.mask.to_double(ctx), li.reconstruct_dst(ctx, dst).mask.to_double(ctx));
    // inter_B only sees dst: copying AB into B makes dst's code concat(AB, AB), i.e. the swap.
    li.inter_B->load_state_dict(ctx, li.inter_AB->state_dict());
    EXPECT_EQ(li.reconstruct_dst(ctx, dst).image.to_double(ctx), li.swap(ctx, dst).image.to_double(ctx));
  }
}

TEST(SaehdModels, StateDictNamesAreStable) {
  Context ctx;
  auto df = SaehdModel::create(ctx, toy("df-ud", 64));
  std::vector<std::string> names;
  for (const auto& [n, t] : df->named_parameters()) names.push_back(n);
  std::vector<std::string> want;
  auto wb = [&](const std::string& p) {
    want.push_back(p + "/weight");
    want.push_back(p + "/bias");
  };
  for (int i = 0; i < 4; ++i) wb("encoder/down1/downs_" + std::to_string(i) + "/conv1");
  wb("inter/dense1");
  wb("inter/dense2");
  wb("inter/upscale1/conv1");
  for (const char* dec : {"decoder_src", "decoder_dst"}) {
    const std::string d = dec;
    for (int i = 0; i < 3; ++i) wb(d + "/upscale" + std::to_string(i) + "/conv1");
    for (int i = 0; i < 3; ++i) {
      wb(d + "/res" + std::to_string(i) + "/conv1");
      wb(d + "/res" + std::to_string(i) + "/conv2");
    }
    for (int i = 0; i < 3; ++i) wb(d + "/upscalem" + std::to_string(i) + "/conv1");
    wb(d + "/out_conv");
    for (int i = 1; i <= 3; ++i) wb(d + "/out_conv" + std::to_string(i));
    wb(d + "/upscalem3/conv1");
    wb(d + "/out_convm");
  }
  EXPECT_EQ(names, want);

  auto li = SaehdModel::create(ctx, toy("liae-udt", 64));
  std::map<std::string, Shape> s = param_shapes(*li);
  const std::vector<std::pair<std::string, Shape>> some = {
      {"encoder/down1/conv1/weight", {4, 5, 5, 3}},     {"encoder/res1/conv2/bias", {4}},
      {"encoder/down5/conv1/weight", {32, 5, 5, 32}},   {"encoder/res5/conv1/weight", {32, 3, 3, 32}},
      {"inter_AB/dense1/weight", {2 * 2 * 32, 8}},      {"inter_B/dense2/weight", {8, 2 * 2 * 16}},
      {"decoder/upscale0/conv1/weight", {4 * 32, 3, 3, 32}}, {"decoder/upscale3/conv1/weight", {4 * 8, 3, 3, 16}},
      {"decoder/res3/conv2/bias", {8}},                 {"decoder/upscalem4/conv1/weight", {4 * 2, 3, 3, 4}},
      {"decoder/out_conv3/weight", {3, 3, 3, 8}},       {"decoder/out_convm/weight", {1, 1, 1, 2}}};
  for (const auto& [n, shape] : some) {
    ASSERT_TRUE(s.count(n)) << n;
    EXPECT_EQ(s[n], shape) << n;
  }
  EXPECT_EQ(s.count("inter_AB/upscale1/conv1/weight"), 0u);  // no Inter upscale with t
  EXPECT_EQ(li->children().front().first, "encoder");
  // Same seed, same weights.
  Context c1(Device::cpu(), 99), c2(Device::cpu(), 99);
  auto a = SaehdModel::create(c1, toy("liae-ud", 64)), b = SaehdModel::create(c2, toy("liae-ud", 64));
  auto na = a->named_parameters(), nb = b->named_parameters();
  ASSERT_EQ(na.size(), nb.size());
  for (size_t i = 0; i < na.size(); ++i) EXPECT_EQ(na[i].second.to_double(c1), nb[i].second.to_double(c2)) << na[i].first;
}

TEST(SaehdModels, TinyDfGradCheckDouble) {
  // d<r, outputs>/dθ of a toy DF model (both decoders, images and masks) against central
  // differences, for sampled elements of every parameter and of the input.
  Context ctx(Device::cpu(), 3);
  auto model = SaehdModel::create(ctx, toy("df-ud", 64, 8, 4, 4, 2), {Device::cpu(), DType::F64});
  // Random biases move pre-activations away from the leaky-ReLU kinks (a zero-bias toy net keeps
  // many of them within a finite-difference step of 0).
  for (auto& [name, t] : model->named_parameters())
    if (name.size() > 5 && name.compare(name.size() - 5, 5, "/bias") == 0)
      t.copy_from(ctx, Tensor::uniform(ctx, t.shape(), -0.2, 0.2, DType::F64, Device::cpu()));
  Tensor src = images(ctx, 1, 64, DType::F64).set_requires_grad(true);
  Tensor dst = images(ctx, 1, 64, DType::F64);
  std::vector<Tensor> r;
  for (const Shape& s : {Shape{1, 64, 64, 3}, Shape{1, 64, 64, 1}, Shape{1, 64, 64, 3}, Shape{1, 64, 64, 1}})
    r.push_back(Tensor::uniform(ctx, s, -1, 1, DType::F64, Device::cpu()));
  auto objective = [&]() {
    SaehdPredictions p = model->train_forward(ctx, src, dst);
    const Tensor outs[4] = {p.src_src.image, p.src_src.mask, p.dst_dst.image, p.dst_dst.mask};
    Tensor total;
    for (int i = 0; i < 4; ++i) {
      Tensor s = sum(ctx, mul(ctx, outs[i], r[i]));
      total = total.defined() ? add(ctx, total, s) : s;
    }
    return total;
  };
  backward(ctx, objective());
  auto value = [&]() {
    NoGradGuard ng(ctx);
    return objective().to_double(ctx)[0];
  };
  auto checked = model->named_parameters();
  checked.emplace_back("input", src);
  const test::SampledGradcheck gc = test::sampled_gradcheck(ctx, checked, value, 7, 3, 3e-6);
  EXPECT_GT(gc.checked, 200);
  EXPECT_LT(gc.retried * 10, gc.checked) << gc.retried << " of " << gc.checked << " elements needed smaller steps";
}

// ---------------------------------------------------------------- GPU (skips without a device)

TEST(GpuModels, ForwardLossAndGradientsMatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (const char* archi : {"df-ud", "liae-udt"}) {
    Context cc(Device::cpu(), 5), gc(Device::cuda(0), 5);
    const SaehdOptions o = toy(archi, 64, 16, 8, 8, 4);
    auto cm = SaehdModel::create(cc, o);
    auto gm = SaehdModel::create(gc, o, {Device::cuda(0), DType::F32});
    gm->load_state_dict(gc, cm->state_dict());
    Tensor src = images(cc, 2, 64), dst = images(cc, 2, 64);
    Tensor m = Tensor::uniform(cc, {2, 64, 64, 1}, 0, 1, DType::F32, Device::cpu());
    const SaehdLossConfig lc = SaehdLossConfig::for_resolution(64);
    auto run = [&](Context& ctx, SaehdModel& model, std::vector<double>* grads) {
      auto to = [&](const Tensor& t) { return t.to(ctx, ctx.device()); };
      SaehdPredictions p = model.train_forward(ctx, to(src), to(dst));
      Tensor ls = saehd_side_loss(ctx, lc, to(src), p.src_src.image, p.src_src.mask, to(m)).total;
      Tensor ld = saehd_side_loss(ctx, lc, to(dst), p.dst_dst.image, p.dst_dst.mask, to(m)).total;
      Tensor obj = saehd_objective(ctx, ls, ld);
      const double v = obj.to_double(ctx)[0];
      backward(ctx, obj);
      for (auto& [n, t] : model.named_parameters()) {
        std::vector<double> g = t.grad().to_double(ctx);
        grads->insert(grads->end(), g.begin(), g.begin() + std::min<size_t>(g.size(), 16));
      }
      return v;
    };
    std::vector<double> gcpu, ggpu;
    const double vc = run(cc, *cm, &gcpu), vg = run(gc, *gm, &ggpu);
    EXPECT_NEAR(vg, vc, 1e-3 * std::fabs(vc)) << archi;
    ASSERT_EQ(gcpu.size(), ggpu.size());
    double scale = 0;
    for (double g : gcpu) scale = std::max(scale, std::fabs(g));
    for (size_t i = 0; i < gcpu.size(); ++i) EXPECT_NEAR(ggpu[i], gcpu[i], 2e-2 * scale) << archi << " grad " << i;
  }
}

