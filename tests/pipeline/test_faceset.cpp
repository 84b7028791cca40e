// Face metadata inside PNG/JPEG files, face set folders and the alignments file: round trips,
// images still decoding after splicing, corrupt files reported by name and skipped, and deleting
// a face image removing that face.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "pipeline/faces/alignments.h"
#include "pipeline/faces/face_image.h"
#include "pipeline/faces/face_set.h"
#include "pipeline/faces/image_chunks.h"
#include "pipeline_test_support.h"

namespace facet::faces {
namespace {

using facet::testing::ScratchDir;

cv::Mat test_image(int w = 96, int h = 80, int seed = 0) {
  cv::Mat img(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      img.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(x * 2 + seed), uint8_t(y * 3), uint8_t((x + y + seed * 7) & 255));
  cv::circle(img, {w / 2, h / 2}, h / 4, cv::Scalar(30, 200, 90), -1);
  return img;
}

FaceMetadata test_meta(int64_t frame = 42, int face_index = 0) {
  FaceMetadata m;
  m.face_type = FaceType::WholeFace;
  const Landmarks frame_lm = facet::testing::place_face(facet::testing::synthetic_face_template(), 120, 0.1,
                                                       {200 + double(frame), 150});
  m.image_to_face = get_transform_mat(frame_lm, 96, FaceType::WholeFace);
  m.landmarks = transform_points(frame_lm, m.image_to_face);
  m.source_landmarks = frame_lm;
  m.source_frame = frame;
  m.face_index = face_index;
  m.source_filename = "franck.mp4";
  m.source_rect = {180.5, 140, 330, 300.25};
  m.eyebrows_expand_mod = 1.0;
  return m;
}

void expect_meta_eq(const FaceMetadata& a, const FaceMetadata& b) {
  EXPECT_EQ(a.format_version, b.format_version);
  EXPECT_EQ(a.face_type, b.face_type);
  EXPECT_EQ(a.source_frame, b.source_frame);
  EXPECT_EQ(a.face_index, b.face_index);
  EXPECT_EQ(a.source_filename, b.source_filename);
  EXPECT_EQ(a.source_rect, b.source_rect);
  ASSERT_EQ(a.landmarks.size(), b.landmarks.size());
  ASSERT_EQ(a.source_landmarks.size(), b.source_landmarks.size());
  for (size_t i = 0; i < a.landmarks.size(); ++i) {
    EXPECT_EQ(a.landmarks[i], b.landmarks[i]) << i;  // JSON keeps doubles exactly
    EXPECT_EQ(a.source_landmarks[i], b.source_landmarks[i]) << i;
  }
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(a.image_to_face(r, c), b.image_to_face(r, c));
  EXPECT_EQ(a.eyebrows_expand_mod, b.eyebrows_expand_mod);
}

size_t count_of(const std::vector<uint8_t>& bytes, const std::string& needle) {
  size_t n = 0;
  for (auto it = bytes.begin(); (it = std::search(it, bytes.end(), needle.begin(), needle.end())) != bytes.end(); ++it) ++n;
  return n;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

TEST(FaceMetadata, PngRoundTripKeepsPixelsAndMetadata) {
  const cv::Mat img = test_image();
  FaceMetadata meta = test_meta();
  meta.extra_json = R"({"learned_mask":"abc","future_key":[1,2,3]})";
  const std::vector<uint8_t> bytes = encode_face_image(img, meta, ImageFormat::Png);
  EXPECT_EQ(count_of(bytes, "fcTm"), 1u);
  // Our chunk sits right before IEND: the last 12 bytes are the IEND chunk.
  const std::string tail(bytes.end() - 8, bytes.end() - 4);
  EXPECT_EQ(tail, "IEND");
  const cv::Mat decoded = cv::imdecode(bytes, cv::IMREAD_COLOR);
  ASSERT_FALSE(decoded.empty()) << "OpenCV still decodes the spliced PNG";
  EXPECT_EQ(cv::norm(decoded, img, cv::NORM_INF), 0.0);
  const auto payload = extract_image_metadata(bytes, "test.png");
  ASSERT_TRUE(payload.has_value());
  const FaceMetadata back = face_metadata_from_json(*payload);
  expect_meta_eq(back, meta);
  EXPECT_EQ(back.width, 96);
  EXPECT_EQ(back.height, 80);
  const auto extra = nlohmann::json::parse(back.extra_json);
  EXPECT_EQ(extra["learned_mask"], "abc");
  EXPECT_EQ(extra["future_key"].size(), 3u);
}

TEST(FaceMetadata, JpegRoundTripDecodesLikeTheOriginal) {
  const cv::Mat img = test_image(128, 128, 3);
  const FaceMetadata meta = test_meta(7, 1);
  std::vector<uint8_t> plain;
  ASSERT_TRUE(cv::imencode(".jpg", img, plain, {cv::IMWRITE_JPEG_QUALITY, 95}));
  const std::vector<uint8_t> bytes = encode_face_image(img, meta, ImageFormat::Jpeg, 95);
  EXPECT_EQ(count_of(bytes, std::string("facet\0", 6)), 1u);
  EXPECT_GT(bytes.size(), plain.size());
  const cv::Mat a = cv::imdecode(plain, cv::IMREAD_COLOR), b = cv::imdecode(bytes, cv::IMREAD_COLOR);
  ASSERT_FALSE(b.empty()) << "OpenCV still decodes the spliced JPEG";
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0) << "same entropy-coded data, same pixels";
  // APP15 comes after the JFIF APP0 segment.
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(bytes[2], 0xFF);
  EXPECT_EQ(bytes[3], 0xE0);
  const auto payload = extract_image_metadata(bytes, "x.jpg");
  ASSERT_TRUE(payload.has_value());
  expect_meta_eq(face_metadata_from_json(*payload), meta);
  EXPECT_FALSE(extract_image_metadata(plain).has_value());
}

TEST(FaceMetadata, LargeJpegPayloadSpansSegmentsAndRewritesReplace) {
  const cv::Mat img = test_image();
  std::vector<uint8_t> plain;
  ASSERT_TRUE(cv::imencode(".jpg", img, plain));
  std::string big(200000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = char('a' + i % 26);
  const std::vector<uint8_t> once = embed_image_metadata(plain, big);
  EXPECT_EQ(count_of(once, std::string("facet\0", 6)), 4u);  // 200000 / 65525 -> 4 segments
  EXPECT_EQ(*extract_image_metadata(once), big);
  EXPECT_FALSE(cv::imdecode(once, cv::IMREAD_COLOR).empty());
  const std::vector<uint8_t> twice = embed_image_metadata(once, "small");
  EXPECT_EQ(count_of(twice, std::string("facet\0", 6)), 1u);
  EXPECT_EQ(*extract_image_metadata(twice), "small");
  EXPECT_EQ(twice.size(), plain.size() + 4 + 6 + 2 + 5);

  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", img, png));
  const auto p2 = embed_image_metadata(embed_image_metadata(png, big), "second");
  EXPECT_EQ(count_of(p2, "fcTm"), 1u);
  EXPECT_EQ(*extract_image_metadata(p2), "second");
  EXPECT_EQ(p2.size(), png.size() + 12 + 6);
}

TEST(FaceMetadata, CorruptFilesAreRejectedWithTheirName) {
  const cv::Mat img = test_image();
  const std::vector<uint8_t> png = encode_face_image(img, test_meta(), ImageFormat::Png);
  const std::vector<uint8_t> jpg = encode_face_image(img, test_meta(), ImageFormat::Jpeg);
  auto expect_error = [](const std::vector<uint8_t>& b, const std::string& part) {
    try {
      extract_image_metadata(b, "face_001.png");
      ADD_FAILURE() << "no error for " << part;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("face_001.png"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  std::vector<uint8_t> flipped = png;
  flipped[png.size() / 2] ^= 0x55;
  expect_error(flipped, "bad CRC");
  expect_error(std::vector<uint8_t>(png.begin(), png.begin() + png.size() / 2), "truncated");
  expect_error(std::vector<uint8_t>(jpg.begin(), jpg.begin() + jpg.size() - 100), "truncated");
  expect_error(std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'}, "not a PNG or JPEG");
  expect_error({}, "not a PNG or JPEG");
  EXPECT_THROW(face_metadata_from_json("{\"facet_face\": 99, \"face_type\": \"head\"}"), Error);
  EXPECT_THROW(face_metadata_from_json("not json"), Error);
  EXPECT_THROW(face_metadata_from_json("{\"facet_face\": 1}"), Error);
}

TEST(FaceMetadata, FilesOnDisk) {
  ScratchDir dir("facefiles");
  const cv::Mat img = test_image();
  write_face_image(dir.file("a.jpg"), img, test_meta());
  write_face_image(dir.file("b.png"), img, test_meta(3));
  const FaceImage a = read_face_image(dir.file("a.jpg"));
  EXPECT_EQ(a.image.size(), img.size());
  expect_meta_eq(a.meta, test_meta());
  const FaceImage b = read_face_image(dir.file("b.png"));
  EXPECT_EQ(cv::norm(b.image, img, cv::NORM_INF), 0.0);
  EXPECT_EQ(read_face_metadata(dir.file("b.png"))->source_frame, 3);
  cv::imwrite(dir.file("plain.png"), img);
  EXPECT_FALSE(read_face_metadata(dir.file("plain.png")).has_value());
  EXPECT_THROW(read_face_image(dir.file("plain.png")), Error);
  EXPECT_THROW(read_face_metadata(dir.file("missing.png")), Error);
  EXPECT_THROW(write_face_image(dir.file("c.bmp"), img, test_meta()), Error);
  EXPECT_EQ(face_image_name("/data/franck.mp4", 123, 0), "franck_000123_0.jpg");
  EXPECT_EQ(face_image_name("clip.mkv", 5, 2, "png"), "clip_000005_2.png");
}

// A PNG whose compressed data is damaged but whose chunk CRCs were recomputed: structurally fine,
// caught only when the pixels are decoded.
std::vector<uint8_t> png_with_bad_pixels(const std::vector<uint8_t>& png) {
  std::vector<uint8_t> b = png;
  size_t pos = 8;
  while (pos + 12 <= b.size()) {
    const size_t len = size_t(b[pos]) << 24 | size_t(b[pos + 1]) << 16 | size_t(b[pos + 2]) << 8 | b[pos + 3];
    if (std::string(b.begin() + pos + 4, b.begin() + pos + 8) == "IDAT") {
      for (size_t i = 2; i < len; ++i) b[pos + 8 + i] = uint8_t(b[pos + 8 + i] * 31 + 7);
      const uint32_t crc = png_crc32(&b[pos + 4], 4 + len);
      for (int k = 0; k < 4; ++k) b[pos + 8 + len + k] = uint8_t(crc >> (24 - 8 * k));
    }
    pos += 12 + len;
  }
  return b;
}

TEST(FaceSet, LoadsGoodFacesInOrderAndNamesTheBadOnes) {
  ScratchDir dir("faceset");
  const cv::Mat img = test_image();
  write_face_image(dir.file("franck_000010_0.jpg"), img, test_meta(10));
  write_face_image(dir.file("franck_000002_0.png"), img, test_meta(2));
  write_face_image(dir.file("franck_000002_1.jpg"), img, test_meta(2, 1));
  const std::vector<uint8_t> good = encode_face_image(img, test_meta(5), ImageFormat::Png);
  write_bytes(dir.file("truncated.png"), std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 3));
  write_bytes(dir.file("garbage.jpg"), {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
  write_bytes(dir.file("badpixels.png"), png_with_bad_pixels(good));
  cv::imwrite(dir.file("no_meta.png"), img);
  std::ofstream(dir.file("notes.txt")) << "ignored";
  std::ofstream(dir.file("alignments.json")) << "{}";

  const FaceSet set = load_face_set(dir.path());
  std::vector<std::string> names;
  for (const auto& f : set.faces) names.push_back(f.filename);
  EXPECT_EQ(names, (std::vector<std::string>{"badpixels.png", "franck_000002_0.png", "franck_000002_1.jpg",
                                             "franck_000010_0.jpg"}));
  EXPECT_EQ(set.faces[3].meta.source_frame, 10);
  EXPECT_EQ(set.faces[2].meta.face_index, 1);
  std::vector<std::string> skipped;
  for (const auto& s : set.skipped) {
    skipped.push_back(s.filename);
    EXPECT_FALSE(s.reason.empty());
  }
  EXPECT_EQ(skipped, (std::vector<std::string>{"garbage.jpg", "no_meta.png", "truncated.png"}));
  EXPECT_NE(set.skipped[2].reason.find("truncated"), std::string::npos) << set.skipped[2].reason;

  const FaceSet strict = load_face_set(dir.path(), {/*decode_pixels=*/true});
  EXPECT_EQ(strict.faces.size(), 3u);
  ASSERT_EQ(strict.skipped.size(), 4u);
  EXPECT_EQ(strict.skipped[0].filename, "badpixels.png");
  EXPECT_THROW(load_face_set(dir.file("nope")), Error);
}

Alignments test_alignments() {
  Alignments a;
  a.source = "franck.mp4";
  a.face_type = FaceType::Head;
  a.face_size = 96;
  for (int64_t f : {0, 3, 7}) {
    FrameAlignments fr;
    fr.frame = f;
    fr.time = f / 24.0;
    if (f != 3) {  // frame 3: processed, no face
      for (int k = 0; k < (f == 7 ? 2 : 1); ++k) {
        const FaceMetadata m = test_meta(f, k);
        fr.faces.push_back({k, face_image_name(a.source, f, k), m.source_rect, m.source_landmarks, m.image_to_face});
      }
    }
    a.frames.push_back(fr);
  }
  return a;
}

TEST(Alignments, JsonRoundTrip) {
  ScratchDir dir("alignments");
  const Alignments a = test_alignments();
  save_alignments(dir.file("franck.alignments.json"), a);
  const Alignments b = load_alignments(dir.file("franck.alignments.json"));
  EXPECT_EQ(b.source, "franck.mp4");
  EXPECT_EQ(b.face_type, FaceType::Head);
  EXPECT_EQ(b.face_size, 96);
  ASSERT_EQ(b.frames.size(), 3u);
  EXPECT_EQ(b.face_count(), 3u);
  ASSERT_NE(b.find(7), nullptr);
  EXPECT_EQ(b.find(5), nullptr);
  EXPECT_TRUE(b.find(3)->faces.empty());
  EXPECT_DOUBLE_EQ(b.find(7)->time, 7 / 24.0);
  const AlignedFace& f = b.find(7)->faces[1];
  const AlignedFace& g = a.frames[2].faces[1];
  EXPECT_EQ(f.file, "franck_000007_1.jpg");
  EXPECT_EQ(f.rect, g.rect);
  ASSERT_EQ(f.landmarks.size(), 68u);
  for (int i = 0; i < 68; ++i) EXPECT_EQ(f.landmarks[i], g.landmarks[i]);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(f.image_to_face(r, c), g.image_to_face(r, c));
  // Malformed input names the file.
  std::ofstream(dir.file("bad.json")) << R"({"facet_alignments": 1, "frames": [{"frame": 1, "faces": [{"rect": [1,2]}]}]})";
  try {
    load_alignments(dir.file("bad.json"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
  std::ofstream(dir.file("dup.json")) << R"({"facet_alignments": 1, "frames": [{"frame": 1, "faces": []}, {"frame": 1, "faces": []}]})";
  EXPECT_THROW(load_alignments(dir.file("dup.json")), Error);
  EXPECT_THROW(alignments_from_json("{\"frames\": []}"), Error);
}

TEST(Alignments, DeletingAFaceImageRemovesThatFace) {
  ScratchDir dir("alignments_del");
  const Alignments a = test_alignments();
  const cv::Mat img = test_image();
  for (const auto& fr : a.frames)
    for (const auto& f : fr.faces) write_face_image(dir.file(f.file), img, test_meta(fr.frame, f.face_index));
  save_alignments(dir.file("franck.alignments.json"), a);
  std::filesystem::remove(dir.file("franck_000007_0.jpg"));
  std::vector<std::string> removed;
  const Alignments b = load_alignments(dir.file("franck.alignments.json"), dir.path(), &removed);
  EXPECT_EQ(removed, std::vector<std::string>{"franck_000007_0.jpg"});
  EXPECT_EQ(b.face_count(), 2u);
  ASSERT_EQ(b.find(7)->faces.size(), 1u);
  EXPECT_EQ(b.find(7)->faces[0].face_index, 1);
  EXPECT_EQ(b.frames.size(), 3u) << "frames stay listed";

  // The face images alone rebuild the same alignments (minus the empty frame).
  const Alignments c = alignments_from_face_set(load_face_set(dir.path()), "franck.mp4");
  EXPECT_EQ(c.face_count(), 2u);
  EXPECT_EQ(c.frames.size(), 2u);
  EXPECT_EQ(c.find(0)->faces[0].file, "franck_000000_0.jpg");
  EXPECT_EQ(c.find(0)->faces[0].landmarks[30], test_meta(0).source_landmarks[30]);
}

}  // namespace
}  // namespace facet::faces
