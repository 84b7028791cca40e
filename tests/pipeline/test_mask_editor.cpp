// `facet mask edit` (pipeline/mask/mask_editor.h): the API over HTTP (the token is required, only
// the set's own faces are served, polygons are validated and saved into the metadata alone, the
// learned mask is served when there is one), and the page in a real browser: headless Chromium
// opens it, a scripted user draws an include square and an exclude triangle, saves and moves on;
// the polygons stored in the face file are checked point by point and as a mask. The browser test
// skips when Chromium is not installed (scripts/setup-deps.sh --with-browser installs it).
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "engine/io/read_file.h"
#include "pipeline/faces/face_image.h"
#include "pipeline/faces/face_set.h"
#include "pipeline/mask/mask_editor.h"
#include "pipeline_test_support.h"
#include "test_mask_support.h"

namespace facet::mask {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::ScratchDir;

// The server of a face set on a thread, stopped and joined on destruction.
struct RunningEditor {
  explicit RunningEditor(MaskEditorOptions o) : server(std::move(o)), thread([this] { server.run(); }) {}
  ~RunningEditor() {
    server.stop();
    wait();
  }
  void wait() {
    if (thread.joinable()) thread.join();
  }
  std::string q(const std::string& path, const std::string& name = "") const {
    return path + "?token=" + server.token() + (name.empty() ? "" : "&name=" + name);
  }
  MaskEditorServer server;
  std::thread thread;
};

std::string first_face(const std::string& dir) { return faces::load_face_set(dir).faces.front().filename; }

TEST(MaskEditor, ApiNeedsTheTokenServesTheSetAndSavesPolygonsOnly) {
  ScratchDir dir("mask_editor_api");
  testing::write_occluded_faces(dir.path(), 21, 0, 2, 64, false);
  RunningEditor ed(MaskEditorOptions{dir.path(), 0, "", "", {}});
  EXPECT_EQ(ed.server.faces(), 2);
  EXPECT_NE(ed.server.url().find("http://127.0.0.1:"), std::string::npos);
  httplib::Client cli("127.0.0.1", ed.server.port());
  EXPECT_EQ(cli.Get("/api/faces")->status, 403);
  EXPECT_EQ(cli.Get("/api/faces?token=wrong")->status, 403);
  EXPECT_EQ(cli.Get(ed.q("/").c_str())->status, 200);
  auto list = cli.Get(ed.q("/api/faces").c_str());
  ASSERT_EQ(list->status, 200);
  const json faces = json::parse(list->body)["faces"];
  ASSERT_EQ(faces.size(), 2u);
  const std::string name = faces[0]["name"], path = dir.file(name);
  EXPECT_EQ(faces[0]["width"], 64);
  EXPECT_FALSE(faces[0]["learned_mask"].get<bool>());
  auto img = cli.Get(ed.q("/api/image", name).c_str());
  ASSERT_EQ(img->status, 200);
  const std::vector<uint8_t> before = read_file_bytes(path);
  EXPECT_EQ(img->body, std::string(before.begin(), before.end()));
  EXPECT_EQ(cli.Get(ed.q("/api/image", "..%2F..%2Fetc%2Fpasswd").c_str())->status, 404);
  EXPECT_EQ(cli.Get(ed.q("/api/mask", name).c_str())->status, 404);  // no learned mask yet

  const std::string good = R"({"polygons": [{"type": "include", "points": [[4, 4], [60, 4], [60, 60], [4, 60]]},
                                            {"type": "exclude", "points": [[10, 10], [20, 10], [15, 20]]}]})";
  auto saved = cli.Post(ed.q("/api/polygons", name).c_str(), good, "application/json");
  ASSERT_EQ(saved->status, 200) << saved->body;
  EXPECT_EQ(json::parse(saved->body)["polygons"], 2);
  const faces::FaceImage after = faces::read_face_image(path);
  ASSERT_EQ(after.meta.seg_polygons.size(), 2u);
  EXPECT_FALSE(after.meta.seg_polygons[1].include);
  EXPECT_EQ(cv::norm(after.image, cv::imdecode(before, cv::IMREAD_COLOR), cv::NORM_INF), 0.0);  // pixels kept
  EXPECT_EQ(ed.server.saves(), 1);
  for (const char* bad : {"not json", R"({"polys": []})", R"({"polygons": [{"type": "include", "points": [[1, 1], [2, 2]]}]})",
                          R"({"polygons": [{"type": "maybe", "points": [[1, 1], [2, 2], [3, 1]]}]})"}) {
    auto r = cli.Post(ed.q("/api/polygons", name).c_str(), bad, "application/json");
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_TRUE(json::parse(r->body).contains("error")) << bad;
  }
  EXPECT_EQ(faces::read_face_image(path).meta.seg_polygons.size(), 2u);  // a refused save changes nothing

  // A learned mask is served (at the image's size) once the face has one, and kept by a save.
  faces::FaceImage f = faces::read_face_image(path);
  cv::Mat m = cv::Mat::zeros(32, 32, CV_8UC1);
  m.colRange(0, 16).setTo(255);
  f.meta.xseg_mask = faces::encode_xseg_mask(m);
  faces::update_face_metadata(path, f.meta);
  auto mask = cli.Get(ed.q("/api/mask", name).c_str());
  ASSERT_EQ(mask->status, 200);
  const cv::Mat got = cv::imdecode(std::vector<uint8_t>(mask->body.begin(), mask->body.end()), cv::IMREAD_GRAYSCALE);
  EXPECT_EQ(got.size(), cv::Size(64, 64));
  ASSERT_EQ(cli.Post(ed.q("/api/polygons", name).c_str(), good, "application/json")->status, 200);
  EXPECT_FALSE(faces::read_face_image(path).meta.xseg_mask.empty());

  // Quitting needs the token too, and ends run().
  EXPECT_EQ(cli.Post("/api/quit", "", "application/json")->status, 403);
  EXPECT_EQ(cli.Post(ed.q("/api/quit").c_str(), "", "application/json")->status, 200);
  ed.wait();  // returns: the server stopped itself
}

TEST(MaskEditor, AUserDrawsAndSavesInHeadlessChromium) {
  if (std::system("command -v chromium > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "Chromium is not installed (scripts/setup-deps.sh --with-browser)";
  ScratchDir dir("mask_editor_browser"), profile("mask_editor_profile");
  testing::write_occluded_faces(dir.path(), 22, 0, 2, 64, false);
  const std::string name = first_face(dir.path());
  MaskEditorOptions o{dir.path(), 0, "", std::string(FACET_TEST_SOURCE_DIR) + "/tests/fixtures/mask_edit/draw_and_save.js", {}};
  RunningEditor ed(o);
  const std::string dom = dir.file("dom.html");
  const std::string cmd = "timeout 90 chromium --headless=new --no-sandbox --disable-gpu --no-first-run "
                          "--user-data-dir='" + profile.path() + "' --window-size=800,700 --virtual-time-budget=20000 "
                          "--dump-dom '" + ed.server.url() + "' > '" + dom + "' 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string page = read_text_file(dom);
  ASSERT_NE(page.find("SELFTEST saved " + name), std::string::npos) << page.substr(page.size() > 2000 ? page.size() - 2000 : 0);
  EXPECT_NE(page.find("then showed"), std::string::npos);

  const faces::FaceImage f = faces::read_face_image(dir.file(name));
  ASSERT_EQ(f.meta.seg_polygons.size(), 2u);
  const faces::SegPolygon &inc = f.meta.seg_polygons[0], &exc = f.meta.seg_polygons[1];
  EXPECT_TRUE(inc.include);
  EXPECT_FALSE(exc.include);
  const std::vector<faces::Point> square = {{8, 8}, {40, 8}, {40, 40}, {8, 40}}, tri = {{20, 20}, {30, 20}, {25, 30}};
  ASSERT_EQ(inc.points.size(), 4u);
  ASSERT_EQ(exc.points.size(), 3u);
  for (size_t i = 0; i < 4; ++i) EXPECT_LT(cv::norm(inc.points[i] - square[i]), 1.0) << i;
  for (size_t i = 0; i < 3; ++i) EXPECT_LT(cv::norm(exc.points[i] - tri[i]), 1.0) << i;
  const cv::Mat mask = faces::seg_polygons_mask(f.image.size(), f.meta.seg_polygons);
  EXPECT_EQ(mask.at<uint8_t>(12, 12), 255);  // inside the square
  EXPECT_EQ(mask.at<uint8_t>(22, 25), 0);    // inside the triangle
  EXPECT_EQ(mask.at<uint8_t>(50, 50), 0);    // outside both
  EXPECT_NEAR(cv::countNonZero(mask), 32 * 32 - 50, 80);
  EXPECT_EQ(ed.server.saves(), 1);
}

}  // namespace
}  // namespace facet::mask
