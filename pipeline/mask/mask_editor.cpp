// The polygon editor's server (see mask_editor.h).
#include "pipeline/mask/mask_editor.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "engine/io/read_file.h"
#include "pipeline/faces/face_image.h"
#include "pipeline/faces/face_set.h"

namespace facet::mask {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kMaxPolygonBytes = 4 << 20;  // a POST body beyond this is not a hand-drawn label

std::string random_token() {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string t;
  for (int i = 0; i < 32; ++i) t += hex[rd() & 15];
  return t;
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json{{"error", message}}.dump(), "application/json");
}

}  // namespace

struct MaskEditorServer::Impl {
  httplib::Server server;
  std::mutex mu;  // guards the face files while one is saved
  std::map<std::string, std::string> paths;  // face name -> file path (the only files served)
  std::string dir;
  std::atomic<int64_t> saves{0};
  std::atomic<bool> entered{false}, stop_requested{false}, finished{false};

  // The face's file, or "" when `name` is not a face of this set (never a path from outside it).
  std::string path_of(const httplib::Request& req) const {
    if (!req.has_param("name")) return "";
    auto it = paths.find(req.get_param_value("name"));
    return it == paths.end() ? "" : it->second;
  }
};

MaskEditorServer::MaskEditorServer(MaskEditorOptions opt) : impl_(std::make_unique<Impl>()), opt_(std::move(opt)) {
  FACET_CHECK(fs::is_directory(opt_.faces_dir), opt_.faces_dir, ": face folder does not exist or is not a folder");
  if (opt_.token.empty()) opt_.token = random_token();
  const faces::FaceSet set = faces::load_face_set(opt_.faces_dir);
  for (const auto& e : set.faces) impl_->paths[e.filename] = e.path;
  for (const auto& s : set.skipped)
    if (opt_.log) opt_.log("skipped " + s.filename + ": " + s.reason);
  FACET_CHECK(!impl_->paths.empty(), opt_.faces_dir, ": no face images to edit");
  impl_->dir = opt_.faces_dir;
  Impl& im = *impl_;
  const std::string token = opt_.token, extra = opt_.extra_script;
  auto authorised = [token](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("token") && req.get_param_value("token") == token) return true;
    reply_error(res, 403, "missing or wrong token: open the URL facet mask edit printed");
    return false;
  };
  im.server.set_payload_max_length(kMaxPolygonBytes);
  im.server.Get("/", [=](const httplib::Request& req, httplib::Response& res) {
    if (!authorised(req, res)) return;
    std::string page = mask_editor_page();
    if (!extra.empty()) page += "<script>\n" + read_text_file(extra) + "\n</script>\n";
    res.set_content(page, "text/html; charset=utf-8");
  });
  im.server.Get("/api/faces", [&im, authorised](const httplib::Request& req, httplib::Response& res) {
    if (!authorised(req, res)) return;
    json faces = json::array();
    std::lock_guard<std::mutex> lock(im.mu);
    for (const auto& [name, path] : im.paths) {
      json f{{"name", name}};
      try {
        const std::optional<faces::FaceMetadata> m = faces::read_face_metadata(path);
        FACET_CHECK(m.has_value(), path, ": no face metadata");
        f["width"] = m->width, f["height"] = m->height;
        f["polygons"] = json::parse(faces::seg_polygons_to_json(m->seg_polygons));
        f["learned_mask"] = !m->xseg_mask.empty();
      } catch (const Error& e) {
        f["error"] = e.what();
      }
      faces.push_back(f);
    }
    res.set_content(json{{"dir", im.dir}, {"faces", faces}}.dump(), "application/json");
  });
  im.server.Get("/api/image", [&im, authorised](const httplib::Request& req, httplib::Response& res) {
    if (!authorised(req, res)) return;
    const std::string path = im.path_of(req);
    if (path.empty()) return reply_error(res, 404, "no such face");
    const std::vector<uint8_t> bytes = read_file_bytes(path);
    const bool png = faces::sniff_image_format(bytes) == faces::ImageFormat::Png;
    res.set_content(std::string(bytes.begin(), bytes.end()), png ? "image/png" : "image/jpeg");
  });
  im.server.Get("/api/mask", [&im, authorised](const httplib::Request& req, httplib::Response& res) {
    if (!authorised(req, res)) return;
    const std::string path = im.path_of(req);
    if (path.empty()) return reply_error(res, 404, "no such face");
    const std::optional<faces::FaceMetadata> m = faces::read_face_metadata(path);
    if (!m || m->xseg_mask.empty()) return reply_error(res, 404, "the face has no learned mask");
    cv::Mat mask = faces::decode_xseg_mask(*m, path);
    if (m->width > 0 && m->height > 0) cv::resize(mask, mask, cv::Size(m->width, m->height), 0, 0, cv::INTER_LINEAR);
    std::vector<uint8_t> png;
    cv::imencode(".png", mask, png);
    res.set_content(std::string(png.begin(), png.end()), "image/png");
  });
  im.server.Post("/api/polygons", [&im, authorised](const httplib::Request& req, httplib::Response& res) {
    if (!authorised(req, res)) return;
    const std::string path = im.path_of(req);
    if (path.empty()) return reply_error(res, 404, "no such face");
    try {
      const json body = json::parse(req.body, nullptr, false);
      FACET_CHECK(!body.is_discarded() && body.is_object() && body.contains("polygons"),
                  "expected {\"polygons\": [...]}");
      std::vector<faces::SegPolygon> polys = faces::seg_polygons_from_json(body["polygons"].dump(), "polygons");
      std::lock_guard<std::mutex> lock(im.mu);
      faces::FaceImage face = faces::read_face_image(path);  // the current file: a mask applied meanwhile stays
      for (const faces::SegPolygon& p : polys) {
        FACET_CHECK(p.points.size() >= 3, "a polygon needs at least 3 points, got ", p.points.size());
        for (const faces::Point& q : p.points)
          FACET_CHECK(std::isfinite(q.x) && std::isfinite(q.y) && std::abs(q.x) < 1e6 && std::abs(q.y) < 1e6,
                      "polygon point (", q.x, ", ", q.y, ") is not a pixel position");
      }
      face.meta.seg_polygons = std::move(polys);
      faces::update_face_metadata(path, face.meta);
      const cv::Mat mask = faces::seg_polygons_mask(face.image.size(), face.meta.seg_polygons);
      ++im.saves;
      res.set_content(json{{"saved", req.get_param_value("name")},
                           {"polygons", face.meta.seg_polygons.size()},
                           {"mask_pixels", cv::countNonZero(mask)}}
                          .dump(),
                      "application/json");
    } catch (const Error& e) {
      reply_error(res, 400, e.what());
    }
  });
  im.server.Post("/api/quit", [&im, authorised](const httplib::Request& req, httplib::Response& res) {
    if (!authorised(req, res)) return;
    res.set_content("{\"quit\": true}", "application/json");
    im.server.stop();
  });
  port_ = opt_.port > 0 ? (im.server.bind_to_port("127.0.0.1", opt_.port) ? opt_.port : -1)
                        : im.server.bind_to_any_port("127.0.0.1");
  FACET_CHECK(port_ > 0, "mask edit: cannot listen on 127.0.0.1",
              opt_.port > 0 ? ":" + std::to_string(opt_.port) + " (in use?)" : std::string());
  url_ = "http://127.0.0.1:" + std::to_string(port_) + "/?token=" + opt_.token;
}

MaskEditorServer::~MaskEditorServer() { stop(); }
int64_t MaskEditorServer::faces() const { return static_cast<int64_t>(impl_->paths.size()); }
int64_t MaskEditorServer::saves() const { return impl_->saves.load(); }
void MaskEditorServer::run() {
  impl_->entered = true;
  if (!impl_->stop_requested) impl_->server.listen_after_bind();
  impl_->finished = true;
}

// A stop may come while run() is between its check and the listen loop: wait for the loop.
void MaskEditorServer::stop() {
  impl_->stop_requested = true;
  if (!impl_->entered || impl_->finished) return;
  for (int i = 0; i < 200 && !impl_->server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  impl_->server.stop();
}

}  // namespace facet::mask
