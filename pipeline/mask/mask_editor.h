// `facet mask edit`: a local web page to draw DeepFaceLab's include / exclude polygons over the
// faces of a face set (DFL's XSeg editor, XSegEditor/XSegEditor.py, in a browser). The server
// (cpp-httplib) listens on 127.0.0.1 only, on a free port unless one is given, and answers only
// requests that carry the session's random token (it is in the URL it prints). The page shows
// each face with its polygons and, when the face has one, its learned mask as an overlay;
// keyboard shortcuts move between faces, switch include / exclude, undo and save.
//
// Saving replaces the polygons in the face file's metadata and nothing else (the pixels and a
// learned mask stay), atomically (faces/face_image.h: update_face_metadata): a server or
// browser that dies mid-edit leaves each face as it was last saved. The page saves before it
// moves to another face.
//
// API (every request: ?token=T):
//   GET  /                       the page
//   GET  /api/faces              {"dir", "faces": [{"name", "width", "height", "polygons", "learned_mask"}]}
//   GET  /api/image?name=N       the face image's bytes
//   GET  /api/mask?name=N        its learned mask as an 8-bit PNG at the image's size (404: none)
//   POST /api/polygons?name=N    body {"polygons": [{"type": "include"|"exclude", "points": [[x, y], ...]}]}
//                                in face-image pixels -> {"saved", "polygons", "mask_pixels"}
//   POST /api/quit               stops the server
#pragma once
#include <functional>
#include <memory>
#include <string>

namespace facet::mask {

struct MaskEditorOptions {
  std::string faces_dir;
  int port = 0;               // 0: a free port
  std::string token;          // "": a random one
  std::string extra_script;   // tests: JavaScript appended to the page (a scripted user)
  std::function<void(const std::string&)> log;
};

class MaskEditorServer {
 public:
  // Loads the face set and binds 127.0.0.1. Throws facet::Error naming the folder or the port.
  explicit MaskEditorServer(MaskEditorOptions opt);
  ~MaskEditorServer();  // stops the server

  const std::string& url() const { return url_; }  // http://127.0.0.1:<port>/?token=<token>
  int port() const { return port_; }
  const std::string& token() const { return opt_.token; }
  int64_t faces() const;
  int64_t saves() const;

  void run();   // serves until stop() or POST /api/quit
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  MaskEditorOptions opt_;
  std::string url_;
  int port_ = 0;
};

// The page (HTML with its script), served at /.
const char* mask_editor_page();

}  // namespace facet::mask
