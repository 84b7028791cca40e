// Small shared helpers for the FFmpeg-library code in pipeline/video (reader and writer): owning
// pointers with the right free functions, and error text. Included only by .cpp files, so the
// FFmpeg headers never leak into the rest of the pipeline.
#pragma once
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libswscale/swscale.h>
}
#include <memory>
#include <string>

namespace facet::video::ff {

inline std::string err(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

struct InputDeleter {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct CodecDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct SwsDeleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using InputPtr = std::unique_ptr<AVFormatContext, InputDeleter>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;

// A frame of `fmt` pixels with its own buffer, laid out the way FFmpeg lays out every frame
// (av_frame_get_buffer: line sizes rounded up to whole SIMD blocks, padding after the last line).
// swscale must only ever see buffers like this: FFmpeg 5.1's x86 yuv->rgb24 converter writes whole
// 16-pixel blocks, so into a tightly packed cv::Mat it writes 24 bytes past the last row (heap
// corruption) or, when the row is too short for the block, skips the last width % 8 pixels.
// Returns null when out of memory.
FramePtr alloc_video_frame(AVPixelFormat fmt, int width, int height);

// Opens `path` for demuxing and reads stream info. Throws facet::Error with a message that says
// whether the file is missing, unreadable, not a media file FFmpeg recognises, or damaged.
InputPtr open_input(const std::string& path);

}  // namespace facet::video::ff
