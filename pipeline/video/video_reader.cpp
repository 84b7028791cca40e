// FFmpeg-library video decoding (see video_reader.h). One demux -> decode -> swscale loop; frames
// that the selection skips are decoded (codecs need them as references) but never converted.
// Seeking is not used for ranges: frame indices must be exact for merge to find its faces, and a
// seek only lands on keyframes, so a range start costs decoding the frames before it.
#include "pipeline/video/video_reader.h"

#include <cmath>

extern "C" {
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}
#include <opencv2/core.hpp>

#include "engine/core/error.h"
#include "pipeline/video/ffmpeg_util.h"

namespace facet::video {

namespace {

const uint8_t* display_matrix(const AVStream* st) {
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 15, 100)
  const AVPacketSideData* sd = av_packet_side_data_get(st->codecpar->coded_side_data,
                                                       st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
  return sd && sd->size >= 36 ? sd->data : nullptr;
#else
  size_t size = 0;
  const uint8_t* d = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
  return d && size >= 36 ? d : nullptr;
#endif
}

// Clockwise degrees to turn decoded frames upright (FFmpeg's own autorotate rule); -1 if the
// matrix holds an angle that is not a multiple of 90 degrees.
int rotation_of(const AVStream* st) {
  const uint8_t* m = display_matrix(st);
  if (!m) return 0;
  const double ccw = av_display_rotation_get(reinterpret_cast<const int32_t*>(m));
  if (std::isnan(ccw)) return 0;
  long theta = std::lround(-ccw);
  theta = ((theta % 360) + 360) % 360;
  if (theta % 90 != 0) return -1;
  return int(theta);
}

// Counts the packets of stream `si` by demuxing the whole file (no decoding).
int64_t count_packets(const std::string& path, int si) {
  ff::InputPtr in = ff::open_input(path);
  ff::PacketPtr pkt(av_packet_alloc());
  int64_t n = 0;
  while (av_read_frame(in.get(), pkt.get()) >= 0) {
    if (pkt->stream_index == si) ++n;
    av_packet_unref(pkt.get());
  }
  return n;
}

}  // namespace

struct VideoReader::Impl {
  std::string path;
  ff::InputPtr fmt;
  ff::CodecPtr dec;
  ff::PacketPtr pkt;
  ff::FramePtr frame;
  ff::FramePtr bgr;  // swscale's output, reused while the frame size stays the same
  ff::SwsPtr sws;
  int si = -1;
  AVRational tb{1, 1};
  int64_t start_pts = 0;
  VideoInfo info;
  FrameSelector selector;
  std::vector<std::string> warnings;
  bool truncated = false;
  bool flushing = false;  // flush packet sent
  bool finished = false;
  int64_t decoded = 0;
  int decode_errors = 0;

  Impl(const std::string& p, const SourceOptions& opt) : path(p), selector(opt.select) {
    fmt = ff::open_input(path);
    const AVCodec* codec = nullptr;
    si = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (si == AVERROR_STREAM_NOT_FOUND) throw Error(path + ": has no video stream");
    if (si < 0 || !codec) {
      const AVCodecID id = si >= 0 ? fmt->streams[si]->codecpar->codec_id : AV_CODEC_ID_NONE;
      throw Error(path + ": no decoder in this FFmpeg build for its video codec (" + avcodec_get_name(id) + ")");
    }
    AVStream* st = fmt->streams[si];
    tb = st->time_base;
    dec.reset(avcodec_alloc_context3(codec));
    FACET_CHECK(dec, path, ": out of memory allocating the decoder");
    int rc = avcodec_parameters_to_context(dec.get(), st->codecpar);
    FACET_CHECK(rc >= 0, path, ": bad codec parameters (FFmpeg: ", ff::err(rc), ")");
    dec->thread_count = opt.decode_threads;
    dec->pkt_timebase = tb;
    rc = avcodec_open2(dec.get(), codec, nullptr);
    FACET_CHECK(rc >= 0, path, ": cannot open the ", codec->name, " decoder (FFmpeg: ", ff::err(rc), ")");
    pkt.reset(av_packet_alloc());
    frame.reset(av_frame_alloc());
    FACET_CHECK(pkt && frame, path, ": out of memory");

    info.path = path;
    info.codec = avcodec_get_name(st->codecpar->codec_id);
    info.time_base = {tb.num, tb.den};
    AVRational fr = st->avg_frame_rate;
    if (fr.num <= 0 || fr.den <= 0) fr = st->r_frame_rate;
    if (fr.num <= 0 || fr.den <= 0) fr = av_guess_frame_rate(fmt.get(), st, nullptr);
    if (fr.num <= 0 || fr.den <= 0) {
      warnings.push_back(path + ": the file states no frame rate; assuming 25 fps");
      fr = {25, 1};
    }
    av_reduce(&fr.num, &fr.den, fr.num, fr.den, INT32_MAX);
    info.fps = {fr.num, fr.den};
    start_pts = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
    info.start_time = double(start_pts) * av_q2d(tb);
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
      info.duration = double(st->duration) * av_q2d(tb);
    else if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
      info.duration = double(fmt->duration) / AV_TIME_BASE;
    info.coded_width = st->codecpar->width;
    info.coded_height = st->codecpar->height;
    info.rotation = rotation_of(st);
    if (info.rotation < 0) {
      warnings.push_back(path + ": rotation metadata is not a multiple of 90 degrees; ignored");
      info.rotation = 0;
    }
    const bool swap = info.rotation == 90 || info.rotation == 270;
    info.width = swap ? info.coded_height : info.coded_width;
    info.height = swap ? info.coded_width : info.coded_height;
    info.has_audio = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0) >= 0;
    if (st->nb_frames > 0) {
      info.frame_count = st->nb_frames;
    } else {
      info.frame_count = count_packets(path, si);
      if (info.frame_count == 0 && info.duration > 0) {
        info.frame_count = std::llround(info.duration * fr.num / fr.den);
        info.frame_count_exact = false;
      }
    }
  }

  // Reads one packet into the decoder; false once input is exhausted (flush sent).
  void feed() {
    while (true) {
      const int rc = av_read_frame(fmt.get(), pkt.get());
      if (rc < 0) {
        if (rc != AVERROR_EOF) {
          truncated = true;
          warnings.push_back(path + ": reading stopped after " + std::to_string(decoded) +
                             " frames, the file is truncated or damaged (FFmpeg: " + ff::err(rc) + ")");
        }
        avcodec_send_packet(dec.get(), nullptr);
        flushing = true;
        return;
      }
      if (pkt->stream_index != si) {
        av_packet_unref(pkt.get());
        continue;
      }
      const int s = avcodec_send_packet(dec.get(), pkt.get());
      av_packet_unref(pkt.get());
      if (s < 0 && s != AVERROR(EAGAIN)) {
        if (++decode_errors <= 3)
          warnings.push_back(path + ": undecodable packet after frame " + std::to_string(decoded) + " skipped (FFmpeg: " +
                             ff::err(s) + ")");
        continue;
      }
      return;
    }
  }

  // The next decoded frame in `frame`; false at the end of the stream.
  bool decode_one() {
    while (true) {
      const int rc = avcodec_receive_frame(dec.get(), frame.get());
      if (rc == 0) return true;
      if (rc == AVERROR_EOF) return false;
      if (rc != AVERROR(EAGAIN) && ++decode_errors <= 3)
        warnings.push_back(path + ": decoding error after frame " + std::to_string(decoded) + " (FFmpeg: " +
                           ff::err(rc) + ")");
      if (flushing) return false;  // nothing more can come; never spin
      feed();
    }
  }

  // Converts `frame` to a new BGR image in `out`. swscale writes into `bgr`, a frame FFmpeg laid
  // out (see ff::alloc_video_frame: converting straight into a tightly packed cv::Mat corrupts the
  // heap), and the result is copied out of it; `out` always gets fresh pixels, never the buffer of
  // an earlier frame that the caller may still hold.
  void convert(cv::Mat& out) {
    const AVPixelFormat pf = static_cast<AVPixelFormat>(frame->format);
    const int w = frame->width, h = frame->height;
    sws.reset(sws_getCachedContext(sws.release(), w, h, pf, w, h, AV_PIX_FMT_BGR24, SWS_BILINEAR, nullptr, nullptr,
                                   nullptr));
    FACET_CHECK(sws, path, ": cannot convert pixel format ", av_get_pix_fmt_name(pf) ? av_get_pix_fmt_name(pf) : "?",
                " to BGR");
    // YUV->RGB needs the right matrix and range: BT.709 HD video decoded as BT.601 shifts colours.
    const int cs = frame->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : int(frame->colorspace);
    const int full = frame->color_range == AVCOL_RANGE_JPEG ? 1 : 0;
    sws_setColorspaceDetails(sws.get(), sws_getCoefficients(cs), full, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0,
                             1 << 16, 1 << 16);
    if (!bgr || bgr->width != w || bgr->height != h) {
      bgr = ff::alloc_video_frame(AV_PIX_FMT_BGR24, w, h);
      FACET_CHECK(bgr, path, ": out of memory for a ", w, "x", h, " frame");
    }
    sws_scale(sws.get(), frame->data, frame->linesize, 0, h, bgr->data, bgr->linesize);
    const cv::Mat view(h, w, CV_8UC3, bgr->data[0], size_t(bgr->linesize[0]));
    cv::Mat img;
    switch (info.rotation) {
      case 90: cv::rotate(view, img, cv::ROTATE_90_CLOCKWISE); break;
      case 180: cv::rotate(view, img, cv::ROTATE_180); break;
      case 270: cv::rotate(view, img, cv::ROTATE_90_COUNTERCLOCKWISE); break;
      default: img = view.clone();
    }
    out = img;
  }

  void finish() {
    finished = true;
    if (!truncated && info.frame_count_exact && decoded < info.frame_count) {
      truncated = true;
      warnings.push_back(path + ": the file ends after " + std::to_string(decoded) + " of the " +
                         std::to_string(info.frame_count) + " frames it announces (truncated or damaged)");
    }
  }

  bool next(Frame& out) {
    while (!finished) {
      if (!decode_one()) {
        finish();
        return false;
      }
      const int64_t index = decoded++;
      int64_t pts = frame->best_effort_timestamp;
      if (pts == AV_NOPTS_VALUE) pts = start_pts + av_rescale_q(index, av_inv_q(av_make_q(int(info.fps.num), int(info.fps.den))), tb);
      const double time = double(pts - start_pts) * av_q2d(tb);
      if (selector.done(index, time)) {
        finished = true;  // the selection is complete; not a truncation
        av_frame_unref(frame.get());
        return false;
      }
      const bool take = selector.accept(index, time);
      if (take) {
        convert(out.image);
        out.index = index;
        out.pts = pts;
        out.time = time;
      }
      av_frame_unref(frame.get());
      if (take) return true;
    }
    return false;
  }
};

VideoReader::VideoReader(const std::string& path, const SourceOptions& opt) : impl_(std::make_unique<Impl>(path, opt)) {}
VideoReader::~VideoReader() = default;
const VideoInfo& VideoReader::info() const { return impl_->info; }
bool VideoReader::next(Frame& out) { return impl_->next(out); }
const std::vector<std::string>& VideoReader::warnings() const { return impl_->warnings; }
bool VideoReader::truncated() const { return impl_->truncated; }
int64_t VideoReader::frames_decoded() const { return impl_->decoded; }

VideoInfo probe_video(const std::string& path) { return VideoReader(path).info(); }

}  // namespace facet::video
