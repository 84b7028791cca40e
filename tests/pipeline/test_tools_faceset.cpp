// `facet faceset` tools (pipeline/tools/faceset_*.h) on small synthetic face sets: the blur sort
// puts a sharp face before a blurred copy of it; applying a sort renames with a numeric prefix,
// leaves every file's bytes (so its metadata) untouched, keeps the alignments file in step, and
// replaces rather than stacks an earlier prefix; dedupe finds an exact copy and not a different
// face, and moves (never deletes) with --apply; info counts faces and explains skipped files.
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "engine/io/read_file.h"
#include "pipeline/faces/alignments.h"
#include "pipeline/faces/face_image.h"
#include "pipeline/faces/face_set.h"
#include "pipeline/tools/faceset_dedupe.h"
#include "pipeline/tools/faceset_info.h"
#include "pipeline/tools/faceset_sort.h"
#include "pipeline/train/synthetic_faces.h"
#include "pipeline_test_support.h"

namespace facet::tools {
namespace {

namespace fs = std::filesystem;
using facet::testing::ScratchDir;

// A synthetic face (identity A, `index` picks pose and lighting) with fine texture, so blurring
// it clearly removes detail; metadata as extraction would write it for frame `frame` of clip.mp4.
cv::Mat synthetic_face(int index, faces::FaceMetadata& meta, int frame, double rect_side = 100) {
  cv::Mat img = train::draw_synthetic_face(train::SyntheticIdentity::A, 3, index, 128, faces::FaceType::Full,
                                           &meta.landmarks);
  cv::Mat noise(img.size(), CV_8UC3);
  cv::randu(noise, 0, 40);
  img = img * 0.85 + noise;
  meta.face_type = faces::FaceType::Full;
  meta.source_filename = "clip.mp4";
  meta.source_frame = frame;
  meta.face_index = 0;
  meta.source_landmarks = meta.landmarks;
  meta.source_rect = {10, 10, 10 + rect_side, 10 + rect_side};
  return img;
}

std::string write_face(const ScratchDir& dir, const std::string& name, const cv::Mat& img,
                       const faces::FaceMetadata& meta) {
  faces::write_face_image(dir.file(name), img, meta);
  return name;
}

std::map<std::string, std::vector<uint8_t>> bytes_of(const ScratchDir& dir) {
  std::map<std::string, std::vector<uint8_t>> out;
  for (const auto& e : faces::load_face_set(dir.path()).faces) out[e.filename] = read_file_bytes(e.path);
  return out;
}

TEST(ToolsFaceset, BlurSortPutsTheSharpFaceFirst) {
  ScratchDir dir("tools_blur");
  faces::FaceMetadata meta;
  const cv::Mat sharp = synthetic_face(0, meta, 0);
  cv::Mat blurred;
  cv::GaussianBlur(sharp, blurred, cv::Size(9, 9), 2.5);
  // Name order is the opposite of the expected order.
  write_face(dir, "a_blurred.png", blurred, meta);
  meta.source_frame = 1;
  write_face(dir, "b_sharp.png", sharp, meta);

  EXPECT_GT(blur_score(sharp, meta.landmarks), 2 * blur_score(blurred, meta.landmarks));
  const SortResult r = sort_face_set(dir.path(), SortKey::Blur);
  ASSERT_EQ(r.order.size(), 2u);
  EXPECT_EQ(r.order[0].filename, "b_sharp.png");
  EXPECT_EQ(r.order[1].filename, "a_blurred.png");
  EXPECT_GT(r.order[0].value, r.order[1].value);
  EXPECT_EQ(sort_face_set(dir.path(), SortKey::Blur, /*reverse=*/true).order[0].filename, "a_blurred.png");
  // The other keys run on the same set and keep every face.
  for (SortKey k : {SortKey::Yaw, SortKey::Pitch, SortKey::Hist, SortKey::FaceSize}) {
    const SortResult o = sort_face_set(dir.path(), k);
    EXPECT_EQ(o.order.size(), 2u) << sort_key_name(k);
    EXPECT_TRUE(o.skipped.empty()) << sort_key_name(k);
    for (const auto& f : o.order) EXPECT_TRUE(std::isfinite(f.value)) << sort_key_name(k);
  }
  EXPECT_EQ(parse_sort_key("face-size"), SortKey::FaceSize);
  EXPECT_THROW(parse_sort_key("colour"), Error);
}

TEST(ToolsFaceset, ApplyRenamesKeepsBytesAndAlignments) {
  ScratchDir dir("tools_sort_apply");
  const double sides[] = {50, 200, 120};  // frame 1 has the largest box, then 2, then 0
  for (int i = 0; i < 3; ++i) {
    faces::FaceMetadata meta;
    const cv::Mat img = synthetic_face(i, meta, i, sides[i]);
    write_face(dir, faces::face_image_name("clip.mp4", i, 0, "png"), img, meta);
  }
  // An alignments file naming the faces, as extraction leaves it beside them.
  const std::string al = dir.file("clip.alignments.json");
  faces::save_alignments(al, faces::alignments_from_face_set(faces::load_face_set(dir.path()), "clip.mp4"));
  // A non-face file is left alone.
  cv::imwrite(dir.file("notes.png"), cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)));
  const auto before = bytes_of(dir);

  const SortResult r = sort_face_set(dir.path(), SortKey::FaceSize);
  ASSERT_EQ(r.order.size(), 3u);
  EXPECT_EQ(r.order[0].filename, "clip_000001_0.png");
  const auto plan = plan_sort_renames(r.order);
  ASSERT_EQ(plan.size(), 3u);
  const RenameReport rep = apply_renames(dir.path(), plan);
  EXPECT_EQ(rep.renamed, 3);
  ASSERT_EQ(rep.alignments_updated.size(), 1u);
  EXPECT_TRUE(rep.warnings.empty());

  const std::vector<std::string> expect = {"00000_clip_000001_0.png", "00001_clip_000002_0.png",
                                           "00002_clip_000000_0.png"};
  const faces::FaceSet after = faces::load_face_set(dir.path());
  ASSERT_EQ(after.faces.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(after.faces[i].filename, expect[i]);
  EXPECT_TRUE(fs::exists(dir.file("notes.png")));
  // The bytes (and so the metadata) of every face are unchanged.
  const auto now = bytes_of(dir);
  for (const auto& [from, to] : plan) EXPECT_EQ(now.at(to), before.at(from)) << from;
  // Merge still finds every face.
  std::vector<std::string> dropped;
  const faces::Alignments a = faces::load_alignments(al, dir.path(), &dropped);
  EXPECT_TRUE(dropped.empty());
  EXPECT_EQ(a.face_count(), 3u);
  EXPECT_EQ(a.find(1)->faces[0].file, "00000_clip_000001_0.png");

  // Sorting again the same way changes nothing; another order replaces the prefix.
  EXPECT_TRUE(plan_sort_renames(sort_face_set(dir.path(), SortKey::FaceSize).order).empty());
  apply_renames(dir.path(), plan_sort_renames(sort_face_set(dir.path(), SortKey::FaceSize, true).order));
  const faces::FaceSet rev = faces::load_face_set(dir.path());
  EXPECT_EQ(rev.faces[0].filename, "00000_clip_000000_0.png");
  EXPECT_EQ(rev.faces[2].filename, "00002_clip_000001_0.png");
  EXPECT_TRUE(faces::load_alignments(al, dir.path(), &dropped).face_count() == 3 && dropped.empty());
}

TEST(ToolsFaceset, StripSortPrefixKeepsConventionalNames) {
  faces::FaceMetadata m;
  m.source_filename = "000123.png";  // an image-folder source: the conventional name starts with digits
  m.source_frame = 5;
  EXPECT_EQ(strip_sort_prefix("000123_000005_0.jpg", m), "000123_000005_0.jpg");
  EXPECT_EQ(strip_sort_prefix("00042_000123_000005_0.jpg", m), "000123_000005_0.jpg");
  EXPECT_EQ(strip_sort_prefix("00042_face.jpg", m), "face.jpg");
  EXPECT_EQ(strip_sort_prefix("42_face.jpg", m), "42_face.jpg");  // too short to be ours
}

TEST(ToolsFaceset, DedupeFindsACopyButNotAnotherFace) {
  ScratchDir dir("tools_dedupe");
  faces::FaceMetadata m0, m1;
  write_face(dir, "f0.jpg", synthetic_face(0, m0, 0), m0);
  write_face(dir, "f1.jpg", synthetic_face(1, m1, 1), m1);
  fs::copy_file(dir.file("f0.jpg"), dir.file("f2.jpg"));

  const DedupeResult r = find_duplicates(dir.path());
  EXPECT_EQ(r.faces, 3);
  ASSERT_EQ(r.duplicates.size(), 1u);
  EXPECT_EQ(r.duplicates[0].filename, "f2.jpg");
  EXPECT_EQ(r.duplicates[0].kept, "f0.jpg");
  EXPECT_EQ(r.duplicates[0].distance, 0.0);
  const cv::Mat t0 = face_thumbnail(cv::imread(dir.file("f0.jpg"))), t1 = face_thumbnail(cv::imread(dir.file("f1.jpg")));
  EXPECT_GT(thumbnail_distance(t0, t1), 10 * kDefaultDedupeThreshold);

  const auto moved = move_duplicates(dir.path(), r.duplicates);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_TRUE(fs::exists(dir.file("_removed/f2.jpg")));
  EXPECT_FALSE(fs::exists(dir.file("f2.jpg")));
  EXPECT_EQ(faces::load_face_set(dir.path()).faces.size(), 2u);
  EXPECT_TRUE(find_duplicates(dir.path()).duplicates.empty());
  EXPECT_THROW(find_duplicates(dir.path(), -0.1), Error);
}

TEST(ToolsFaceset, InfoCountsFacesAndExplainsSkippedFiles) {
  ScratchDir dir("tools_info");
  for (int i = 0; i < 3; ++i) {
    faces::FaceMetadata m;
    write_face(dir, faces::face_image_name("clip.mp4", 10 + i, 0, i == 2 ? "png" : "jpg"), synthetic_face(i, m, 10 + i),
               m);
  }
  cv::imwrite(dir.file("plain.png"), cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)));  // no metadata
  {
    const auto bytes = read_file_bytes(dir.file("clip_000010_0.jpg"));
    std::ofstream(dir.file("broken.jpg"), std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                                  std::streamsize(bytes.size() / 2));
  }
  const FaceSetSummary s = summarize_face_set(dir.path());
  EXPECT_EQ(s.faces, 3);
  EXPECT_EQ(s.face_types.at("full_face"), 3);
  EXPECT_EQ(s.sizes.at("128x128"), 3);
  EXPECT_EQ(s.formats.at("jpg"), 2);
  EXPECT_EQ(s.formats.at("png"), 1);
  ASSERT_EQ(s.sources.size(), 1u);
  EXPECT_EQ(s.sources[0].name, "clip.mp4");
  EXPECT_EQ(s.sources[0].first_frame, 10);
  EXPECT_EQ(s.sources[0].last_frame, 12);
  ASSERT_EQ(s.skipped.size(), 2u);
  const std::string text = format_face_set_summary(s);
  EXPECT_NE(text.find("plain.png"), std::string::npos) << text;
  EXPECT_NE(text.find("broken.jpg"), std::string::npos) << text;
  EXPECT_NE(face_set_summary_json(s).find("\"skipped\""), std::string::npos);
  EXPECT_THROW(summarize_face_set(dir.file("missing")), Error);
}

}  // namespace
}  // namespace facet::tools
