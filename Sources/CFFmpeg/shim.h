#ifndef PLATESTREAM_CFFMPEG_SHIM_H
#define PLATESTREAM_CFFMPEG_SHIM_H

#include <errno.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/dict.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

// Function-like macros Swift cannot import.
static inline int cffmpeg_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int cffmpeg_averror_eof(void) { return AVERROR_EOF; }
static inline int cffmpeg_averror(int posix) { return AVERROR(posix); }
static inline int cffmpeg_averror_exit(void) { return AVERROR_EXIT; }
static inline int cffmpeg_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int cffmpeg_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int cffmpeg_averror_demuxer_not_found(void) { return AVERROR_DEMUXER_NOT_FOUND; }
static inline int cffmpeg_averror_http_unauthorized(void) { return AVERROR_HTTP_UNAUTHORIZED; }
static inline int cffmpeg_averror_http_forbidden(void) { return AVERROR_HTTP_FORBIDDEN; }
static inline int cffmpeg_averror_http_not_found(void) { return AVERROR_HTTP_NOT_FOUND; }
static inline int cffmpeg_averror_stream_not_found(void) { return AVERROR_STREAM_NOT_FOUND; }
static inline int cffmpeg_averror_http_bad_request(void) { return AVERROR_HTTP_BAD_REQUEST; }
static inline int cffmpeg_averror_http_other_4xx(void) { return AVERROR_HTTP_OTHER_4XX; }
static inline int cffmpeg_averror_http_server_error(void) { return AVERROR_HTTP_SERVER_ERROR; }

/// Converts a whole decoded frame into one packed destination plane (BGR24, RGB24, GRAY8), writing
/// straight into `dst`: no intermediate buffer. Returns sws_scale's result (output height, or < 0).
static inline int cffmpeg_scale_frame(struct SwsContext *ctx, const AVFrame *frame, uint8_t *dst, int dst_stride) {
    uint8_t *const dst_planes[4] = { dst, NULL, NULL, NULL };
    const int dst_strides[4] = { dst_stride, 0, 0, 0 };
    return sws_scale(ctx, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height,
                     dst_planes, dst_strides);
}
/// Bytes the frame's planes take when packed with rows aligned to `align` (av_image_get_buffer_size), or 0 when they
/// are not plain memory worth keeping instead of packed pixels: hardware surfaces, bitstreams, palettes, or planes
/// at least `packed_bytes` long.
static inline int cffmpeg_planes_size(const AVFrame *frame, int align, int packed_bytes) {
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get((enum AVPixelFormat)frame->format);
    if (!desc || (desc->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_PAL))) return 0;
    int size = av_image_get_buffer_size((enum AVPixelFormat)frame->format, frame->width, frame->height, align);
    return size > 0 && size < packed_bytes ? size : 0;
}
/// Copies the frame's planes into `dst` (`size` bytes, as cffmpeg_planes_size gave), rows aligned to `align`.
static inline int cffmpeg_copy_planes(const AVFrame *frame, uint8_t *dst, int size, int align) {
    return av_image_copy_to_buffer(dst, size, (const uint8_t *const *)frame->data, frame->linesize,
                                   (enum AVPixelFormat)frame->format, frame->width, frame->height, align);
}
/// Points `frame`'s planes into `src`, laid out as cffmpeg_copy_planes wrote them, and sets its format and size.
/// The frame does not own the memory (no buffer references), so freeing the frame leaves `src` alone.
static inline int cffmpeg_frame_on_planes(AVFrame *frame, uint8_t *src, int format, int width, int height, int align) {
    frame->format = format;
    frame->width = width;
    frame->height = height;
    return av_image_fill_arrays(frame->data, frame->linesize, src, (enum AVPixelFormat)format, width, height, align);
}
static inline int64_t cffmpeg_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int cffmpeg_time_base(void) { return AV_TIME_BASE; }

/// av_strerror into a caller buffer; never fails.
static inline void cffmpeg_strerror(int code, char *buf, size_t size) {
    if (av_strerror(code, buf, size) < 0) {
        snprintf(buf, size, "FFmpeg error %d", code);
    }
}

#endif
