// FFmpeg input opening with user-facing error messages (see ffmpeg_util.h).
#include "pipeline/video/ffmpeg_util.h"

#include <filesystem>
#include <fstream>
#include <vector>

extern "C" {
#include <libavutil/log.h>
}

#include "engine/core/error.h"

namespace facet::video::ff {

namespace fs = std::filesystem;

// Whether FFmpeg recognises any container in the first bytes of the file, ignoring its name, so a
// text file called .mp4 is reported as "not a video" rather than as a damaged MP4.
static const AVInputFormat* sniff_container(const std::string& path, int* score) {
  std::ifstream f(path, std::ios::binary);
  std::vector<unsigned char> buf(1 << 16, 0);
  f.read(reinterpret_cast<char*>(buf.data()), std::streamsize(buf.size()));
  const size_t n = size_t(f.gcount());
  buf.resize(n + AVPROBE_PADDING_SIZE, 0);
  AVProbeData pd{};
  pd.filename = "";
  pd.buf = buf.data();
  pd.buf_size = int(n);
  *score = 0;
  return av_probe_input_format3(&pd, 1, score);
}

FramePtr alloc_video_frame(AVPixelFormat fmt, int width, int height) {
  FramePtr f(av_frame_alloc());
  if (!f) return f;
  f->format = fmt;
  f->width = width;
  f->height = height;
  if (av_frame_get_buffer(f.get(), 0) < 0) f.reset();
  return f;
}

InputPtr open_input(const std::string& path) {
  std::error_code ec;
  FACET_CHECK(fs::exists(path, ec), path, ": no such file");
  FACET_CHECK(!fs::is_directory(path, ec), path, ": is a folder, not a video file");
  FACET_CHECK(fs::file_size(path, ec) > 0, path, ": file is empty, not a video");
  AVFormatContext* raw = nullptr;
  const int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (rc < 0) {
    int score = 0;
    const AVInputFormat* fmt = sniff_container(path, &score);
    if (rc == AVERROR(EACCES)) throw Error(path + ": permission denied");
    if (!fmt || score <= AVPROBE_SCORE_RETRY)
      throw Error(path + ": not a video file (FFmpeg recognises no media format in it: " + err(rc) + ")");
    throw Error(path + ": cannot open this " + (fmt->long_name ? fmt->long_name : fmt->name) + " file, it is damaged or truncated (FFmpeg: " + err(rc) +
                ")");
  }
  InputPtr in(raw);
  const int si = avformat_find_stream_info(in.get(), nullptr);
  FACET_CHECK(si >= 0, path, ": cannot read the stream headers, the file is damaged or truncated (FFmpeg: ", err(si), ")");
  return in;
}

}  // namespace facet::video::ff
