// The TFLite reader: the three MediaPipe models parse to the tensor / operator counts and op
// sets their published graphs have (docs/formats-tflite.md), and malformed files (empty, text, wrong identifier,
// truncated anywhere, single flipped bytes) are refused with a facet::Error naming the file —
// never a crash. Graphs the importer cannot run (tests/fixtures/tflite/bad_*.tflite, made by
// tests/tools/gen_tflite_golden.py) are refused at load with a message naming the problem.
// The real models come from scripts/fetch-assets.sh ($FACET_ASSETS or <repo>/assets); the tests
// that need them are skipped with a message when they are missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "engine/core/error.h"
#include "engine/tflite/model.h"
#include "support/test_paths.h"
#include "engine/tflite/schema.h"

using namespace facet;
using namespace facet::tflite;

namespace {

std::string fixture(const std::string& name) { return test::fixture_path("tflite/" + name); }
std::string asset(const std::string& name) { return test::asset_path(name); }
bool exists(const std::string& p) { return test::file_exists(p); }

std::shared_ptr<std::vector<uint8_t>> read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::make_shared<std::vector<uint8_t>>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

#define SKIP_WITHOUT(path) \
  if (!exists(path)) GTEST_SKIP() << "missing " << path << " (run scripts/fetch-assets.sh or set FACET_ASSETS)"

// Parses and loads bytes; returns "" on success, else the error message. Any other exception
// (or a crash) fails the test.
std::string try_load(Context& ctx, const std::vector<uint8_t>& bytes, const std::string& name) {
  try {
    Model m = load_tflite(ctx, std::make_shared<std::vector<uint8_t>>(bytes), name, Device::cpu());
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

struct RealModel {
  const char* file;
  size_t tensors, operators;
  std::map<std::string, int> op_counts;
  std::vector<std::pair<std::string, Shape>> inputs, outputs;
};

const std::vector<RealModel>& real_models() {
  static const std::vector<RealModel> m = {
      {"face_detection_short_range.tflite", 250, 164,
       {{"DEQUANTIZE", 74}, {"CONV_2D", 21}, {"RELU", 17}, {"DEPTHWISE_CONV_2D", 16}, {"ADD", 16}, {"PAD", 11},
        {"RESHAPE", 4}, {"MAX_POOL_2D", 3}, {"CONCATENATION", 2}},
       {{"input", {1, 128, 128, 3}}},
       {{"regressors", {1, 896, 16}}, {"classificators", {1, 896, 1}}}},
      {"face_detection_full_range.tflite", 544, 354,
       {{"DEQUANTIZE", 178}, {"CONV_2D", 49}, {"RELU", 47}, {"DEPTHWISE_CONV_2D", 40}, {"ADD", 23}, {"PAD", 8},
        {"MAX_POOL_2D", 4}, {"RESIZE_BILINEAR", 3}, {"RESHAPE", 2}},
       {{"input", {1, 192, 192, 3}}},
       {{"reshaped_regressor_face_4", {1, 2304, 16}}, {"reshaped_classifier_face_4", {1, 2304, 1}}}},
      {"face_landmark.tflite", 327, 210,
       {{"DEQUANTIZE", 113}, {"CONV_2D", 25}, {"PRELU", 23}, {"DEPTHWISE_CONV_2D", 20}, {"ADD", 20},
        {"MAX_POOL_2D", 6}, {"PAD", 3}},
       {{"input_1", {1, 192, 192, 3}}},
       {{"conv2d_21", {1, 1, 1, 1404}}, {"conv2d_31", {1, 1, 1, 1}}}},
  };
  return m;
}

class TfliteReaderReal : public ::testing::TestWithParam<size_t> {};

}  // namespace

TEST_P(TfliteReaderReal, CountsOpsAndIo) {
  const RealModel& r = real_models()[GetParam()];
  const std::string path = asset(r.file);
  SKIP_WITHOUT(path);
  const ModelDef d = read_tflite_file(path);
  EXPECT_EQ(d.version, 3u);
  EXPECT_EQ(d.num_subgraphs, 1u);
  EXPECT_EQ(d.tensors.size(), r.tensors);
  EXPECT_EQ(d.operators.size(), r.operators);
  std::map<std::string, int> counts;
  for (const OperatorDef& o : d.operators) counts[builtin_op_name(o.builtin)]++;
  EXPECT_EQ(counts, r.op_counts);
  // Weights are fp16 constants behind DEQUANTIZE; every DEQUANTIZE reads a constant.
  for (const OperatorDef& o : d.operators)
    if (o.builtin == op::DEQUANTIZE) {
      ASSERT_EQ(o.inputs.size(), 1u);
      EXPECT_TRUE(d.is_constant(o.inputs[0]));
      EXPECT_EQ(d.tensors[o.inputs[0]].type, static_cast<int>(TensorType::FLOAT16));
    }
  // Options the importer relies on.
  for (const OperatorDef& o : d.operators) {
    if (o.builtin == op::CONV_2D || o.builtin == op::DEPTHWISE_CONV_2D) {
      EXPECT_TRUE(o.opt.present);
      EXPECT_GE(o.opt.stride_h, 1);
      EXPECT_EQ(o.opt.dilation_h, 1);
      EXPECT_EQ(o.opt.activation, 0);
      if (o.builtin == op::DEPTHWISE_CONV_2D) EXPECT_EQ(o.opt.depth_multiplier, 1);
    }
    if (o.builtin == op::RESIZE_BILINEAR) {
      EXPECT_FALSE(o.opt.align_corners);
      EXPECT_TRUE(o.opt.half_pixel_centers);
    }
    if (o.builtin == op::RESHAPE) EXPECT_TRUE(o.opt.has_new_shape);
  }
  Context ctx;
  Model m = load_tflite(ctx, path, Device::cpu());
  ASSERT_EQ(m.inputs().size(), r.inputs.size());
  ASSERT_EQ(m.outputs().size(), r.outputs.size());
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    EXPECT_EQ(m.inputs()[i].name, r.inputs[i].first);
    EXPECT_EQ(m.inputs()[i].shape, r.inputs[i].second);
  }
  for (size_t i = 0; i < r.outputs.size(); ++i) {
    EXPECT_EQ(m.outputs()[i].name, r.outputs[i].first);
    EXPECT_EQ(m.outputs()[i].shape, r.outputs[i].second);
  }
  EXPECT_EQ(m.num_steps(), r.operators - static_cast<size_t>(r.op_counts.at("DEQUANTIZE")));
}

TEST_P(TfliteReaderReal, TruncatedAnywhereIsAnError) {
  const RealModel& r = real_models()[GetParam()];
  const std::string path = asset(r.file);
  SKIP_WITHOUT(path);
  const auto bytes = read_bytes(path);
  Context ctx;
  const size_t n = bytes->size();
  for (size_t cut : {size_t(1), size_t(4), size_t(7), size_t(8), size_t(64), size_t(1000), n / 4, n / 2, n - 1000,
                     n - 17, n - 1}) {
    std::vector<uint8_t> t(bytes->begin(), bytes->begin() + cut);
    const std::string msg = try_load(ctx, t, "cut.tflite");
    EXPECT_NE(msg, "") << "cut at " << cut << " of " << n << " loaded";
    EXPECT_NE(msg.find("cut.tflite"), std::string::npos) << msg;
  }
}

TEST_P(TfliteReaderReal, FlippedBytesNeverCrash) {
  const RealModel& r = real_models()[GetParam()];
  const std::string path = asset(r.file);
  SKIP_WITHOUT(path);
  const auto bytes = read_bytes(path);
  Context ctx;
  // In these files the root table sits in the first KB and the other tables (tensors, operators,
  // options, vtables) after the weight buffers, in the last ~32 KB: flips are drawn from the
  // first 2 KB and the last 40 KB, where every kind of field lives (a flipped weight byte only
  // changes a weight).
  std::mt19937 rng(1234 + static_cast<unsigned>(GetParam()));
  const size_t n = bytes->size(), tail = std::min<size_t>(n, 40000);
  int refused = 0;
  for (int k = 0; k < 300; ++k) {
    std::vector<uint8_t> t = *bytes;
    const size_t pos = k % 3 == 0 ? rng() % std::min<size_t>(n, 2048) : n - tail + rng() % tail;
    t[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
    if (!try_load(ctx, t, "flip.tflite").empty()) ++refused;
  }
  EXPECT_GT(refused, 0);
}

INSTANTIATE_TEST_SUITE_P(Models, TfliteReaderReal, ::testing::Range<size_t>(0, 3),
                         [](const ::testing::TestParamInfo<size_t>& i) {
                           const std::string f = real_models()[i.param].file;
                           std::string s;
                           for (char c : f.substr(0, f.find('.'))) s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return s;
                         });

TEST(TfliteReader, RefusesNonTfliteFiles) {
  Context ctx;
  auto msg = [&](const std::string& s) {
    return try_load(ctx, std::vector<uint8_t>(s.begin(), s.end()), "bad.tflite");
  };
  EXPECT_NE(msg("").find("bad.tflite: empty file"), std::string::npos) << msg("");
  EXPECT_NE(msg("TFL3").find("too short"), std::string::npos);
  const std::string text = "This is a text file, not a model.\nSecond line.\n";
  EXPECT_NE(msg(text).find("not a TFLite file (file identifier \" is \", expected \"TFL3\")"), std::string::npos) << msg(text);
  std::string json = "{\"version\": 3, \"subgraphs\": []}";
  EXPECT_NE(msg(json).find("not a TFLite file"), std::string::npos);
  EXPECT_THROW(load_tflite(ctx, fixture("no_such_file.tflite"), Device::cpu()), Error);
  try {
    load_tflite(ctx, fixture("no_such_file.tflite"), Device::cpu());
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_file.tflite"), std::string::npos) << e.what();
  }
}

TEST(TfliteReader, RootOffsetOutOfRange) {
  const auto bytes = read_bytes(fixture("tiny_conv.tflite"));
  ASSERT_GT(bytes->size(), 100u);
  Context ctx;
  std::vector<uint8_t> t = *bytes;
  t[3] ^= 0x40;  // high byte of the root table offset
  const std::string m = try_load(ctx, t, "root.tflite");
  EXPECT_NE(m.find("root.tflite: truncated or corrupt TFLite file: offset out of range"), std::string::npos) << m;
  t = *bytes;
  t[0] = 0xfc, t[1] = 0xff, t[2] = 0xff, t[3] = 0xff;  // points far past the end (wraps nowhere)
  EXPECT_NE(try_load(ctx, t, "root.tflite").find("offset out of range"), std::string::npos);
}

// Every single-bit change of a small model (every position: bit pos % 8, plus the top bit of each
// u32's high byte, where offsets go furthest astray) either loads and runs or raises facet::Error.
TEST(TfliteReader, EveryFlippedByteOfATinyModelIsHandled) {
  const auto bytes = read_bytes(fixture("tiny_blocks.tflite"));
  ASSERT_GT(bytes->size(), 1000u);
  Context ctx;
  int refused = 0, ran = 0;
  for (size_t pos = 0; pos < bytes->size(); ++pos) {
    std::vector<uint8_t> masks = {static_cast<uint8_t>(1u << (pos % 8))};
    if (pos % 4 == 3 && pos % 8 != 7) masks.push_back(0x80);
    for (uint8_t mask : masks) {
      std::vector<uint8_t> t = *bytes;
      t[pos] ^= mask;
      try {
        Model m = load_tflite(ctx, std::make_shared<std::vector<uint8_t>>(t), "tiny.tflite", Device::cpu());
        std::vector<Tensor> in;
        for (const TensorInfo& i : m.inputs()) in.push_back(Tensor::zeros(ctx, i.shape));
        m.run(ctx, in);
        ++ran;
      } catch (const Error&) {
        ++refused;
      }
    }
  }
  std::cout << "[ flips    ] " << refused << " refused, " << ran << " loaded and ran\n";
  EXPECT_GT(refused, 100);
  EXPECT_GT(ran, 100);  // flips inside weights, names or padding bytes are harmless
}

TEST(TfliteReader, UnsupportedGraphsAreRefusedByName) {
  std::ifstream in(fixture("bad_graphs.json"));
  ASSERT_TRUE(in.good()) << fixture("bad_graphs.json");
  const nlohmann::json expected = nlohmann::json::parse(in);
  ASSERT_GE(expected.size(), 6u);
  Context ctx;
  for (const auto& [file, fragment] : expected.items()) {
    const std::string path = fixture(file);
    try {
      load_tflite(ctx, path, Device::cpu());
      ADD_FAILURE() << file << " loaded";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(fragment.get<std::string>()), std::string::npos) << file << ": " << m;
      EXPECT_NE(m.find(file), std::string::npos) << "message does not name the file: " << m;
    }
  }
}

TEST(TfliteReader, OpcodeStylesResolve) {
  // tiny_conv writes only deprecated_builtin_code, tiny_blocks both fields, tiny_add only
  // builtin_code, bad_gelu a code > 127 (deprecated byte = 127).
  const ModelDef conv = read_tflite_file(fixture("tiny_conv.tflite"));
  std::set<std::string> names;
  for (const auto& o : conv.operators) names.insert(builtin_op_name(o.builtin));
  EXPECT_EQ(names, (std::set<std::string>{"DEQUANTIZE", "CONV_2D", "DEPTHWISE_CONV_2D"}));
  const ModelDef add = read_tflite_file(fixture("tiny_add.tflite"));
  for (const auto& o : add.operators) EXPECT_EQ(o.builtin, op::ADD);
  const ModelDef gelu = read_tflite_file(fixture("bad_gelu.tflite"));
  EXPECT_EQ(std::string(builtin_op_name(gelu.operators[0].builtin)), "GELU");
  const ModelDef blocks = read_tflite_file(fixture("tiny_blocks.tflite"));
  int reshapes = 0;
  for (const auto& o : blocks.operators)
    if (o.builtin == op::RESHAPE) ++reshapes;
  EXPECT_EQ(reshapes, 3);
}
