// DeepFaceLab face files as facet reads them (pipeline/faces/dfl_face.h): the fixtures in
// tests/fixtures/dfl (written by tests/tools/gen_dfl_faces.py, which pickles exactly as DFL +
// numpy do) give back every value the generator stored; a broken file is named in the error and
// makes `facet faceset import-dfl` exit 1; DFL folders load for training and import to a face set
// with the alignments file merge reads.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "engine/io/read_file.h"
#include "pipeline/faces/alignments.h"
#include "pipeline/faces/dfl_face.h"
#include "pipeline/faces/face_set.h"
#include "pipeline/tools/faceset_import_dfl.h"
#include "pipeline/train/training_faces.h"
#include "pipeline_test_support.h"

namespace facet::faces {
namespace {

namespace fs = std::filesystem;
using facet::testing::error_of;
using facet::testing::exit_code_of;
using facet::testing::run_capture;
using facet::testing::ScratchDir;
using nlohmann::json;

const char* kFixtures[] = {"dfl_p3_full.jpg", "dfl_p4_legacy.jpg", "dfl_p4_numpy2.jpg"};

std::string fixture_dir() { return std::string(FACET_TEST_SOURCE_DIR) + "/tests/fixtures/dfl"; }
std::string fixture(const std::string& name) { return fixture_dir() + "/" + name; }
json expected() { return json::parse(read_text_file(fixture("dfl_expected.json"))); }

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

void copy_fixtures(const std::string& dir) {
  fs::create_directories(dir);
  for (const char* f : kFixtures) fs::copy_file(fixture(f), fs::path(dir) / f);
}

// The fixture with its APP15 pickle cut to `keep` bytes (the segment length rewritten to match),
// so the JPEG stays well-formed and only the pickle is broken.
std::vector<uint8_t> with_truncated_pickle(const std::string& name, size_t keep) {
  std::vector<uint8_t> b = read_file_bytes(fixture(name));
  for (size_t i = 2; i + 4 < b.size();) {
    const size_t len = size_t(b[i + 2]) << 8 | b[i + 3];
    if (b[i + 1] == 0xEF) {
      b.erase(b.begin() + std::ptrdiff_t(i + 4 + keep), b.begin() + std::ptrdiff_t(i + 2 + len));
      b[i + 2] = uint8_t((keep + 2) >> 8), b[i + 3] = uint8_t((keep + 2) & 0xFF);
      return b;
    }
    i += 2 + len;
  }
  ADD_FAILURE() << name << " has no APP15";
  return b;
}

void expect_points(const Landmarks& got, const json& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].x, want[i][0].get<double>()) << what << " point " << i;
    EXPECT_EQ(got[i].y, want[i][1].get<double>()) << what << " point " << i;
  }
}

TEST(DflFaces, EveryStoredValueRoundTrips) {
  const json exp = expected();
  const int size = exp["size"].get<int>();
  for (const char* name : kFixtures) {
    SCOPED_TRACE(name);
    const json& e = exp["files"][name];
    const std::optional<FaceMetadata> m = read_face_metadata(fixture(name));
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(face_type_name(m->face_type), e["face_type"].get<std::string>());
    EXPECT_EQ(m->width, size);
    EXPECT_EQ(m->height, size);
    expect_points(m->landmarks, e["landmarks"], "landmarks");
    expect_points(m->source_landmarks, e["source_landmarks"], "source_landmarks");
    EXPECT_EQ(m->source_filename, e["source_filename"].get<std::string>());
    EXPECT_EQ(m->source_frame, -1);
    for (int k = 0; k < 4; ++k) EXPECT_EQ(m->source_rect[size_t(k)], e["source_rect"][k].get<double>());
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(m->image_to_face(r, c), e["image_to_face_mat"][r][c].get<double>());
    EXPECT_EQ(m->eyebrows_expand_mod, e["eyebrows_expand_mod"].get<double>());
    ASSERT_EQ(m->seg_polygons.size(), e["polygons"].size());
    for (size_t p = 0; p < m->seg_polygons.size(); ++p) {
      EXPECT_EQ(m->seg_polygons[p].include, e["polygons"][p]["include"].get<bool>());
      expect_points(m->seg_polygons[p].points, e["polygons"][p]["points"], "polygon");
    }
    const cv::Mat mask = decode_xseg_mask(*m, name);
    if (e["xseg_mask"].is_null()) {
      EXPECT_TRUE(mask.empty());
      continue;
    }
    ASSERT_EQ(mask.size(), cv::Size(size, size));
    int wrong = 0;
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        const double c = size / 2.0, dx = x - c, dy = y - c * 0.9, r = size * 0.35;
        wrong += mask.at<uint8_t>(y, x) != (dx * dx + dy * dy < r * r ? 255 : 0);
      }
    EXPECT_EQ(wrong, 0);
  }
}

TEST(DflFaces, PolygonsDrawLikeSegIEPolys) {
  const FaceMetadata m = *read_face_metadata(fixture("dfl_p3_full.jpg"));
  const cv::Mat mask = seg_polygons_mask(cv::Size(m.width, m.height), m.seg_polygons);
  EXPECT_EQ(mask.at<uint8_t>(40, 40), 255);  // inside the include quad
  EXPECT_EQ(mask.at<uint8_t>(1, 1), 0);      // outside it
  EXPECT_EQ(mask.at<uint8_t>(23, 25), 0);    // inside the exclude triangle, drawn after the include
}

TEST(DflFaces, FacetMetadataKeepsPolygonsAndMaskThroughJson) {
  const FaceMetadata m = *read_face_metadata(fixture("dfl_p3_full.jpg"));
  const FaceMetadata back = face_metadata_from_json(face_metadata_to_json(m));
  EXPECT_EQ(back.xseg_mask, m.xseg_mask);
  ASSERT_EQ(back.seg_polygons.size(), m.seg_polygons.size());
  for (size_t p = 0; p < m.seg_polygons.size(); ++p) {
    EXPECT_EQ(back.seg_polygons[p].include, m.seg_polygons[p].include);
    EXPECT_EQ(back.seg_polygons[p].points, m.seg_polygons[p].points);
  }
  EXPECT_EQ(back.landmarks, m.landmarks);
  EXPECT_EQ(back.image_to_face, m.image_to_face);
}

TEST(DflFaces, BrokenFilesAreNamed) {
  ScratchDir dir("dfl_broken");
  copy_fixtures(dir.file("aligned"));
  const std::string bad = dir.file("aligned/dfl_p3_full.jpg");
  write_bytes(bad, with_truncated_pickle("dfl_p3_full.jpg", 900));
  const std::string e = error_of([&] { read_face_metadata(bad); });
  EXPECT_NE(e.find(bad), std::string::npos) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  // a dict that is not a face: landmarks cut to 67 points would need a new pickle; instead the
  // legacy fixture's face_type is renamed to one DFL never wrote (same length keeps the pickle valid)
  std::vector<uint8_t> b = read_file_bytes(fixture("dfl_p4_legacy.jpg"));
  const std::string from = "full_face", to = "fuzz_face";
  auto it = std::search(b.begin(), b.end(), from.begin(), from.end());
  ASSERT_NE(it, b.end());
  std::copy(to.begin(), to.end(), it);
  write_bytes(dir.file("aligned/dfl_p4_legacy.jpg"), b);
  const std::string e2 = error_of([&] { read_face_metadata(dir.file("aligned/dfl_p4_legacy.jpg")); });
  EXPECT_NE(e2.find("dfl_p4_legacy.jpg: unknown DeepFaceLab face_type 'fuzz_face'"), std::string::npos) << e2;

  const FaceSet set = load_face_set(dir.file("aligned"));
  EXPECT_EQ(set.faces.size(), 1u);
  ASSERT_EQ(set.skipped.size(), 2u);
  EXPECT_EQ(set.skipped[0].filename, "dfl_p3_full.jpg");
  EXPECT_EQ(set.skipped[1].filename, "dfl_p4_legacy.jpg");

  // the command line: the good face is imported, the broken ones named, exit 1
  FACET_REQUIRE_BINARY(bin);
  const std::string cmd = bin + " faceset import-dfl " + dir.file("aligned") + " " + dir.file("out") + " 2>&1";
  const std::string out = run_capture(cmd);
  EXPECT_NE(out.find("dfl_p3_full.jpg"), std::string::npos) << out;
  EXPECT_NE(out.find("truncated"), std::string::npos) << out;
  EXPECT_NE(out.find("1 faces imported"), std::string::npos) << out;
  EXPECT_EQ(exit_code_of(cmd), 1);
  EXPECT_TRUE(fs::exists(dir.file("out/dfl_p4_numpy2.jpg")));
}

TEST(DflFaces, TrainingLoadsADflFolder) {
  ScratchDir dir("dfl_train");
  copy_fixtures(dir.file("aligned"));
  train::LoadFacesOptions o;
  o.resolution = 32;
  o.face_type = FaceType::Full;
  const train::HostFaces hf = train::load_training_faces(dir.file("aligned"), o);
  EXPECT_EQ(hf.size(), 3);
  EXPECT_TRUE(hf.skipped.empty());
}

TEST(DflFaces, ImportWritesFacetFacesAndAlignments) {
  ScratchDir dir("dfl_import");
  copy_fixtures(dir.file("aligned"));
  fs::create_directories(dir.file("data_dst"));
  const cv::Mat frame(48, 64, CV_8UC3, cv::Scalar(10, 20, 30));
  for (const char* f : {"00001.png", "00002.png", "00003.png"}) cv::imwrite(dir.file(std::string("data_dst/") + f), frame);

  tools::ImportDflOptions o{dir.file("aligned"), dir.file("faces"), dir.file("data_dst")};
  const tools::ImportDflResult r = tools::import_dfl_face_set(o);
  EXPECT_EQ(r.imported, 3);
  EXPECT_EQ(r.with_xseg_mask, 2);
  EXPECT_EQ(r.with_polygons, 2);
  EXPECT_TRUE(r.skipped.empty());
  EXPECT_TRUE(r.unmatched.empty());
  EXPECT_EQ(r.alignments_path, dir.file("faces/data_dst.alignments.json"));

  const Alignments al = load_alignments(r.alignments_path, dir.file("faces"));
  EXPECT_EQ(al.source, "data_dst");
  EXPECT_EQ(al.face_size, 64);
  ASSERT_EQ(al.frames.size(), 3u);  // every frame, the one without faces too
  ASSERT_EQ(al.frames[0].faces.size(), 2u);  // 00001.png: two faces, in file-name order
  EXPECT_EQ(al.frames[0].faces[0].file, "dfl_p4_legacy.jpg");
  EXPECT_EQ(al.frames[0].faces[1].file, "dfl_p4_numpy2.jpg");
  EXPECT_EQ(al.frames[0].faces[1].face_index, 1);
  ASSERT_EQ(al.frames[1].faces.size(), 1u);
  EXPECT_EQ(al.frames[1].faces[0].file, "dfl_p3_full.jpg");
  EXPECT_TRUE(al.frames[2].faces.empty());

  // the imported face carries facet's metadata (frame and index now known) and still DFL's own
  // APP15 pickle, and its pixels are the original JPEG's
  const std::vector<uint8_t> bytes = read_file_bytes(dir.file("faces/dfl_p3_full.jpg"));
  ASSERT_TRUE(extract_image_metadata(bytes, "imported").has_value());
  const FaceMetadata m = *read_face_metadata(dir.file("faces/dfl_p3_full.jpg"));
  EXPECT_EQ(m.source_frame, 1);
  EXPECT_EQ(m.face_index, 0);
  EXPECT_FALSE(m.xseg_mask.empty());
  EXPECT_EQ(m.seg_polygons.size(), 2u);
  const std::optional<FaceMetadata> dfl = read_dfl_metadata(bytes, "imported");
  ASSERT_TRUE(dfl.has_value());
  EXPECT_EQ(dfl->landmarks, m.landmarks);
  const cv::Mat a = cv::imread(fixture("dfl_p3_full.jpg")), b = cv::imread(dir.file("faces/dfl_p3_full.jpg"));
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0);
}

// The committed fixtures are what the generator writes: regenerate them from the fixture's own
// pixels (APP15 removed) and compare byte for byte.
TEST(DflFaces, FixturesAreTheGeneratorsOutput) {
  if (!facet::testing::have_tool("python3")) GTEST_SKIP() << "python3 not installed (the generator needs it)";
  ScratchDir dir("dfl_gen");
  std::vector<uint8_t> base = read_file_bytes(fixture("dfl_p3_full.jpg"));
  for (size_t i = 2; i + 4 < base.size();) {
    const size_t len = size_t(base[i + 2]) << 8 | base[i + 3];
    if (base[i + 1] == 0xEF) {
      base.erase(base.begin() + std::ptrdiff_t(i), base.begin() + std::ptrdiff_t(i + 2 + len));
      break;
    }
    i += 2 + len;
  }
  write_bytes(dir.file("base.jpg"), base);
  const std::string gen = std::string(FACET_TEST_SOURCE_DIR) + "/tests/tools/gen_dfl_faces.py";
  ASSERT_EQ(exit_code_of("python3 " + gen + " --base " + dir.file("base.jpg") + " --out " + dir.file("out")), 0);
  for (const char* f : kFixtures) EXPECT_EQ(read_file_bytes(dir.file(std::string("out/") + f)), read_file_bytes(fixture(f))) << f;
  EXPECT_EQ(read_text_file(dir.file("out/dfl_expected.json")), read_text_file(fixture("dfl_expected.json")));
}

}  // namespace
}  // namespace facet::faces
