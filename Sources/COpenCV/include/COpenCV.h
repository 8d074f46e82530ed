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

#ifdef __cplusplus
}
#endif
#endif
