import Foundation

/// The pixel layouts PlateStream passes between stages.
public enum PixelFormat: String, Sendable, Codable, CaseIterable {
    /// Packed 8-bit blue, green, red: what OpenCV and the recognizer expect.
    case bgr24
    /// Packed 8-bit red, green, blue.
    case rgb24
    /// One 8-bit luma plane.
    case gray8

    /// Bytes per pixel of the packed format.
    public var bytesPerPixel: Int {
        switch self {
        case .bgr24, .rgb24: 3
        case .gray8: 1
        }
    }
}

/// Heap memory for pixels, owned by one object and freed when it goes away.
///
/// Immutable once filled, so it is safe to share across threads: the producer writes through
/// `mutableBytes` before it hands the buffer on, and nobody writes afterwards.
public final class PixelBuffer: @unchecked Sendable {
    /// Start of the pixels, aligned to 64 bytes.
    public let bytes: UnsafeMutableRawPointer
    /// Size of the allocation in bytes.
    public let count: Int
    /// Where the memory goes back to when the buffer goes away (nil: it is freed).
    private let pool: PixelBufferPool?

    /// Allocates `count` bytes (uninitialised).
    public init(count: Int) {
        precondition(count >= 0, "negative buffer size")
        self.count = count
        self.bytes = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        self.pool = nil
    }

    fileprivate init(bytes: UnsafeMutableRawPointer, count: Int, pool: PixelBufferPool) {
        self.bytes = bytes
        self.count = count
        self.pool = pool
    }

    /// Allocates and copies `bytes`.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count)
        if let base = bytes.baseAddress { self.bytes.copyMemory(from: base, byteCount: bytes.count) }
    }

    deinit {
        if let pool { pool.recycle(bytes, count: count) } else { bytes.deallocate() }
    }
}

/// Pixel memory that is used again: a buffer handed out by `buffer(count:)` returns its memory here when the last
/// image holding it goes away, and the next request of the same size takes it instead of a new allocation.
///
/// Why: a decoder hands out one picture of the same size per frame. Each new 6 MB (1080p BGR) allocation is a fresh
/// mmap (glibc serves blocks that large from mmap, and `run` keeps it so, so that memory goes back to the system),
/// and touching it costs ~1 500 page faults and the kernel zeroing every page. The pool keeps at most `spares`
/// free buffers, so memory still follows the frames alive plus a small, fixed margin. Thread-safe.
public final class PixelBufferPool: @unchecked Sendable {
    /// Most free buffers kept for reuse; more are freed.
    public let spares: Int
    private let lock = NSLock()
    private var free: [(bytes: UnsafeMutableRawPointer, count: Int)] = []
    private var counters = (allocated: 0, reused: 0)

    /// A pool keeping up to `spares` free buffers.
    public init(spares: Int = 3) {
        precondition(spares >= 0, "spares must not be negative")
        self.spares = spares
    }

    deinit { for block in free { block.bytes.deallocate() } }

    /// A buffer of `count` bytes (uninitialised): a free one of that size when there is one, else a new one.
    public func buffer(count: Int) -> PixelBuffer {
        precondition(count >= 0, "negative buffer size")
        let reused: UnsafeMutableRawPointer? = lock.withLock {
            guard let i = free.lastIndex(where: { $0.count == count }) else {
                counters.allocated += 1
                return nil
            }
            counters.reused += 1
            return free.remove(at: i).bytes
        }
        let bytes = reused ?? UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        return PixelBuffer(bytes: bytes, count: count, pool: self)
    }

    /// Buffers allocated anew and buffers handed out again, so far.
    public var statistics: (allocated: Int, reused: Int) { lock.withLock { counters } }

    fileprivate func recycle(_ bytes: UnsafeMutableRawPointer, count: Int) {
        let kept = lock.withLock {
            guard free.count < spares else { return false }
            free.append((bytes, count))
            return true
        }
        if !kept { bytes.deallocate() }
    }
}

/// A decoded picture: size, pixel format, row stride and the pixels.
public struct Image: Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Layout of each pixel.
    public let format: PixelFormat
    /// Bytes from the start of one row to the next (at least `width * format.bytesPerPixel`).
    public let stride: Int
    /// The pixels; row `y` starts at `buffer.bytes + y * stride`.
    public let buffer: PixelBuffer

    /// Wraps an existing buffer; the buffer must hold `stride * height` bytes.
    public init(width: Int, height: Int, format: PixelFormat, stride: Int, buffer: PixelBuffer) {
        precondition(width > 0 && height > 0, "image must not be empty")
        precondition(stride >= width * format.bytesPerPixel, "stride shorter than a row")
        precondition(buffer.count >= stride * height, "buffer smaller than stride * height")
        self.width = width
        self.height = height
        self.format = format
        self.stride = stride
        self.buffer = buffer
    }

    /// Allocates a packed (stride = row size) image with uninitialised pixels.
    public init(width: Int, height: Int, format: PixelFormat) {
        let stride = width * format.bytesPerPixel
        self.init(width: width, height: height, format: format, stride: stride,
                  buffer: PixelBuffer(count: stride * height))
    }

    /// A packed copy of the `width` x `height` rectangle whose top-left pixel is (x, y); it must lie inside the image.
    public func copy(x: Int, y: Int, width w: Int, height h: Int) -> Image {
        precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height, "rectangle outside the image")
        let out = Image(width: w, height: h, format: format)
        let rowBytes = w * format.bytesPerPixel
        for row in 0..<h {
            out.buffer.bytes.advanced(by: row * out.stride)
                .copyMemory(from: buffer.bytes.advanced(by: (y + row) * stride + x * format.bytesPerPixel), byteCount: rowBytes)
        }
        return out
    }

    /// The bytes of pixel (x, y): `format.bytesPerPixel` values, in the format's channel order.
    public func pixel(x: Int, y: Int) -> [UInt8] {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel outside the image")
        let p = buffer.bytes.advanced(by: y * stride + x * format.bytesPerPixel)
            .assumingMemoryBound(to: UInt8.self)
        return (0..<format.bytesPerPixel).map { p[$0] }
    }
}
