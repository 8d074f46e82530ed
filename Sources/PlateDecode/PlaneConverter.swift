internal import CFFmpeg
import Foundation
import PlateCore

/// Where a decoded frame's planes were copied to, and how to read them: enough to point an `AVFrame` at them again.
struct PlaneLayout: Sendable {
    let format: Int32
    let width: Int32
    let height: Int32
    let colorspace: AVColorSpace
    let colorRange: AVColorRange
    /// Row alignment of the copy (`av_image_copy_to_buffer`).
    static let align: Int32 = 64
    /// Bytes kept after the planes: swscale's SIMD loads may read a little past the last row of a plane.
    static let tailSlack = 256
}

/// Turns planes copied from one decoder's frames (`VideoDecoder.currentPicture`) into packed pixels, from any thread
/// (recognition workers, sinks) while the decoder goes on. Each conversion borrows one of a few swscale contexts,
/// made as needed and kept for the next one, so concurrent conversions never share one and none is built per frame.
/// The output is what converting the decoded frame directly gives: the same swscale path, flags and colour details.
final class PlaneConverter: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [(scaler: Scaler, frame: DecodedFrame)] = []
    private let pool: PixelBufferPool
    /// Contexts kept for reuse: as many as convert at once in practice (the workers, a sink).
    private static let keep = 4

    init(pool: PixelBufferPool) { self.pool = pool }

    /// The planes in `planes` (laid out as `layout` says) as a new packed image of `format`.
    func convert(_ planes: PixelBuffer, layout: PlaneLayout, to format: PixelFormat) -> Image {
        let borrowed = lock.withLock { idle.popLast() } ?? (scaler: Scaler(), frame: DecodedFrame())
        defer { lock.withLock { if idle.count < Self.keep { idle.append(borrowed) } } }
        let frame = borrowed.frame.pointer
        let filled = cffmpeg_frame_on_planes(frame, planes.bytes.assumingMemoryBound(to: UInt8.self), layout.format,
                                             layout.width, layout.height, PlaneLayout.align)
        // The layout was computed by FFmpeg for these planes when they were copied: it cannot fail now.
        precondition(filled >= 0, "planes of a \(layout.width)x\(layout.height) picture no longer fit their layout")
        frame.pointee.colorspace = layout.colorspace
        frame.pointee.color_range = layout.colorRange
        do {
            return try borrowed.scaler.image(of: frame, format: format, pool: pool)
        } catch {
            // swscale converted this stream's frames at this size and format already; only memory can be missing.
            fatalError("converting a \(layout.width)x\(layout.height) picture from its planes failed: \(error)")
        }
    }
}
