#include "COpenCV.h"
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/video/background_segm.hpp>
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


struct copencv_net {
    cv::dnn::Net net;
    std::vector<cv::String> outNames;
    std::vector<cv::Mat> outputs;
};

int copencv_net_load(const char *path, copencv_net **out, char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (path == nullptr || out == nullptr) { copy_error("no model path", err, err_len); return COPENCV_BAD_ARGUMENT; }
        cv::dnn::Net net = cv::dnn::readNetFromONNX(path);
        if (net.empty()) { copy_error("the ONNX file loaded as an empty network", err, err_len); return COPENCV_ERROR; }
        net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
        net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        auto *h = new copencv_net();
        h->net = net;
        h->outNames = net.getUnconnectedOutLayersNames();
        *out = h;
        return COPENCV_OK;
    });
}

void copencv_net_free(copencv_net *net) { delete net; }

void copencv_set_num_threads(int n) { cv::setNumThreads(n <= 0 ? -1 : n); }

int copencv_net_output_count(const copencv_net *net) { return net ? (int)net->outNames.size() : 0; }

static int forward_mat(copencv_net *net, const cv::Mat &blob, char *err, size_t err_len) {
    net->net.setInput(blob);
    net->outputs.clear();
    net->net.forward(net->outputs, net->outNames);
    for (auto &m : net->outputs) {
        if (m.depth() != CV_32F) { cv::Mat f; m.convertTo(f, CV_32F); m = f; }
        if (!m.isContinuous()) m = m.clone();
    }
    return COPENCV_OK;
}

int copencv_net_forward(copencv_net *net, const float *input, const int *shape, int ndims, char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (!net || !input || !shape || ndims < 1 || ndims > 8) { copy_error("invalid input tensor", err, err_len); return COPENCV_BAD_ARGUMENT; }
        cv::Mat blob(ndims, shape, CV_32F, const_cast<float *>(input));
        return forward_mat(net, blob, err, err_len);
    });
}

int copencv_net_forward_u8(copencv_net *net, const uint8_t *input, const int *shape, int ndims, char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (!net || !input || !shape || ndims < 1 || ndims > 8) { copy_error("invalid input tensor", err, err_len); return COPENCV_BAD_ARGUMENT; }
        cv::Mat blob(ndims, shape, CV_8U, const_cast<uint8_t *>(input));
        return forward_mat(net, blob, err, err_len);
    });
}

int copencv_net_output(const copencv_net *net, int index, const float **data, int *shape, int *ndims, char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (!net || index < 0 || index >= (int)net->outputs.size()) { copy_error("no such output (run forward first)", err, err_len); return COPENCV_BAD_ARGUMENT; }
        const cv::Mat &m = net->outputs[index];
        int d = m.dims > 8 ? 8 : m.dims;
        for (int i = 0; i < d; i++) shape[i] = m.size[i];
        *ndims = d;
        *data = reinterpret_cast<const float *>(m.data);
        return COPENCV_OK;
    });
}

int copencv_letterbox_blob(const uint8_t *bgr, int width, int height, int stride, int dst_w, int dst_h,
                           int center, int pad, int swap_rb, float scale, float *blob, float *out_scale,
                           int *out_pad_x, int *out_pad_y, char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (!bgr || !blob || width <= 0 || height <= 0 || dst_w <= 0 || dst_h <= 0) { copy_error("invalid letterbox arguments", err, err_len); return COPENCV_BAD_ARGUMENT; }
        cv::Mat img(height, width, CV_8UC3, const_cast<uint8_t *>(bgr), (size_t)stride);
        float r = std::min((float)dst_w / width, (float)dst_h / height);
        int nw = std::max(1, (int)std::round(width * r)), nh = std::max(1, (int)std::round(height * r));
        int px = center ? (dst_w - nw) / 2 : 0, py = center ? (dst_h - nh) / 2 : 0;
        cv::Mat canvas(dst_h, dst_w, CV_8UC3, cv::Scalar(pad, pad, pad));
        cv::Mat roi = canvas(cv::Rect(px, py, nw, nh));
        // INTER_AREA by a non-integer factor is slow (~3 ms for 1280x720 -> 512x288); shrink by the largest
        // integer factor first (OpenCV's fast box-filter path; the picture trimmed to a multiple of it, under a
        // pixel per k at the right and bottom), then area-resize the rest (~1.8 ms, nearly the same pixels).
        cv::Mat src = img, shrunk;
        int k = std::min(width / nw, height / nh);
        if (k >= 2) {
            cv::Mat trimmed = img(cv::Rect(0, 0, width / k * k, height / k * k));
            cv::resize(trimmed, shrunk, cv::Size(width / k, height / k), 0, 0, cv::INTER_AREA);
            src = shrunk;
        }
        cv::resize(src, roi, cv::Size(nw, nh), 0, 0, r < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
        // HWC uint8 -> planar float, in one pass.
        const size_t plane = (size_t)dst_w * dst_h;
        for (int y = 0; y < dst_h; y++) {
            const uint8_t *row = canvas.ptr<uint8_t>(y);
            float *c0 = blob + (size_t)y * dst_w, *c1 = c0 + plane, *c2 = c1 + plane;
            for (int x = 0; x < dst_w; x++) {
                float b = row[3 * x] * scale, g = row[3 * x + 1] * scale, rr = row[3 * x + 2] * scale;
                if (swap_rb) { c0[x] = rr; c1[x] = g; c2[x] = b; } else { c0[x] = b; c1[x] = g; c2[x] = rr; }
            }
        }
        *out_scale = r; *out_pad_x = px; *out_pad_y = py;
        return COPENCV_OK;
    });
}

int copencv_nms(const float *boxes, const float *scores, int n, float score_threshold, float nms_threshold,
                int *keep, int *keep_count, char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (n < 0 || (n > 0 && (!boxes || !scores || !keep)) || !keep_count) { copy_error("invalid NMS arguments", err, err_len); return COPENCV_BAD_ARGUMENT; }
        std::vector<cv::Rect2d> rects; std::vector<float> sc;
        rects.reserve(n); sc.reserve(n);
        for (int i = 0; i < n; i++) { rects.emplace_back(boxes[4*i], boxes[4*i+1], boxes[4*i+2], boxes[4*i+3]); sc.push_back(scores[i]); }
        std::vector<int> idx;
        if (n > 0) cv::dnn::NMSBoxes(rects, sc, score_threshold, nms_threshold, idx);
        for (size_t i = 0; i < idx.size(); i++) keep[i] = idx[i];
        *keep_count = (int)idx.size();
        return COPENCV_OK;
    });
}

int copencv_warp_quad(const uint8_t *src, int width, int height, int stride, int channels, const float *quad,
                      uint8_t *dst, int dst_w, int dst_h, char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (!src || !dst || !quad || width <= 0 || height <= 0 || dst_w <= 0 || dst_h <= 0 || channels < 1 || channels > 4) { copy_error("invalid warp arguments", err, err_len); return COPENCV_BAD_ARGUMENT; }
        cv::Mat in(height, width, CV_8UC(channels), const_cast<uint8_t *>(src), (size_t)stride);
        cv::Mat out(dst_h, dst_w, CV_8UC(channels), dst);
        cv::Point2f s[4] = {{quad[0], quad[1]}, {quad[2], quad[3]}, {quad[4], quad[5]}, {quad[6], quad[7]}};
        cv::Point2f d[4] = {{0, 0}, {(float)dst_w, 0}, {(float)dst_w, (float)dst_h}, {0, (float)dst_h}};
        cv::Mat m = cv::getPerspectiveTransform(s, d);
        cv::warpPerspective(in, out, m, cv::Size(dst_w, dst_h), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
        return COPENCV_OK;
    });
}

int copencv_bgr_to_gray(const uint8_t *bgr, int width, int height, int stride, uint8_t *dst, char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (!bgr || !dst || width <= 0 || height <= 0) { copy_error("invalid image", err, err_len); return COPENCV_BAD_ARGUMENT; }
        cv::Mat in(height, width, CV_8UC3, const_cast<uint8_t *>(bgr), (size_t)stride);
        cv::Mat out(height, width, CV_8UC1, dst);
        cv::cvtColor(in, out, cv::COLOR_BGR2GRAY);
        return COPENCV_OK;
    });
}

struct copencv_motion {
    cv::Ptr<cv::BackgroundSubtractorMOG2> subtractor;
    int work_width;
};

int copencv_motion_create(int history, double var_threshold, int work_width, copencv_motion **out, char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (out == nullptr || history <= 0 || work_width < 32) { copy_error("invalid motion detector settings", err, err_len); return COPENCV_BAD_ARGUMENT; }
        auto *m = new copencv_motion();
        m->subtractor = cv::createBackgroundSubtractorMOG2(history, var_threshold, true);
        // Only a mild darkening counts as a shadow: a dark car on grey asphalt is no shadow (OpenCV's 0.5 says it is).
        m->subtractor->setShadowThreshold(0.8);
        m->work_width = work_width;
        *out = m;
        return COPENCV_OK;
    });
}

void copencv_motion_free(copencv_motion *m) { delete m; }

int copencv_motion_apply(copencv_motion *m, const uint8_t *bgr, int width, int height, int stride, double learning_rate,
                         double min_area_fraction, float *boxes, int max_boxes, int *count, char *err, size_t err_len) {
    return guarded(err, err_len, [&]() -> int {
        if (!m || !bgr || width <= 0 || height <= 0 || stride < width * 3 || !boxes || !count || max_boxes <= 0) {
            copy_error("invalid image for motion detection", err, err_len);
            return COPENCV_BAD_ARGUMENT;
        }
        cv::Mat in(height, width, CV_8UC3, const_cast<uint8_t *>(bgr), (size_t)stride);
        // Work on a small copy: the foreground mask only needs vehicle-sized blobs, and this keeps the
        // cost near a millisecond per frame whatever the camera resolution.
        double scale = std::min(1.0, (double)m->work_width / width);
        cv::Mat small;
        if (scale < 1.0) cv::resize(in, small, cv::Size(), scale, scale, cv::INTER_AREA); else small = in;
        cv::GaussianBlur(small, small, cv::Size(5, 5), 0);
        cv::Mat mask;
        m->subtractor->apply(small, mask, learning_rate);
        // 255 = foreground, 127 = shadow (dropped).
        cv::threshold(mask, mask, 200, 255, cv::THRESH_BINARY);
        cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5));
        cv::morphologyEx(mask, mask, cv::MORPH_OPEN, kernel);
        cv::morphologyEx(mask, mask, cv::MORPH_CLOSE, kernel, cv::Point(-1, -1), 3);
        std::vector<std::vector<cv::Point>> contours;
        cv::findContours(mask, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
        double min_area = min_area_fraction * small.cols * small.rows;
        // One vehicle often falls apart into blobs (windows, body panels the colour of the road): boxes that
        // touch or nearly touch are merged until none do.
        std::vector<cv::Rect> rects;
        for (const auto &c : contours) rects.push_back(cv::boundingRect(c));
        int pad = std::max(2, small.cols / 40);
        for (bool merged = true; merged;) {
            merged = false;
            for (size_t i = 0; i < rects.size() && !merged; i++) {
                for (size_t j = i + 1; j < rects.size(); j++) {
                    cv::Rect a(rects[i].x - pad, rects[i].y - pad, rects[i].width + 2 * pad, rects[i].height + 2 * pad);
                    if ((a & rects[j]).area() > 0) {
                        rects[i] = rects[i] | rects[j];
                        rects.erase(rects.begin() + (long)j);
                        merged = true;
                        break;
                    }
                }
            }
        }
        int n = 0;
        for (const auto &r : rects) {
            if ((double)r.area() < min_area) continue;
            if (n >= max_boxes) break;
            boxes[n * 4 + 0] = (float)(r.x / scale);
            boxes[n * 4 + 1] = (float)(r.y / scale);
            boxes[n * 4 + 2] = (float)((r.x + r.width) / scale);
            boxes[n * 4 + 3] = (float)((r.y + r.height) / scale);
            n++;
        }
        *count = n;
        return COPENCV_OK;
    });
}

} // extern "C"
