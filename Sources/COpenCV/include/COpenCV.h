#ifndef PLATESTREAM_COPENCV_H
#define PLATESTREAM_COPENCV_H
// A C API over the parts of OpenCV 4.6 PlateStream uses. Every function catches cv::Exception
// (and std::exception) and returns a non-zero status with the message copied into `err`,
// because a C++ exception crossing into Swift aborts the process.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes returned by every function.
enum {
    COPENCV_OK = 0,
    COPENCV_ERROR = 1,          // cv::Exception or std::exception; message in err
    COPENCV_BAD_ARGUMENT = 2,   // invalid argument detected before calling OpenCV
    COPENCV_DECODE_FAILED = 3   // the bytes are not an image OpenCV can decode
};

/// Frees memory returned by this API.
void copencv_free(void *p);

/// Encodes a packed BGR24 image as JPEG (quality 1...100). *out is malloc'ed; free with copencv_free.
int copencv_encode_jpeg(const uint8_t *bgr, int width, int height, int stride, int quality,
                        uint8_t **out, size_t *out_size, char *err, size_t err_len);

/// Decodes an encoded image (JPEG, PNG, BMP, TIFF, WebP...) into packed BGR24.
/// *out is malloc'ed (width*height*3 bytes); free with copencv_free.
int copencv_decode_image(const uint8_t *data, size_t size, uint8_t **out, int *width, int *height,
                         char *err, size_t err_len);

/// Resizes a packed 8-bit image with `channels` channels (bilinear, or area when shrinking).
int copencv_resize(const uint8_t *src, int width, int height, int stride, int channels,
                   uint8_t *dst, int dst_width, int dst_height, char *err, size_t err_len);


/// An OpenCV dnn network loaded from an ONNX file. Not thread-safe: use one per thread or serial queue.
typedef struct copencv_net copencv_net;

/// Loads an ONNX model (CPU backend, OpenCV's own implementation). *out is freed with copencv_net_free.
int copencv_net_load(const char *path, copencv_net **out, char *err, size_t err_len);
/// Frees a network.
void copencv_net_free(copencv_net *net);
/// Sets the number of threads OpenCV uses (process-wide); 0 = OpenCV's default.
void copencv_set_num_threads(int n);
/// Number of outputs the network produces (unconnected output layers).
int copencv_net_output_count(const copencv_net *net);
/// Runs the network on a float32 input of the given shape (e.g. NCHW). The outputs are kept in the
/// handle until the next forward.
int copencv_net_forward(copencv_net *net, const float *input, const int *shape, int ndims,
                        char *err, size_t err_len);
/// Runs the network on a uint8 input of the given shape (e.g. NHWC images for fast-plate-ocr models).
int copencv_net_forward_u8(copencv_net *net, const uint8_t *input, const int *shape, int ndims,
                           char *err, size_t err_len);
/// Output `index` of the last forward: a pointer to its float32 data (valid until the next forward or free),
/// its shape (up to 8 dims) and the number of dims.
int copencv_net_output(const copencv_net *net, int index, const float **data, int *shape, int *ndims,
                       char *err, size_t err_len);

/// Letterboxes a packed BGR24 image into dst_w x dst_h (keeping aspect ratio, centred when center != 0,
/// else at the top-left, padded with `pad`)
/// and writes it as a float32 NCHW blob (1x3xHxW) scaled by `scale`, RGB order when swap_rb != 0.
/// *out_scale is the resize factor and *out_pad_x / *out_pad_y the left / top padding in dst pixels.
int copencv_letterbox_blob(const uint8_t *bgr, int width, int height, int stride, int dst_w, int dst_h,
                           int center, int pad, int swap_rb, float scale, float *blob, float *out_scale,
                           int *out_pad_x, int *out_pad_y, char *err, size_t err_len);

/// Non-maximum suppression over n boxes (x, y, w, h per box) with scores; writes the kept indices
/// (best first) to keep (capacity n) and their count to *keep_count.
int copencv_nms(const float *boxes, const float *scores, int n, float score_threshold, float nms_threshold,
                int *keep, int *keep_count, char *err, size_t err_len);

/// Warps the quadrilateral `quad` (4 points x,y: top-left, top-right, bottom-right, bottom-left) of a
/// packed 8-bit image with `channels` channels onto a dst_w x dst_h rectangle (bilinear, border replicated).
int copencv_warp_quad(const uint8_t *src, int width, int height, int stride, int channels, const float *quad,
                      uint8_t *dst, int dst_w, int dst_h, char *err, size_t err_len);

/// Converts packed BGR24 to 8-bit grey.
int copencv_bgr_to_gray(const uint8_t *bgr, int width, int height, int stride, uint8_t *dst,
                        char *err, size_t err_len);

/// A background-subtraction motion detector (OpenCV MOG2) for fixed cameras; one per camera, fed frames in order.
typedef struct copencv_motion copencv_motion;

/// Creates a detector: `history` frames of background memory, MOG2's variance threshold, and the width frames are
/// shrunk to before analysis. *out is freed with copencv_motion_free.
int copencv_motion_create(int history, double var_threshold, int work_width, copencv_motion **out, char *err, size_t err_len);

void copencv_motion_free(copencv_motion *m);

/// Updates the background with a BGR24 frame (learning_rate < 0: automatic) and writes the bounding boxes
/// (xmin, ymin, xmax, ymax in frame pixels) of moving blobs covering at least min_area_fraction of the frame.
int copencv_motion_apply(copencv_motion *m, const uint8_t *bgr, int width, int height, int stride, double learning_rate,
                         double min_area_fraction, float *boxes, int max_boxes, int *count, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif
#endif
