internal import COpenCV
public import PlateCore
public import Foundation

/// Why an image could not be encoded, decoded or resized.
public struct ImageCodecError: Error, CustomStringConvertible, Equatable {
    private enum Kind: Equatable { case notAnImage, failed }
    private let kind: Kind
    /// What went wrong, in words.
    public let message: String

    /// The bytes are not an image that can be decoded (or are truncated beyond repair).
    public static func notAnImage(_ message: String) -> ImageCodecError { .init(kind: .notAnImage, message: message) }
    /// OpenCV failed.
    public static func failed(_ message: String) -> ImageCodecError { .init(kind: .failed, message: message) }

    /// Whether this is the not-an-image case.
    public var isNotAnImage: Bool { kind == .notAnImage }
    /// The message.
    public var description: String { message }
}

/// Runs a COpenCV call and turns its status and message into a thrown `ImageCodecError`.
func checkOpenCV(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws(ImageCodecError) {
    var buffer = [CChar](repeating: 0, count: 512)
    let status = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
    guard status != 0 else { return }
    let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    if status == Int32(COPENCV_DECODE_FAILED) { throw .notAnImage(message) }
    throw .failed(message)
}

/// JPEG/PNG/BMP/TIFF/WebP decoding and JPEG encoding through OpenCV's imgcodecs.
public enum ImageCodec {
    /// Encodes a BGR24 image as JPEG.
    public static func encodeJPEG(_ image: Image, quality: Int = 90) throws -> Data {
        guard image.format == .bgr24 else { throw ImageCodecError.failed("JPEG encoding needs BGR24, got \(image.format)") }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        try checkOpenCV { err, len in
            copencv_encode_jpeg(image.buffer.bytes.assumingMemoryBound(to: UInt8.self), Int32(image.width),
                                Int32(image.height), Int32(image.stride), Int32(quality), &out, &size, err, len)
        }
        defer { copencv_free(out) }
        return Data(bytes: out!, count: size)
    }

    /// Decodes encoded image bytes into a BGR24 image.
    public static func decode(_ data: Data) throws -> Image {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var width: Int32 = 0, height: Int32 = 0
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            try checkOpenCV { err, len in
                copencv_decode_image(raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count, &out,
                                     &width, &height, err, len)
            }
        }
        defer { copencv_free(out) }
        let image = Image(width: Int(width), height: Int(height), format: .bgr24)
        image.buffer.bytes.copyMemory(from: out!, byteCount: Int(width) * Int(height) * 3)
        return image
    }
}
