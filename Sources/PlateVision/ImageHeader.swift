public import Foundation

/// The container format and pixel size an encoded image declares in its header, read without decoding.
///
/// Why: a 30 KB file can declare 30000×30000 pixels and make a decoder allocate gigabytes; reading the
/// header first lets callers refuse such images before any pixel is decoded.
public struct ImageHeader: Equatable, Sendable {
    /// Encoded image formats PlateStream accepts.
    public enum Format: String, Sendable, CaseIterable {
        /// JPEG (baseline or progressive).
        case jpeg
        /// PNG.
        case png
        /// Windows bitmap.
        case bmp
        /// TIFF, either byte order.
        case tiff
        /// WebP (lossy, lossless or extended).
        case webp
    }

    /// The container format.
    public let format: Format
    /// Declared width in pixels.
    public let width: Int
    /// Declared height in pixels.
    public let height: Int

    /// Creates a header.
    public init(format: Format, width: Int, height: Int) {
        self.format = format
        self.width = width
        self.height = height
    }

    /// Recognises the format by its magic bytes, or nil when it is none of the accepted formats.
    public static func sniffFormat(_ data: Data) -> Format? {
        let b = [UInt8](data.prefix(16))
        if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return .jpeg }
        if b.count >= 8, b[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        if b.count >= 2, b[0] == 0x42, b[1] == 0x4D { return .bmp }
        if b.count >= 4, (b[0..<4] == [0x49, 0x49, 0x2A, 0x00] || b[0..<4] == [0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if b.count >= 12, b[0..<4] == [0x52, 0x49, 0x46, 0x46], b[8..<12] == [0x57, 0x45, 0x42, 0x50] { return .webp }
        return nil
    }

    /// Reads the declared size; nil when the format is unknown or the header is cut short or malformed.
    public static func parse(_ data: Data) -> ImageHeader? {
        guard let format = sniffFormat(data) else { return nil }
        let bytes = [UInt8](data.prefix(format == .jpeg || format == .tiff ? 1 << 20 : 64))
        let size: (Int, Int)?
        switch format {
        case .jpeg: size = jpegSize(bytes)
        case .png: size = bytes.count >= 24 ? (Int(be32(bytes, 16)), Int(be32(bytes, 20))) : nil
        case .bmp:
            // BITMAPINFOHEADER and later: signed 32-bit width and height (negative height = top-down).
            size = bytes.count >= 26 ? (abs(Int(Int32(bitPattern: le32(bytes, 18)))),
                                         abs(Int(Int32(bitPattern: le32(bytes, 22))))) : nil
        case .tiff: size = tiffSize(bytes)
        case .webp: size = webpSize(bytes)
        }
        guard let (w, h) = size, w > 0, h > 0 else { return nil }
        return ImageHeader(format: format, width: w, height: h)
    }

    private static func be16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
    private static func le16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i + 1]) << 8 | UInt16(b[i]) }
    private static func be32(_ b: [UInt8], _ i: Int) -> UInt32 { UInt32(be16(b, i)) << 16 | UInt32(be16(b, i + 2)) }
    private static func le32(_ b: [UInt8], _ i: Int) -> UInt32 { UInt32(le16(b, i + 2)) << 16 | UInt32(le16(b, i)) }

    /// Walks the JPEG markers to the first start-of-frame (SOF0...SOF15 except DHT, JPG, DAC).
    private static func jpegSize(_ b: [UInt8]) -> (Int, Int)? {
        var i = 2
        while i + 9 < b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }                       // fill byte
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
            let length = Int(be16(b, i + 2))
            guard length >= 2 else { return nil }
            if (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC {
                return (Int(be16(b, i + 7)), Int(be16(b, i + 5)))
            }
            if marker == 0xDA || marker == 0xD9 { return nil }          // scan before any frame header
            i += 2 + length
        }
        return nil
    }

    /// Reads ImageWidth (256) and ImageLength (257) from the first IFD.
    private static func tiffSize(_ b: [UInt8]) -> (Int, Int)? {
        guard b.count >= 8 else { return nil }
        let little = b[0] == 0x49
        let u16 = { (i: Int) -> Int in Int(little ? le16(b, i) : be16(b, i)) }
        let u32 = { (i: Int) -> Int in Int(little ? le32(b, i) : be32(b, i)) }
        let ifd = u32(4)
        guard ifd + 2 <= b.count else { return nil }
        let count = u16(ifd)
        var width: Int?, height: Int?
        for k in 0..<count {
            let e = ifd + 2 + 12 * k
            guard e + 12 <= b.count else { break }
            let tag = u16(e), type = u16(e + 2)
            let value = type == 3 ? u16(e + 8) : u32(e + 8)                // SHORT or LONG
            if tag == 256 { width = value } else if tag == 257 { height = value }
        }
        guard let w = width, let h = height else { return nil }
        return (w, h)
    }

    /// VP8 (lossy), VP8L (lossless) and VP8X (extended) headers.
    private static func webpSize(_ b: [UInt8]) -> (Int, Int)? {
        guard b.count >= 30 else { return nil }
        let chunk = String(decoding: b[12..<16], as: UTF8.self)
        switch chunk {
        case "VP8 ": return (Int(le16(b, 26) & 0x3FFF), Int(le16(b, 28) & 0x3FFF))
        case "VP8L":
            let bits = le32(b, 21)
            return (Int(bits & 0x3FFF) + 1, Int((bits >> 14) & 0x3FFF) + 1)
        case "VP8X":
            let w = Int(b[24]) | Int(b[25]) << 8 | Int(b[26]) << 16
            let h = Int(b[27]) | Int(b[28]) << 8 | Int(b[29]) << 16
            return (w + 1, h + 1)
        default: return nil
        }
    }
}
