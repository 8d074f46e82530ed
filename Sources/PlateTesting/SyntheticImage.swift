public import PlateCore

/// A colour for synthetic test images, as 8-bit red, green and blue.
public struct TestColor: Hashable, Sendable {
    /// Red, 0...255.
    public var red: UInt8
    /// Green, 0...255.
    public var green: UInt8
    /// Blue, 0...255.
    public var blue: UInt8

    /// A colour from its components.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Black.
    public static let black = TestColor(red: 0, green: 0, blue: 0)
    /// White.
    public static let white = TestColor(red: 255, green: 255, blue: 255)
    /// Mid grey.
    public static let gray = TestColor(red: 128, green: 128, blue: 128)
    /// Pure red.
    public static let red = TestColor(red: 255, green: 0, blue: 0)
    /// Pure blue.
    public static let blue = TestColor(red: 0, green: 0, blue: 255)
}

/// A mark written into the first bytes of a synthetic image so that a fake recognizer (or a test
/// looking at a sink's image) can tell which frame of which source it got, whatever thread it is on.
///
/// Layout: row 0, bytes 0..<16: the magic `PSTM`, `tag` (UInt32, little-endian), `frameIndex`
/// (Int64, little-endian). The image needs at least 16 bytes per row (6 BGR pixels, 16 grey ones).
public struct ImageStamp: Hashable, Sendable, CustomStringConvertible {
    /// A number chosen by the test for the source, e.g. one per camera.
    public var tag: UInt32
    /// The index of the frame in its source.
    public var frameIndex: Int

    /// A stamp.
    public init(tag: UInt32 = 0, frameIndex: Int) {
        self.tag = tag
        self.frameIndex = frameIndex
    }

    /// Bytes the stamp takes at the start of row 0.
    public static let byteCount = 16
    private static let magic: [UInt8] = Array("PSTM".utf8)

    /// `tag:frameIndex`.
    public var description: String { "\(tag):\(frameIndex)" }

    /// Writes the stamp into `image` (whose pixels nobody else is reading yet).
    public func write(into image: Image) {
        precondition(image.stride >= Self.byteCount, "image too narrow for a stamp")
        let p = image.buffer.bytes.assumingMemoryBound(to: UInt8.self)
        for (i, byte) in Self.magic.enumerated() { p[i] = byte }
        withUnsafeBytes(of: tag.littleEndian) { for (i, byte) in $0.enumerated() { p[4 + i] = byte } }
        withUnsafeBytes(of: Int64(frameIndex).littleEndian) { for (i, byte) in $0.enumerated() { p[8 + i] = byte } }
    }

    /// The stamp in `image`, or nil when it carries none.
    public init?(reading image: Image) {
        guard image.stride >= Self.byteCount, image.buffer.count >= Self.byteCount else { return nil }
        let p = UnsafeRawPointer(image.buffer.bytes)
        for (i, byte) in Self.magic.enumerated() where p.load(fromByteOffset: i, as: UInt8.self) != byte {
            return nil
        }
        let tag = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let index = Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: Int64.self))
        self.init(tag: tag, frameIndex: Int(index))
    }
}

/// Builds synthetic images: a solid colour, optionally stamped with an `ImageStamp`.
public enum SyntheticImage {
    /// A `width` × `height` image of `format` filled with `color` (grey images take the colour's
    /// luma), with `stamp` written into its first bytes when given.
    public static func make(width: Int, height: Int, format: PixelFormat = .bgr24, color: TestColor = .gray,
                            stamp: ImageStamp? = nil) -> Image {
        let image = Image(width: width, height: height, format: format)
        let p = image.buffer.bytes.assumingMemoryBound(to: UInt8.self)
        let pixel: [UInt8]
        switch format {
        case .bgr24: pixel = [color.blue, color.green, color.red]
        case .rgb24: pixel = [color.red, color.green, color.blue]
        case .gray8:
            let luma = (299 * Int(color.red) + 587 * Int(color.green) + 114 * Int(color.blue)) / 1000
            pixel = [UInt8(luma)]
        }
        let bpp = format.bytesPerPixel
        for y in 0..<height {
            let row = p + y * image.stride
            for x in 0..<width {
                for c in 0..<bpp { row[x * bpp + c] = pixel[c] }
            }
        }
        stamp?.write(into: image)
        return image
    }
}
