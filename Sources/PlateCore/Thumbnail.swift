/// A small grey copy of a picture: one luma value per `cell` x `cell` block, for cheap frame-to-frame change
/// detection (the motion gate), never for recognition.
///
/// Each value is the mean of four samples spread over its block (at a quarter and three quarters of the block
/// in each direction) rather than of every pixel: a 1080p frame at cell 8 costs about 130 000 pixel reads,
/// well under a millisecond, and the four samples already average out most sensor noise at that scale.
public struct GreyThumbnail: Sendable, Equatable {
    /// Cells across.
    public let width: Int
    /// Cells down.
    public let height: Int
    /// Block size in picture pixels.
    public let cell: Int
    /// Luma per cell, row by row.
    public let values: [UInt8]

    /// A thumbnail from given values (for tests and scripted frames).
    public init(width: Int, height: Int, cell: Int = 1, values: [UInt8]) {
        precondition(width > 0 && height > 0 && values.count == width * height, "thumbnail size and values disagree")
        self.width = width
        self.height = height
        self.cell = cell
        self.values = values
    }

    /// The thumbnail of `image` (BGR24, RGB24 or grey) at `cell` pixels per cell; a picture smaller than one cell
    /// gives one cell.
    public init(_ image: Image, cell: Int) {
        precondition(cell >= 1, "cell must be at least 1 pixel")
        let w = max(1, image.width / cell), h = max(1, image.height / cell)
        let bytes = image.buffer.bytes.assumingMemoryBound(to: UInt8.self)
        let bpp = image.format.bytesPerPixel
        let stride = image.stride
        // Sample offsets inside a cell, clamped for pictures smaller than a cell.
        let lo = min(cell / 4, image.width - 1), hi = min((3 * cell) / 4, image.width - 1)
        let loY = min(cell / 4, image.height - 1), hiY = min((3 * cell) / 4, image.height - 1)
        var values = [UInt8](repeating: 0, count: w * h)
        let green = image.format == .gray8 ? 0 : 1
        // Luma as (first + 2 * green + last) / 4: the same for BGR and RGB, exact for grey (weights x4 either way).
        let last = bpp == 1 ? 0 : 2
        func luma(_ p: UnsafeMutablePointer<UInt8>) -> Int { Int(p[0]) + 2 * Int(p[green]) + Int(p[last]) }
        values.withUnsafeMutableBufferPointer { out in
            for cy in 0..<h {
                let top = bytes + (cy * cell + loY) * stride, bottom = bytes + (cy * cell + hiY) * stride
                for cx in 0..<w {
                    let x0 = (cx * cell + lo) * bpp, x1 = (cx * cell + hi) * bpp
                    let sum = luma(top + x0) + luma(top + x1) + luma(bottom + x0) + luma(bottom + x1)
                    out[cy * w + cx] = UInt8(sum / 16)
                }
            }
        }
        self.init(width: w, height: h, cell: cell, values: values)
    }
}
