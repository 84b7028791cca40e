// FFmpeg-library video encoding with audio stream copy (see video_writer.h). Audio packets are
// fed to the muxer in step with the video (each time a video packet is written, audio up to its
// time follows), so the file is interleaved without buffering the whole audio track.
#include "pipeline/video/video_writer.h"

#include <algorithm>
#include <cstdio>
#include <limits>

extern "C" {
#include <libavutil/opt.h>
}
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "pipeline/video/ffmpeg_util.h"

namespace facet::video {

namespace {

struct OutputDeleter {
  void operator()(AVFormatContext* c) const {
    if (c->pb && !(c->oformat->flags & AVFMT_NOFILE)) avio_closep(&c->pb);
    avformat_free_context(c);
  }
};
using OutputPtr = std::unique_ptr<AVFormatContext, OutputDeleter>;

}  // namespace

struct VideoWriter::Impl {
  std::string path;
  VideoWriterOptions opt;
  OutputPtr oc;
  ff::CodecPtr enc;
  AVStream* vst = nullptr;
  AVStream* ast = nullptr;
  ff::InputPtr ain;
  int ain_si = -1;
  ff::PacketPtr pkt, apkt;
  bool apkt_held = false, audio_done = true;
  ff::FramePtr frame;  // yuv420p, sent to the encoder
  ff::FramePtr bgr;    // the BGR image padded to the encoder's size, swscale's input
  ff::SwsPtr sws;
  int width = 0, height = 0;  // frames given to write()
  AVRational fps{25, 1}, tb{1, 25};
  int64_t frames = 0, last_pts = std::numeric_limits<int64_t>::min();
  double video_end = 0;
  bool finished = false;
  std::string encoder;
  std::vector<std::string> warnings;

  Impl(const std::string& p, int w, int h, const VideoWriterOptions& o) : path(p), opt(o), width(w), height(h) {
    FACET_CHECK(w > 0 && h > 0, path, ": video size must be positive, got ", w, "x", h);
    FACET_CHECK(opt.fps.valid() && opt.fps.num <= INT32_MAX && opt.fps.den <= INT32_MAX, path,
                ": frame rate must be a positive rational, got ", opt.fps.num, "/", opt.fps.den);
    fps = av_make_q(int(opt.fps.num), int(opt.fps.den));
    tb = opt.time_base.valid() ? av_make_q(int(opt.time_base.num), int(opt.time_base.den)) : av_inv_q(fps);
    AVFormatContext* raw = nullptr;
    avformat_alloc_output_context2(&raw, nullptr, nullptr, path.c_str());
    FACET_CHECK(raw, path, ": unknown output container (use an extension such as .mp4, .mkv or .mov)");
    oc.reset(raw);
    open_encoder();
    vst = avformat_new_stream(oc.get(), nullptr);
    FACET_CHECK(vst, path, ": cannot add a video stream");
    int rc = avcodec_parameters_from_context(vst->codecpar, enc.get());
    FACET_CHECK(rc >= 0, path, ": encoder parameters (FFmpeg: ", ff::err(rc), ")");
    vst->time_base = tb;
    vst->avg_frame_rate = fps;
    if (!opt.audio_from.empty()) open_audio();
    if (!(oc->oformat->flags & AVFMT_NOFILE)) {
      rc = avio_open(&oc->pb, path.c_str(), AVIO_FLAG_WRITE);
      FACET_CHECK(rc >= 0, path, ": cannot create the file (FFmpeg: ", ff::err(rc), ")");
    }
    rc = avformat_write_header(oc.get(), nullptr);
    FACET_CHECK(rc >= 0, path, ": cannot write the container header (FFmpeg: ", ff::err(rc), ")");
    pkt.reset(av_packet_alloc());
    frame = ff::alloc_video_frame(enc->pix_fmt, enc->width, enc->height);
    bgr = ff::alloc_video_frame(AV_PIX_FMT_BGR24, enc->width, enc->height);
    FACET_CHECK(pkt && frame && bgr, path, ": out of memory");
  }

  // Tries the encoders in order of preference; the first that opens with our settings wins.
  void open_encoder() {
    std::vector<const AVCodec*> candidates;
    if (!opt.encoder.empty()) {
      const AVCodec* c = avcodec_find_encoder_by_name(opt.encoder.c_str());
      FACET_CHECK(c && c->type == AVMEDIA_TYPE_VIDEO, path, ": this FFmpeg has no video encoder named '", opt.encoder, "'");
      candidates.push_back(c);
    } else {
      for (const char* name : {"libx264", "libopenh264", "mpeg4"})
        if (const AVCodec* c = avcodec_find_encoder_by_name(name)) candidates.push_back(c);
    }
    std::string tried;
    for (const AVCodec* c : candidates) {
      if (avformat_query_codec(oc->oformat, c->id, FF_COMPLIANCE_NORMAL) == 0) {
        tried += std::string(" ") + c->name + " (container cannot hold it)";
        continue;
      }
      ff::CodecPtr ctx(avcodec_alloc_context3(c));
      FACET_CHECK(ctx, path, ": out of memory");
      // yuv420p needs even sizes; odd frames are padded by repeating the last row/column.
      ctx->width = (width + 1) & ~1;
      ctx->height = (height + 1) & ~1;
      ctx->pix_fmt = AV_PIX_FMT_YUV420P;
      ctx->time_base = tb;
      ctx->framerate = fps;
      ctx->thread_count = opt.threads;
      ctx->colorspace = AVCOL_SPC_SMPTE170M;  // we convert with BT.601 coefficients; say so
      ctx->color_range = AVCOL_RANGE_MPEG;
      if (oc->oformat->flags & AVFMT_GLOBALHEADER) ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
      AVDictionary* o = nullptr;
      const std::string name = c->name;
      if (name == "libx264") {
        av_dict_set(&o, "crf", std::to_string(opt.crf).c_str(), 0);
        av_dict_set(&o, "preset", opt.preset.c_str(), 0);
      } else if (name == "mpeg4") {
        ctx->flags |= AV_CODEC_FLAG_QSCALE;
        ctx->global_quality = FF_QP2LAMBDA * std::clamp(2 + opt.crf / 8, 2, 31);
      } else {
        ctx->bit_rate = int64_t(ctx->width) * ctx->height * 4;  // ~ generous for 8-bit 4:2:0
      }
      const int rc = avcodec_open2(ctx.get(), c, &o);
      av_dict_free(&o);
      if (rc >= 0) {
        enc = std::move(ctx);
        encoder = name;
        if (width != enc->width || height != enc->height)
          warnings.push_back(path + ": " + std::to_string(width) + "x" + std::to_string(height) +
                             " frames padded to even size " + std::to_string(enc->width) + "x" +
                             std::to_string(enc->height) + " for yuv420p");
        return;
      }
      tried += std::string(" ") + c->name + " (" + ff::err(rc) + ")";
    }
    throw Error(path + ": no usable video encoder in this FFmpeg build; tried:" + (tried.empty() ? " none" : tried));
  }

  void open_audio() {
    ain = ff::open_input(opt.audio_from);
    ain_si = av_find_best_stream(ain.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
    if (ain_si < 0) {
      warnings.push_back(opt.audio_from + ": has no audio stream; the output has none");
      ain.reset();
      return;
    }
    const AVCodecParameters* par = ain->streams[ain_si]->codecpar;
    if (avformat_query_codec(oc->oformat, par->codec_id, FF_COMPLIANCE_NORMAL) == 0) {
      warnings.push_back(path + ": the " + oc->oformat->name + " container cannot hold " +
                         avcodec_get_name(par->codec_id) + " audio from " + opt.audio_from +
                         "; no audio written (use .mkv)");
      ain.reset();
      return;
    }
    ast = avformat_new_stream(oc.get(), nullptr);
    FACET_CHECK(ast, path, ": cannot add an audio stream");
    int rc = avcodec_parameters_copy(ast->codecpar, par);
    FACET_CHECK(rc >= 0, path, ": audio parameters (FFmpeg: ", ff::err(rc), ")");
    ast->codecpar->codec_tag = 0;  // let the muxer pick the tag of its container
    ast->time_base = ain->streams[ain_si]->time_base;
    if (opt.audio_start > 0) {
      const int64_t ts = int64_t(opt.audio_start / av_q2d(ain->streams[ain_si]->time_base));
      av_seek_frame(ain.get(), ain_si, ts, AVSEEK_FLAG_BACKWARD);
    }
    apkt.reset(av_packet_alloc());
    FACET_CHECK(apkt, path, ": out of memory");
    audio_done = false;
  }

  // Copies audio packets that start before `until` seconds of output time.
  void pump_audio(double until) {
    const AVRational itb = ain ? ain->streams[ain_si]->time_base : AVRational{1, 1};
    while (!audio_done) {
      if (!apkt_held) {
        const int rc = av_read_frame(ain.get(), apkt.get());
        if (rc < 0) {
          if (rc != AVERROR_EOF) warnings.push_back(opt.audio_from + ": audio ends early (FFmpeg: " + ff::err(rc) + ")");
          audio_done = true;
          return;
        }
        if (apkt->stream_index != ain_si || apkt->pts == AV_NOPTS_VALUE) {
          av_packet_unref(apkt.get());
          continue;
        }
        apkt_held = true;
      }
      const double t = double(apkt->pts) * av_q2d(itb) - opt.audio_start;
      if (t >= until) return;  // keep it for later
      apkt_held = false;
      if (t < 0) {  // before the output starts
        av_packet_unref(apkt.get());
        continue;
      }
      const int64_t shift = int64_t(opt.audio_start / av_q2d(itb) + 0.5);
      apkt->pts -= shift;
      if (apkt->dts != AV_NOPTS_VALUE) apkt->dts -= shift;
      av_packet_rescale_ts(apkt.get(), itb, ast->time_base);
      apkt->stream_index = ast->index;
      apkt->pos = -1;
      const int rc = av_interleaved_write_frame(oc.get(), apkt.get());
      FACET_CHECK(rc >= 0, path, ": writing audio failed (FFmpeg: ", ff::err(rc), ")");
    }
  }

  // Drains encoded packets into the muxer, audio kept in step.
  void drain() {
    while (true) {
      const int rc = avcodec_receive_packet(enc.get(), pkt.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
      FACET_CHECK(rc >= 0, path, ": encoding failed (FFmpeg: ", ff::err(rc), ")");
      if (pkt->duration <= 0) pkt->duration = std::max<int64_t>(1, av_rescale_q(1, av_inv_q(fps), tb));
      const double t = double(pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts) * av_q2d(tb);
      pump_audio(t);
      av_packet_rescale_ts(pkt.get(), tb, vst->time_base);
      pkt->stream_index = vst->index;
      const int w = av_interleaved_write_frame(oc.get(), pkt.get());
      FACET_CHECK(w >= 0, path, ": writing video failed (FFmpeg: ", ff::err(w), ")");
    }
  }

  void write(const cv::Mat& image, int64_t pts) {
    FACET_CHECK(!finished, path, ": write() after finish()");
    FACET_CHECK(image.cols == width && image.rows == height, path, ": frame is ", image.cols, "x", image.rows,
                ", the video was opened for ", width, "x", height);
    FACET_CHECK(image.depth() == CV_8U && (image.channels() == 3 || image.channels() == 1), path,
                ": frames must be 8-bit BGR or gray");
    if (pts < 0) pts = av_rescale_q(frames, av_inv_q(fps), tb);
    FACET_CHECK(pts > last_pts, path, ": frame timestamps must increase (got ", pts, " after ", last_pts, ")");
    // The image goes into `bgr`, a buffer FFmpeg laid out (swscale reads whole SIMD blocks, see
    // ff::alloc_video_frame), padded to the encoder's even size by repeating the last row and
    // column. BORDER_ISOLATED: a crop of a larger image is padded from its own edge, not with the
    // pixels of its parent that lie outside it.
    cv::Mat src = image;
    if (image.channels() == 1) cv::cvtColor(image, src, cv::COLOR_GRAY2BGR);
    cv::Mat staged(enc->height, enc->width, CV_8UC3, bgr->data[0], size_t(bgr->linesize[0]));
    cv::copyMakeBorder(src, staged, 0, enc->height - src.rows, 0, enc->width - src.cols,
                       cv::BORDER_REPLICATE | cv::BORDER_ISOLATED);
    FACET_CHECK(staged.data == bgr->data[0], path, ": internal error, padded frame left its buffer");
    int rc = av_frame_make_writable(frame.get());
    FACET_CHECK(rc >= 0, path, ": frame buffer (FFmpeg: ", ff::err(rc), ")");
    sws.reset(sws_getCachedContext(sws.release(), enc->width, enc->height, AV_PIX_FMT_BGR24, enc->width, enc->height,
                                   AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr));
    FACET_CHECK(sws, path, ": cannot set up BGR -> yuv420p conversion");
    sws_scale(sws.get(), bgr->data, bgr->linesize, 0, enc->height, frame->data, frame->linesize);
    frame->pts = pts;
    rc = avcodec_send_frame(enc.get(), frame.get());
    FACET_CHECK(rc >= 0, path, ": encoding failed (FFmpeg: ", ff::err(rc), ")");
    last_pts = pts;
    ++frames;
    video_end = double(pts) * av_q2d(tb) + 1.0 / av_q2d(fps);
    drain();
  }

  void finish() {
    if (finished) return;
    finished = true;  // even on failure: a second attempt would only repeat the error
    int rc = avcodec_send_frame(enc.get(), nullptr);
    FACET_CHECK(rc >= 0, path, ": flushing the encoder failed (FFmpeg: ", ff::err(rc), ")");
    drain();
    pump_audio(video_end);
    rc = av_write_trailer(oc.get());
    FACET_CHECK(rc >= 0, path, ": writing the trailer failed (FFmpeg: ", ff::err(rc), ")");
    if (oc->pb && !(oc->oformat->flags & AVFMT_NOFILE)) {
      rc = avio_closep(&oc->pb);
      FACET_CHECK(rc >= 0, path, ": closing the file failed (FFmpeg: ", ff::err(rc), ")");
    }
  }
};

VideoWriter::VideoWriter(const std::string& path, int width, int height, const VideoWriterOptions& opt)
    : impl_(std::make_unique<Impl>(path, width, height, opt)) {}

VideoWriter::~VideoWriter() {
  if (!impl_ || impl_->finished) return;
  try {
    impl_->finish();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facet: %s\n", e.what());
  }
}

void VideoWriter::write(const cv::Mat& image, int64_t pts) { impl_->write(image, pts); }
void VideoWriter::finish() { impl_->finish(); }
const std::string& VideoWriter::encoder_name() const { return impl_->encoder; }
bool VideoWriter::has_audio() const { return impl_->ast != nullptr; }
int64_t VideoWriter::frames_written() const { return impl_->frames; }
const std::vector<std::string>& VideoWriter::warnings() const { return impl_->warnings; }

}  // namespace facet::video
