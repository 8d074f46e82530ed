public import Foundation
public import PlateCore

/// Encoded image formats the snapshot APIs know by name.
public enum ImageFileFormat: String, Sendable, CaseIterable {
    /// JPEG.
    case jpeg
    /// PNG.
    case png
    /// Windows bitmap.
    case bmp
    /// TIFF.
    case tiff
    /// WebP.
    case webp

    /// The file extension NHN's `fileType` reports (`jpg`, `png`, ...).
    public var fileExtension: String { self == .jpeg ? "jpg" : rawValue }
}

/// What an image's header declares, read without decoding any pixel.
public struct ImageHeaderInfo: Sendable, Equatable {
    /// The container format.
    public var format: ImageFileFormat
    /// Declared width in pixels.
    public var width: Int
    /// Declared height in pixels.
    public var height: Int

    /// A header.
    public init(format: ImageFileFormat, width: Int, height: Int) {
        self.format = format
        self.width = width
        self.height = height
    }
}

/// Reads image headers and decodes images for the snapshot APIs. The CLI wires this to
/// PlateVision (`ImageHeader.parse` and `ImageCodec.decode`); PlateHTTP never imports it.
///
/// Why two calls: a tiny file can declare 30000×30000 pixels. The server reads the header first
/// and refuses such images before `decode` allocates anything.
public protocol ImageDecoding: Sendable {
    /// The declared format and size; nil when the bytes are not an image of a known format, or
    /// the header is cut short or malformed.
    func header(of data: Data) -> ImageHeaderInfo?
    /// Decodes the pixels to BGR24. Throws when the image is truncated or corrupt.
    func decode(_ data: Data) throws -> Image
}
