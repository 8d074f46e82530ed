#include "COpenCV.h"
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {
void copy_error(const char *msg, char *err, size_t err_len) {
    if (err == nullptr || err_len == 0) return;
    std::strncpy(err, msg, err_len - 1);
    err[err_len - 1] = 0;
}

// Runs `body`, turning any C++ exception into a status code and message.
template <typename F> int guarded(char *err, size_t err_len, F body) {
    try {
        return body();
    } catch (const cv::Exception &e) {
        copy_error(e.what(), err, err_len);
        return COPENCV_ERROR;
    } catch (const std::exception &e) {
        copy_error(e.what(), err, err_len);
        return COPENCV_ERROR;
    } catch (...) {
        copy_error("unknown C++ exception", err, err_len);
        return COPENCV_ERROR;
    }
}
} // namespace

extern "C" {

void copencv_free(void *p) { std::free(p); }

int copencv_encode_jpeg(const uint8_t *bgr, int width, int height, int stride, int quality,
                        uint8_t **out, size_t *out_size, char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (bgr == nullptr || width <= 0 || height <= 0 || stride < width * 3 || out == nullptr) {
            copy_error("invalid image for JPEG encoding", err, err_len);
            return COPENCV_BAD_ARGUMENT;
        }
        cv::Mat img(height, width, CV_8UC3, const_cast<uint8_t *>(bgr), (size_t)stride);
        std::vector<uchar> buf;
        std::vector<int> params = {cv::IMWRITE_JPEG_QUALITY, quality};
        if (!cv::imencode(".jpg", img, buf, params)) {
            copy_error("cv::imencode failed", err, err_len);
            return COPENCV_ERROR;
        }
        *out = static_cast<uint8_t *>(std::malloc(buf.size()));
        if (*out == nullptr) { copy_error("out of memory", err, err_len); return COPENCV_ERROR; }
        std::memcpy(*out, buf.data(), buf.size());
        *out_size = buf.size();
        return COPENCV_OK;
    });
}

int copencv_decode_image(const uint8_t *data, size_t size, uint8_t **out, int *width, int *height,
                         char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (data == nullptr || size == 0) {
            copy_error("empty image data", err, err_len);
            return COPENCV_DECODE_FAILED;
        }
        cv::Mat raw(1, (int)size, CV_8UC1, const_cast<uint8_t *>(data));
        cv::Mat img = cv::imdecode(raw, cv::IMREAD_COLOR);
        if (img.empty()) {
            copy_error("not a decodable image", err, err_len);
            return COPENCV_DECODE_FAILED;
        }
        if (!img.isContinuous()) img = img.clone();
        size_t bytes = img.total() * img.elemSize();
        *out = static_cast<uint8_t *>(std::malloc(bytes));
        if (*out == nullptr) { copy_error("out of memory", err, err_len); return COPENCV_ERROR; }
        std::memcpy(*out, img.data, bytes);
        *width = img.cols;
        *height = img.rows;
        return COPENCV_OK;
    });
}

int copencv_resize(const uint8_t *src, int width, int height, int stride, int channels,
                   uint8_t *dst, int dst_width, int dst_height, char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (src == nullptr || dst == nullptr || width <= 0 || height <= 0 || dst_width <= 0 ||
            dst_height <= 0 || channels < 1 || channels > 4) {
            copy_error("invalid resize arguments", err, err_len);
            return COPENCV_BAD_ARGUMENT;
        }
        cv::Mat in(height, width, CV_8UC(channels), const_cast<uint8_t *>(src), (size_t)stride);
        cv::Mat outm(dst_height, dst_width, CV_8UC(channels), dst);
        int interp = (dst_width < width && dst_height < height) ? cv::INTER_AREA : cv::INTER_LINEAR;
        cv::resize(in, outm, cv::Size(dst_width, dst_height), 0, 0, interp);
        return COPENCV_OK;
    });
}

} // extern "C"
