internal import COpenCV
public import PlateCore
public import Foundation

/// Why an image could not be encoded, decoded or resized.
public struct ImageCodecError: Error, CustomStringConvertible, Equatable {
    private enum Kind: Equatable { case notAnImage, tooLarge, failed }
    private let kind: Kind
    /// What went wrong, in words.
    public let message: String

    /// The bytes are not an image that can be decoded (or are truncated beyond repair).
    public static func notAnImage(_ message: String) -> ImageCodecError { .init(kind: .notAnImage, message: message) }
    /// The header declares more pixels than allowed; refused before decoding.
    public static func tooLarge(width: Int, height: Int, maxPixels: Int) -> ImageCodecError {
        .init(kind: .tooLarge, message: "image declares \(width)x\(height) pixels, more than the limit of \(maxPixels)")
    }
    /// OpenCV failed.
    public static func failed(_ message: String) -> ImageCodecError { .init(kind: .failed, message: message) }

    /// Whether this is the not-an-image case.
    public var isNotAnImage: Bool { kind == .notAnImage }
    /// Whether the image was refused for its declared size.
    public var isTooLarge: Bool { kind == .tooLarge }
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

    /// Default cap on decoded pixels: 50 megapixels (about 150 MB as BGR24).
    public static let defaultMaxPixels = 50_000_000

    /// Decodes JPEG, PNG, BMP, TIFF or WebP bytes into a BGR24 image. The header is read first: an
    /// unknown format or a declared size over `maxPixels` is refused before any pixel is decoded.
    public static func decode(_ data: Data, maxPixels: Int = defaultMaxPixels) throws -> Image {
        guard ImageHeader.sniffFormat(data) != nil else {
            throw ImageCodecError.notAnImage(data.isEmpty ? "empty image data"
                : "not a JPEG, PNG, BMP, TIFF or WebP image")
        }
        guard let header = ImageHeader.parse(data) else {
            throw ImageCodecError.notAnImage("image header is truncated or malformed")
        }
        // Multiply in Double: PNG, TIFF and BMP declare 32-bit sizes whose product overflows Int.
        guard Double(header.width) * Double(header.height) <= Double(maxPixels) else {
            throw ImageCodecError.tooLarge(width: header.width, height: header.height, maxPixels: maxPixels)
        }
        // libjpeg and libpng fill a cut-off image with grey and only warn; a cut-off upload is an error.
        if header.format == .jpeg, data.suffix(1024).range(of: Data([0xFF, 0xD9])) == nil {
            throw ImageCodecError.notAnImage("truncated JPEG: no end-of-image marker")
        }
        if header.format == .png, data.suffix(12).range(of: Data("IEND".utf8)) == nil {
            throw ImageCodecError.notAnImage("truncated PNG: no IEND chunk")
        }
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
