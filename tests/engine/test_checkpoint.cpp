// Checkpoint tests: safetensors round trips are bit-exact for every dtype and rank, files written
// by hand from the format spec load, and every kind of damage (truncation, flipped bits in the
// data, the header or its length, foreign layouts that break the format's rules) and every
// model mismatch in load_into is refused with a facet::Error naming the file and the tensor.
// Writes are atomic: a failed save leaves the previous checkpoint and no temporary file behind.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"

namespace facet {
namespace {

namespace fs = std::filesystem;
using Named = std::vector<std::pair<std::string, Tensor>>;

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::vector<unsigned char>& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// A safetensors file from a header string and a data buffer, exactly per the spec.
std::vector<unsigned char> make_file(std::string header, const std::vector<unsigned char>& data, bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  std::vector<unsigned char> b(8 + header.size() + data.size());
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(n >> (8 * i));
  std::copy(header.begin(), header.end(), b.begin() + 8);
  std::copy(data.begin(), data.end(), b.begin() + 8 + static_cast<long>(header.size()));
  return b;
}

std::vector<unsigned char> f32_bytes(const std::vector<float>& v) {
  std::vector<unsigned char> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// Random bytes (every bit pattern, NaNs and denormals included) so "bit-exact" means something.
Tensor random_bits(Context& ctx, const Shape& shape, DType dt, std::mt19937& rng) {
  Tensor t = Tensor::empty(ctx, shape, dt, Device::cpu());
  auto* p = static_cast<unsigned char*>(t.data());
  for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<unsigned char>(rng());
  return t;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = fs::temp_directory_path().string() + "/facet_ckpt_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // Files in the test directory whose name contains ".tmp-" (leftover temporaries).
  std::vector<std::string> temp_files() const {
    std::vector<std::string> r;
    for (const auto& e : fs::recursive_directory_iterator(dir_))
      if (e.path().filename().string().find(".tmp-") != std::string::npos) r.push_back(e.path().string());
    return r;
  }

  // Runs fn, requires a facet::Error whose message contains every one of `parts`.
  static void expect_error(const std::function<void()>& fn, const std::vector<std::string>& parts) {
    try {
      fn();
    } catch (const Error& e) {
      std::string msg = e.what();
      for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
      return;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "expected facet::Error, got another exception: " << e.what();
      return;
    }
    ADD_FAILURE() << "expected a facet::Error mentioning '" << (parts.empty() ? "" : parts[0]) << "'";
  }

  // A small valid checkpoint: two f32 tensors and one f64.
  Named small_model() {
    std::mt19937 rng(7);
    return {{"enc.w", random_bits(ctx_, {3, 4}, DType::F32, rng)},
            {"enc.b", random_bits(ctx_, {4}, DType::F32, rng)},
            {"dec.w", random_bits(ctx_, {2, 2}, DType::F64, rng)}};
  }

  Context ctx_;
  std::string dir_;
};

TEST_F(Checkpoint, RoundTripIsBitExactForEveryDtypeAndRank) {
  std::mt19937 rng(1234);
  Named in = {
      {"f32.rank4", random_bits(ctx_, {2, 3, 4, 5}, DType::F32, rng)},
      {"f32.rank1", random_bits(ctx_, {7}, DType::F32, rng)},
      {"f32.one", random_bits(ctx_, {1}, DType::F32, rng)},
      {"f32.scalar", random_bits(ctx_, {}, DType::F32, rng)},
      {"f32.empty", random_bits(ctx_, {0, 3}, DType::F32, rng)},
      {"f64.rank2", random_bits(ctx_, {3, 4}, DType::F64, rng)},
      {"f64.scalar", random_bits(ctx_, {}, DType::F64, rng)},
      {"bf16.rank3", random_bits(ctx_, {2, 2, 3}, DType::BF16, rng)},
      {"bf16.odd", random_bits(ctx_, {5}, DType::BF16, rng)},
      {"f16.rank2", random_bits(ctx_, {3, 3}, DType::F16, rng)},
  };
  const std::string p = path("model.safetensors");
  save_safetensors(ctx_, p, in, {});
  LoadedTensors out = load_safetensors(ctx_, p);
  ASSERT_EQ(out.tensors.size(), in.size());
  for (const auto& [name, t] : in) {
    const Tensor* got = out.find(name);
    ASSERT_NE(got, nullptr) << name;
    EXPECT_TRUE(got->device().is_cpu());
    EXPECT_TRUE(same_bits(*got, t)) << name << " " << shape_str(got->shape()) << " vs " << shape_str(t.shape());
  }
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(Checkpoint, LayoutFollowsTheSpec) {
  std::mt19937 rng(5);
  Named in = {{"b", random_bits(ctx_, {3}, DType::BF16, rng)},
              {"a", random_bits(ctx_, {2}, DType::F32, rng)},
              {"c", random_bits(ctx_, {1}, DType::F64, rng)}};
  const std::string p = path("layout.safetensors");
  save_safetensors(ctx_, p, in, {{"step", "10"}});
  auto b = read_bytes(p);
  ASSERT_GE(b.size(), 8u);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(b[i]) << (8 * i);
  EXPECT_EQ(n % 8, 0u) << "header padded to 8 bytes so tensor data is aligned";
  std::string header(b.begin() + 8, b.begin() + 8 + static_cast<long>(n));
  EXPECT_EQ(header.rfind("{\"__metadata__\":{", 0), 0u) << header;
  // Descending dtype size then name: c (F64) at 0, a (F32) at 8, b (BF16) at 16; buffer = 22 bytes.
  EXPECT_NE(header.find("\"c\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}"), std::string::npos) << header;
  EXPECT_NE(header.find("\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}"), std::string::npos) << header;
  EXPECT_NE(header.find("\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[16,22]}"), std::string::npos) << header;
  EXPECT_EQ(b.size(), 8 + n + 22);
  EXPECT_EQ(std::memcmp(b.data() + 8 + n, in[2].second.data(), 8), 0);
}

TEST_F(Checkpoint, MetadataRoundTrips) {
  std::map<std::string, std::string> meta = {
      {"step", "12345"}, {"model", "SAEHD-DF"}, {"quote\"and\\slash", "line\nbreak\ttab"},
      {"unicode", "gr\xc3\xbc\xc3\x9f dich \xe2\x9c\x93"}, {"empty", ""}};
  const std::string p = path("meta.safetensors");
  save_safetensors(ctx_, p, small_model(), meta);
  LoadedTensors out = load_safetensors(ctx_, p);
  for (const auto& [k, v] : meta) {
    ASSERT_TRUE(out.metadata.count(k)) << k;
    EXPECT_EQ(out.metadata.at(k), v) << k;
  }
  EXPECT_EQ(out.metadata.at("facet.format"), kCheckpointFormat);
  EXPECT_EQ(out.metadata.at("facet.crc32").size(), 8u);
  EXPECT_EQ(out.metadata.at("facet.header_crc32").size(), 8u);
  // Saving the loaded metadata back (reserved keys included) recomputes them and still loads.
  save_safetensors(ctx_, p, out.tensors, out.metadata);
  EXPECT_NO_THROW(load_safetensors(ctx_, p));
}

TEST_F(Checkpoint, HandWrittenFilesLoad) {
  // The reference implementation's own example: no metadata, header not padded (64 bytes).
  const std::string p = path("hand.safetensors");
  write_bytes(p, make_file(R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})",
                           f32_bytes({0, 1, 2, 3, 4, 5}), false));
  LoadedTensors a = load_safetensors(ctx_, p);
  ASSERT_EQ(a.tensors.size(), 1u);
  EXPECT_EQ(a.tensors[0].first, "attn.0");
  EXPECT_EQ(a.tensors[0].second.shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(a.tensors[0].second.to_float(ctx_), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(a.metadata.empty());

  // Space-padded header, metadata, keys in arbitrary order, a scalar, an empty tensor, bf16.
  std::vector<unsigned char> data = f32_bytes({2.5f});                       // "s" at [0,4)
  auto w = f32_bytes({-1.0f, 0.5f, 8.0f, 1e-3f});                            // "w" at [4,20)
  data.insert(data.end(), w.begin(), w.end());
  uint16_t bf[2] = {f32_to_bf16_bits(1.5f), f32_to_bf16_bits(-3.0f)};     // "h" at [20,24)
  data.insert(data.end(), reinterpret_cast<unsigned char*>(bf), reinterpret_cast<unsigned char*>(bf) + 4);
  write_bytes(p, make_file(R"({"w": {"shape": [2, 2], "dtype": "F32", "data_offsets": [4, 20]},)"
                           R"( "__metadata__": {"format": "pt"},)"
                           R"( "none": {"dtype": "F64", "shape": [0], "data_offsets": [24, 24]},)"
                           R"( "h": {"dtype": "BF16", "shape": [2], "data_offsets": [20, 24]},)"
                           R"( "s": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}})",
                           data));
  LoadedTensors b = load_safetensors(ctx_, p);
  EXPECT_EQ(b.metadata.at("format"), "pt");
  ASSERT_EQ(b.tensors.size(), 4u);
  EXPECT_EQ(b.find("s")->shape(), Shape{});
  EXPECT_EQ(b.find("s")->to_float(ctx_), std::vector<float>{2.5f});
  EXPECT_EQ(b.find("w")->to_float(ctx_), (std::vector<float>{-1.0f, 0.5f, 8.0f, 1e-3f}));
  EXPECT_EQ(b.find("h")->to_float(ctx_), (std::vector<float>{1.5f, -3.0f}));
  EXPECT_EQ(b.find("none")->numel(), 0);
  EXPECT_EQ(b.find("none")->dtype(), DType::F64);
}

TEST_F(Checkpoint, LoadIntoCopiesIntoExistingTensorsAndViews) {
  const std::string p = path("into.safetensors");
  Named model = small_model();
  save_safetensors(ctx_, p, model, {});
  // Destinations are views into one flat buffer, as the parameter arena will hold them.
  Tensor flat = Tensor::zeros(ctx_, {12 + 4}, DType::F32, Device::cpu());
  Tensor w = flat.slice0(0, 12).view({3, 4}), b = flat.slice0(12, 16);
  Tensor d = Tensor::zeros(ctx_, {2, 2}, DType::F64, Device::cpu());
  load_into(ctx_, p, {{"enc.w", w}, {"enc.b", b}, {"dec.w", d}});
  EXPECT_TRUE(same_bits(w, model[0].second));
  EXPECT_TRUE(same_bits(b, model[1].second));
  EXPECT_TRUE(same_bits(d, model[2].second));
}

TEST_F(Checkpoint, TruncatedFileIsRefused) {
  const std::string p = path("trunc.safetensors");
  save_safetensors(ctx_, p, small_model(), {});
  auto b = read_bytes(p);
  for (size_t cut : {size_t{1}, size_t{5}, b.size() / 2, b.size() - 4, b.size() - 9}) {
    write_bytes(p, std::vector<unsigned char>(b.begin(), b.end() - static_cast<long>(cut)));
    expect_error([&] { load_safetensors(ctx_, p); }, {p});
  }
  // Cut inside the last tensor (the smallest dtype, sorted last: enc.w by name after enc.b).
  write_bytes(p, std::vector<unsigned char>(b.begin(), b.end() - 3));
  expect_error([&] { load_safetensors(ctx_, p); }, {p, "enc.w", "truncated"});
}

TEST_F(Checkpoint, FlippedDataBitFailsTheChecksum) {
  const std::string p = path("flip.safetensors");
  save_safetensors(ctx_, p, small_model(), {});
  auto b = read_bytes(p);
  for (size_t back : {size_t{1}, size_t{20}, size_t{60}}) {
    auto c = b;
    c[c.size() - back] ^= 0x10;
    write_bytes(p, c);
    expect_error([&] { load_safetensors(ctx_, p); }, {p, "checksum"});
  }
}

TEST_F(Checkpoint, EveryFlippedHeaderBitIsRefused) {
  const std::string p = path("hflip.safetensors");
  save_safetensors(ctx_, p, small_model(), {{"step", "7"}});
  auto b = read_bytes(p);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(b[i]) << (8 * i);
  // Every byte of the length field and the header, with two different bits.
  for (size_t i = 0; i < 8 + n; ++i) {
    for (unsigned char bit : {0x01, 0x04}) {
      auto c = b;
      c[i] ^= bit;
      write_bytes(p, c);
      SCOPED_TRACE("byte " + std::to_string(i) + " bit " + std::to_string(bit));
      expect_error([&] { load_safetensors(ctx_, p); }, {p});
    }
  }
}

TEST_F(Checkpoint, FlippedTensorNameNamesTheHeaderChecksum) {
  const std::string p = path("nflip.safetensors");
  save_safetensors(ctx_, p, small_model(), {});
  auto b = read_bytes(p);
  std::string s(b.begin(), b.end());
  size_t at = s.find("\"enc.b\"");
  ASSERT_NE(at, std::string::npos);
  b[at + 5] ^= 0x01;  // "enc.b" -> "enc.c": still valid JSON, still consistent offsets
  write_bytes(p, b);
  expect_error([&] { load_safetensors(ctx_, p); }, {p, "header checksum"});
}

TEST_F(Checkpoint, HeaderLengthLargerThanFileIsRefused) {
  const std::string p = path("hlen.safetensors");
  save_safetensors(ctx_, p, small_model(), {});
  auto b = read_bytes(p);
  for (uint64_t n : {uint64_t{b.size()}, uint64_t{b.size() - 7}, ~uint64_t{0}}) {
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(n >> (8 * i));
    write_bytes(p, b);
    expect_error([&] { load_safetensors(ctx_, p); }, {p, "header length", "exceeds"});
  }
  write_bytes(p, {1, 2, 3});
  expect_error([&] { load_safetensors(ctx_, p); }, {p, "too short"});
}

TEST_F(Checkpoint, ForeignFilesBreakingTheRulesAreRefused) {
  const std::string p = path("bad.safetensors");
  auto data16 = f32_bytes({1, 2, 3, 4});
  struct Case {
    std::string header;
    std::vector<std::string> parts;
  };
  std::vector<Case> cases = {
      {R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
       {"'a'", "twice"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})",
       {"'b'", "hole"}},
      {R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
       {"'b'", "overlap"}},
      {R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})", {"trailing"}},
      {R"({"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", {"'a'", "I64", "not supported"}},
      {R"({"a":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}})", {"'a'", "needs 20"}},
      {R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", {"'a'", "shape"}},
      {R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}})", {"'a'", "data_offsets"}},
      {R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0]}})", {"'a'", "data_offsets"}},
      {R"({"a":{"dtype":"F32","data_offsets":[0,16]}})", {"'a'", "shape"}},
      {R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", {"'a'", "past the data buffer"}},
      {R"({"__metadata__":{"facet.format":"facet-checkpoint-1"},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
       {"facet.crc32"}},
      {R"({"__metadata__":{"step":7},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", {"step", "string"}},
      {R"({"__metadata__":{"facet.format":"facet-checkpoint-99"},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
       {"facet-checkpoint-99"}},
      {R"([{"a":1}])", {"'{'"}},
      {R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]})", {"JSON"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.header);
    write_bytes(p, make_file(c.header, data16));
    std::vector<std::string> parts = c.parts;
    parts.push_back(p);
    expect_error([&] { load_safetensors(ctx_, p); }, parts);
  }
  // Padding with anything but spaces is not JSON whitespace.
  write_bytes(p, make_file(std::string(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})") + std::string(7, '\0'),
                           data16, false));
  expect_error([&] { load_safetensors(ctx_, p); }, {p, "NUL"});
}

TEST_F(Checkpoint, LoadIntoRefusesWrongShapeAndDtype) {
  const std::string p = path("shape.safetensors");
  save_safetensors(ctx_, p, small_model(), {});
  Tensor w = Tensor::zeros(ctx_, {4, 3}, DType::F32, Device::cpu());
  Tensor b = Tensor::zeros(ctx_, {4}, DType::F32, Device::cpu());
  Tensor d = Tensor::zeros(ctx_, {2, 2}, DType::F64, Device::cpu());
  expect_error([&] { load_into(ctx_, p, {{"enc.w", w}, {"enc.b", b}, {"dec.w", d}}); },
               {p, "enc.w", "[3,4]", "[4,3]"});
  EXPECT_EQ(d.to_double(ctx_), std::vector<double>(4, 0.0)) << "nothing is copied when validation fails";
  Tensor w_ok = Tensor::zeros(ctx_, {3, 4}, DType::F32, Device::cpu());
  Tensor d32 = Tensor::zeros(ctx_, {2, 2}, DType::F32, Device::cpu());
  expect_error([&] { load_into(ctx_, p, {{"enc.w", w_ok}, {"enc.b", b}, {"dec.w", d32}}); },
               {p, "dec.w", "f64", "f32"});
}

TEST_F(Checkpoint, LoadIntoReportsMissingAndUnexpectedNames) {
  const std::string p = path("names.safetensors");
  save_safetensors(ctx_, p, small_model(), {});
  Tensor w = Tensor::zeros(ctx_, {3, 4}, DType::F32, Device::cpu());
  Tensor b = Tensor::zeros(ctx_, {4}, DType::F32, Device::cpu());
  Tensor d = Tensor::zeros(ctx_, {2, 2}, DType::F64, Device::cpu());
  Tensor extra = Tensor::zeros(ctx_, {1}, DType::F32, Device::cpu());
  // The model has a tensor the file lacks.
  expect_error([&] { load_into(ctx_, p, {{"enc.w", w}, {"enc.b", b}, {"dec.w", d}, {"mask.w", extra}}); },
               {p, "missing", "mask.w"});
  // The file has a tensor the model lacks.
  expect_error([&] { load_into(ctx_, p, {{"enc.w", w}, {"enc.b", b}}); }, {p, "unexpected", "dec.w"});
  // Both at once are reported together.
  expect_error([&] { load_into(ctx_, p, {{"enc.w", w}, {"enc.b", b}, {"mask.w", extra}}); },
               {p, "missing", "mask.w", "unexpected", "dec.w"});
}

TEST_F(Checkpoint, MissingFileIsRefused) {
  const std::string p = path("does_not_exist.safetensors");
  expect_error([&] { load_safetensors(ctx_, p); }, {p, "No such file"});
  expect_error([&] { load_into(ctx_, p, {}); }, {p});
  expect_error([&] { load_safetensors(ctx_, dir_); }, {dir_, "not a regular file"});
}

TEST_F(Checkpoint, UnwritableDirectoryIsRefused) {
  const std::string missing_dir = path("no/such/dir/model.safetensors");
  expect_error([&] { save_safetensors(ctx_, missing_dir, small_model(), {}); }, {missing_dir, "No such file"});
  // The "directory" is a regular file.
  write_string_atomically(path("plain"), "x");
  const std::string under_file = path("plain/model.safetensors");
  expect_error([&] { save_safetensors(ctx_, under_file, small_model(), {}); }, {under_file, "Not a directory"});
  expect_error([&] { write_string_atomically(under_file, "{}"); }, {under_file, "Not a directory"});
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(Checkpoint, ReadOnlyDirectoryIsRefused) {
  const std::string ro = path("readonly");
  ASSERT_TRUE(fs::create_directory(ro));
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec, fs::perm_options::replace);
  if (::access(ro.c_str(), W_OK) == 0) GTEST_SKIP() << "running as root: a read-only directory is still writable";
  const std::string p = ro + "/model.safetensors";
  expect_error([&] { save_safetensors(ctx_, p, small_model(), {}); }, {p, "Permission denied"});
}

TEST_F(Checkpoint, FailedWriteKeepsThePreviousFileAndLeavesNoTemp) {
  const std::string p = path("state.json");
  write_string_atomically(p, "{\"step\": 1}");
  EXPECT_EQ(read_bytes(p).size(), 11u);
  // A writer that dies half-way (as a crash or a full disk would).
  EXPECT_THROW(write_file_atomically(p,
                                     [&](std::FILE* f) {
                                       write_all(f, "{\"step\": 2, \"garb", 17, p);
                                       throw Error("simulated failure mid-write");
                                     }),
               Error);
  auto b = read_bytes(p);
  EXPECT_EQ(std::string(b.begin(), b.end()), "{\"step\": 1}");
  EXPECT_TRUE(temp_files().empty());
  EXPECT_FALSE(fs::exists(atomic_temp_path(p)));

  // Same for a checkpoint: the old one still loads after a failed save over it.
  const std::string ck = path("model.safetensors");
  Named model = small_model();
  save_safetensors(ctx_, ck, model, {{"step", "1"}});
  auto before = read_bytes(ck);
  EXPECT_THROW(write_file_atomically(ck,
                                     [&](std::FILE* f) {
                                       write_all(f, before.data(), before.size() / 2, ck);
                                       throw std::runtime_error("simulated crash");
                                     }),
               std::runtime_error);
  EXPECT_EQ(read_bytes(ck), before);
  EXPECT_EQ(load_safetensors(ctx_, ck).metadata.at("step"), "1");
  EXPECT_TRUE(temp_files().empty());

  // A save whose final rename fails (the target is a directory) also cleans up after itself.
  const std::string as_dir = path("taken");
  ASSERT_TRUE(fs::create_directory(as_dir));
  expect_error([&] { save_safetensors(ctx_, as_dir, model, {}); }, {as_dir});
  EXPECT_TRUE(fs::is_directory(as_dir));
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(Checkpoint, SaveReplacesAnExistingCheckpoint) {
  const std::string p = path("model.safetensors");
  save_safetensors(ctx_, p, small_model(), {{"step", "1"}});
  std::mt19937 rng(99);
  Named next = {{"only", random_bits(ctx_, {5}, DType::F32, rng)}};
  save_safetensors(ctx_, p, next, {{"step", "2"}});
  LoadedTensors out = load_safetensors(ctx_, p);
  EXPECT_EQ(out.metadata.at("step"), "2");
  ASSERT_EQ(out.tensors.size(), 1u);
  EXPECT_TRUE(same_bits(out.tensors[0].second, next[0].second));
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(Checkpoint, SaveRefusesBadNames) {
  const std::string p = path("names.safetensors");
  Tensor t = Tensor::zeros(ctx_, {1}, DType::F32, Device::cpu());
  expect_error([&] { save_safetensors(ctx_, p, {{"x", t}, {"x", t}}, {}); }, {p, "'x'", "twice"});
  expect_error([&] { save_safetensors(ctx_, p, {{"__metadata__", t}}, {}); }, {p, "__metadata__"});
  expect_error([&] { save_safetensors(ctx_, p, {{"", t}}, {}); }, {p, "empty name"});
  expect_error([&] { save_safetensors(ctx_, p, {{"u", Tensor()}}, {}); }, {p, "'u'", "undefined"});
  EXPECT_FALSE(fs::exists(p));
}

// The Gpu prefix gives the test the `gpu` label, so it runs on the emulated device where there is no GPU.
class GpuCheckpoint : public Checkpoint {};

TEST_F(GpuCheckpoint, CudaTensorsRoundTrip) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  Context gpu(Device::cuda());
  std::mt19937 rng(3);
  Tensor host = random_bits(gpu, {4, 5}, DType::F32, rng);
  Tensor hb = random_bits(gpu, {6}, DType::BF16, rng);
  Named in = {{"w", host.to(gpu, Device::cuda())}, {"b", hb.to(gpu, Device::cuda())}};
  const std::string p = path("gpu.safetensors");
  save_safetensors(gpu, p, in, {});
  LoadedTensors out = load_safetensors(gpu, p, Device::cuda());
  ASSERT_TRUE(out.find("w")->device().is_cuda());
  EXPECT_TRUE(same_bits(out.find("w")->to(gpu, Device::cpu()), host));
  Tensor dw = Tensor::zeros(gpu, {4, 5}, DType::F32, Device::cuda());
  Tensor db = Tensor::zeros(gpu, {6}, DType::BF16, Device::cuda());
  load_into(gpu, p, {{"w", dw}, {"b", db}});
  EXPECT_TRUE(same_bits(dw.to(gpu, Device::cpu()), host));
  EXPECT_TRUE(same_bits(db.to(gpu, Device::cpu()), hb));
}

}  // namespace
}  // namespace facet
