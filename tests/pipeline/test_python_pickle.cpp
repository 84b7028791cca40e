// The pickle subset reader (pipeline/faces/python_pickle.h): hand-assembled pickles for each
// opcode family and each refusal, then a fuzz run over the DeepFaceLab fixtures' pickles
// (tests/fixtures/dfl, written by tests/tools/gen_dfl_faces.py): every random mutation or
// truncation must give a value or a facet::Error, never a crash, hang or other exception.
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/core/error.h"
#include "engine/io/read_file.h"
#include "pipeline/faces/dfl_face.h"
#include "pipeline/faces/image_chunks.h"
#include "pipeline/faces/python_pickle.h"
#include "pipeline_test_support.h"

namespace facet::faces {
namespace {

using facet::testing::error_of;
using T = PyValue::Type;

// Pickle assembly: opcodes by name, so the bytes under test read like pickletools.dis output.
std::string op(int code) { return std::string(1, char(code)); }
std::string le(uint64_t v, int n) {
  std::string s;
  for (int k = 0; k < n; ++k) s.push_back(char(v >> (8 * k)));
  return s;
}
std::string proto(int v) { return op(0x80) + op(v); }
std::string binunicode(const std::string& t) { return "X" + le(t.size(), 4) + t; }
std::string short_binbytes(const std::string& t) { return "C" + le(t.size(), 1) + t; }
std::string binint1(int v) { return "K" + le(uint64_t(v), 1); }
std::string binint(int32_t v) { return "J" + le(uint32_t(v), 4); }
std::string binput(int k) { return "q" + le(uint64_t(k), 1); }
std::string binget(int k) { return "h" + le(uint64_t(k), 1); }
std::string global(const std::string& m, const std::string& n) { return "c" + m + "\n" + n + "\n"; }
std::string binfloat(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  std::string s = "G";
  for (int k = 7; k >= 0; --k) s.push_back(char(b >> (8 * k)));
  return s;
}
const std::string kTuple1 = op(0x85), kTuple2 = op(0x86), kTuple3 = op(0x87), kTrue = op(0x88), kFalse = op(0x89);

Pickle parse(const std::string& s) { return parse_pickle(reinterpret_cast<const uint8_t*>(s.data()), s.size(), "t.jpg"); }

std::string parse_error(const std::string& s) {
  return error_of([&] { parse(s); });
}

std::string fixture(const std::string& name) { return std::string(FACET_TEST_SOURCE_DIR) + "/tests/fixtures/dfl/" + name; }

std::string fixture_pickle(const std::string& name) {
  const auto app15 = extract_foreign_jpeg_app15(read_file_bytes(fixture(name)), name);
  EXPECT_TRUE(app15.has_value()) << name;
  return app15.value_or("");
}

// numpy's dtype pickle: numpy.dtype('<code>', False, True) + BUILD (3, byteorder, None x3, -1, -1, 0)
std::string dtype(const std::string& code, const std::string& byteorder) {
  return global("numpy", "dtype") + binunicode(code) + kFalse + kTrue + kTuple3 + "R(" + binint1(3) +
         binunicode(byteorder) + "NNN" + binint(-1) + binint(-1) + binint1(0) + "tb";
}
std::string reconstruct() {
  return global("numpy.core.multiarray", "_reconstruct") + global("numpy", "ndarray") + binint1(0) + kTuple1 +
         short_binbytes("b") + kTuple3 + "R";
}

TEST(PythonPickle, ScalarsContainersAndMemo) {
  // {'a': [1, -2, 300, 70000, True, None, 1.5, 'x', b'yz'], 'b': <the same list, from the memo>}
  const std::string p = proto(3) + "}" + binput(0) + "(" + binunicode("a") + binput(1) + "]" + binput(2) + "(" +
                        binint1(1) + binint(-2) + "M" + le(300, 2) + binint(70000) + kTrue + "N" + binfloat(1.5) +
                        binunicode("x") + short_binbytes("yz") + "e" + binunicode("b") + binget(2) + "u.";
  const Pickle pk = parse(p);
  ASSERT_EQ(pk.root->type, T::Dict);
  const PyValue* a = pk.root->get("a");
  ASSERT_TRUE(a && a->type == T::List);
  ASSERT_EQ(a->items.size(), 9u);
  EXPECT_EQ(a->items[0]->i, 1);
  EXPECT_EQ(a->items[1]->i, -2);
  EXPECT_EQ(a->items[2]->i, 300);
  EXPECT_EQ(a->items[3]->i, 70000);
  EXPECT_TRUE(a->items[4]->b);
  EXPECT_EQ(a->items[5]->type, T::None);
  EXPECT_EQ(a->items[6]->f, 1.5);
  EXPECT_EQ(a->items[7]->s, "x");
  EXPECT_EQ(a->items[8]->type, T::Bytes);
  EXPECT_EQ(a->items[8]->s, "yz");
  EXPECT_EQ(pk.root->get("b"), a);  // the memo gives the same object
  EXPECT_EQ(pk.root->get("c"), nullptr);
}

TEST(PythonPickle, LongIntegersAndTuples) {
  // (( -2**40, 2**63 - 1 ), ()) with LONG1 (little-endian two's complement)
  const std::string p = proto(4) + op(0x8a) + le(6, 1) + le(0xff0000000000ull, 6) + op(0x8a) + le(8, 1) +
                        le(uint64_t(INT64_MAX), 8) + kTuple2 + ")" + kTuple2 + ".";
  const Pickle pk = parse(p);
  ASSERT_EQ(pk.root->type, T::Tuple);
  const PyValue* pair = pk.root->items[0];
  EXPECT_EQ(pair->items[0]->i, -(int64_t(1) << 40));
  EXPECT_EQ(pair->items[1]->i, INT64_MAX);
  EXPECT_TRUE(pk.root->items[1]->items.empty());
  const std::string too_long = proto(4) + op(0x8a) + le(9, 1) + std::string(9, '\x01') + ".";
  EXPECT_NE(parse_error(too_long).find("64 bits"), std::string::npos) << parse_error(too_long);
}

TEST(PythonPickle, NumpyArrayAsNumpyWritesIt) {
  // _reconstruct(ndarray, (0,), b'b') + BUILD (1, (2, 2), dtype('i2', byte order '>'), False, raw)
  const std::string raw("\x00\x01\xff\xfe\x01\x00\x80\x00", 8);
  const auto array = [&](const std::string& data) {
    return proto(3) + reconstruct() + "(" + binint1(1) + binint1(2) + binint1(2) + kTuple2 + dtype("i2", ">") + kFalse +
           short_binbytes(data) + "tb.";
  };
  const Pickle pk = parse(array(raw));
  ASSERT_EQ(pk.root->type, T::Array);
  const PyArray& a = *pk.root->array;
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(a.kind, 'i');
  EXPECT_EQ(a.at(0), 1);       // big-endian 0x0001
  EXPECT_EQ(a.at(1), -2);      // 0xfffe
  EXPECT_EQ(a.at(2), 256);     // 0x0100
  EXPECT_EQ(a.at(3), -32768);  // 0x8000
  EXPECT_NE(parse_error(array(raw.substr(0, 7))).find("data bytes"), std::string::npos) << parse_error(array(raw.substr(0, 7)));
  // a float64 numpy scalar: numpy.core.multiarray.scalar(dtype('f8'), raw)
  const std::string sc = proto(3) + global("numpy.core.multiarray", "scalar") + dtype("f8", "<") +
                         short_binbytes(le(0x3FE8000000000000ull, 8)) + kTuple2 + "R.";
  EXPECT_EQ(parse(sc).root->type, T::Float);
  EXPECT_EQ(parse(sc).root->f, 0.75);
}

TEST(PythonPickle, RefusesAnythingThatIsNotData) {
  // os.system('echo'), the classic pickle exploit: refused at the GLOBAL, nothing runs
  const std::string e = parse_error(proto(3) + global("os", "system") + binunicode("echo") + kTuple1 + "R.");
  EXPECT_NE(e.find("t.jpg"), std::string::npos) << e;
  EXPECT_NE(e.find("os.system"), std::string::npos) << e;
  const std::string stack_global = proto(4) + op(0x8c) + le(8, 1) + "builtins" + op(0x8c) + le(4, 1) + "eval" + op(0x93) + ".";
  EXPECT_NE(parse_error(stack_global).find("builtins.eval"), std::string::npos) << parse_error(stack_global);
  // an object dtype, an opcode outside the subset (BINPERSID), protocol 0 text, an unknown protocol
  EXPECT_NE(parse_error(proto(3) + global("numpy", "dtype") + binunicode("O8") + kTuple1 + "R.").find("O8"),
            std::string::npos);
  EXPECT_NE(parse_error(proto(3) + "NQ.").find("opcode 0x51"), std::string::npos);
  EXPECT_NE(parse_error("I1\n.").find("opcode"), std::string::npos);
  EXPECT_NE(parse_error(proto(6) + "N.").find("protocol 6"), std::string::npos);
  // a dtype left bare, an array never given its data
  EXPECT_NE(parse_error(proto(3) + dtype("f4", "<") + ".").find("bare numpy dtype"), std::string::npos);
  EXPECT_NE(parse_error(proto(3) + reconstruct() + ".").find("never given its data"), std::string::npos);
}

TEST(PythonPickle, StructuralErrorsNameTheFileAndOffset) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "truncated"},
      {proto(3) + "]", "truncated"},                           // no STOP
      {proto(3) + "X" + le(0x7fffffff, 4), "truncated"},       // a 2 GiB string in a 7-byte pickle
      {proto(4) + op(0x8e) + le(~0ull, 8), "truncated"},       // BINBYTES8 of 2^64-1 bytes
      {proto(3) + binget(5) + ".", "memo entry 5"},
      {proto(3) + "a.", "stack underflow"},
      {proto(3) + binint1(1) + binint1(2) + ".", "2 values"},
      {proto(3) + binint1(1) + binint1(2) + "a.", "not a list"},
      {proto(3) + "]" + binput(0) + binget(0) + "a.", "contains itself"},  // l = []; l.append(l)
      {proto(3) + "}(" + binint1(1) + "u.", "odd number"},
      {proto(3) + "e.", "no MARK"},
  };
  for (const auto& [p, want] : cases) {
    const std::string e = parse_error(p);
    EXPECT_NE(e.find(want), std::string::npos) << "want '" << want << "', got '" << e << "'";
    EXPECT_NE(e.find("t.jpg"), std::string::npos) << e;
    EXPECT_NE(e.find("byte"), std::string::npos) << e;
  }
  // nesting 1000 deep is refused, without recursion
  std::string deep = proto(3);
  for (int i = 0; i < 1000; ++i) deep += "]";
  for (int i = 0; i < 999; ++i) deep += "a";
  deep += ".";
  EXPECT_NE(parse_error(deep).find("deeper"), std::string::npos) << parse_error(deep);
}

TEST(PythonPickle, FixturesParseToTheirDicts) {
  for (const char* name : {"dfl_p3_full.jpg", "dfl_p4_legacy.jpg", "dfl_p4_numpy2.jpg"}) {
    const std::string p = fixture_pickle(name);
    ASSERT_FALSE(p.empty());
    const Pickle pk = parse(p);
    ASSERT_EQ(pk.root->type, T::Dict) << name;
    ASSERT_NE(pk.root->get("landmarks"), nullptr) << name;
    EXPECT_EQ(pk.root->get("image_to_face_mat")->type, T::Array) << name;
  }
}

// Random mutations (byte overwrites, inserts, deletes, truncations) of each fixture's pickle. A
// mutated pickle may still be valid; what matters is that each gives a value or a facet::Error,
// and that mapping a value to face metadata does too.
TEST(PythonPickle, FuzzedFixturePicklesFailCleanly) {
  std::mt19937 rng(1234);
  int values = 0, errors = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const char* name : {"dfl_p3_full.jpg", "dfl_p4_legacy.jpg", "dfl_p4_numpy2.jpg"}) {
    const std::string good = fixture_pickle(name);
    ASSERT_FALSE(good.empty());
    for (int iter = 0; iter < 4000; ++iter) {
      std::string p = good;
      const int edits = 1 + int(rng() % 4);
      for (int k = 0; k < edits && !p.empty(); ++k) {
        const size_t at = rng() % p.size();
        switch (rng() % 5) {
          case 0: p[at] = char(rng()); break;
          case 1: p[at] = char(p[at] ^ (1 << (rng() % 8))); break;
          case 2: p.insert(at, 1, char(rng())); break;
          case 3: p.erase(at, 1 + rng() % 8); break;
          default: p.resize(at); break;
        }
      }
      try {
        const Pickle pk = parse(p);
        ++values;
        try {
          dfl_metadata_from_dict(*pk.root, 64, 64, name);
        } catch (const Error&) {
        }
      } catch (const Error& e) {
        ++errors;
        ASSERT_NE(std::string(e.what()).find("t.jpg"), std::string::npos) << e.what();
      }
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GT(errors, 0);
  std::printf("fuzz: 12000 mutated pickles, %d parsed, %d refused, %.2f s\n", values, errors, s);
}

}  // namespace
}  // namespace facet::faces
