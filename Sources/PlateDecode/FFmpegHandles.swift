internal import CFFmpeg
import Foundation
import PlateCore

// Each FFmpeg pointer is owned by one final class that allocates in init and frees in deinit. They are
// not thread-safe: FFmpegFrameSource touches them only with its decode lock held.

/// Whether a blocked FFmpeg call should give up: the owner closed the source, or the deadline passed.
///
/// FFmpeg polls this through `AVIOInterruptCB` from inside blocking I/O (connect, read, poll loops), so
/// a stalled network read returns within ~100 ms of the deadline instead of hanging forever.
final class InterruptState: @unchecked Sendable {
    private let lock = NSLock()
    private var closed = false
    private var deadline: ContinuousClock.Instant?
    private var fired = false
    private let stop: StopSignal?

    init(stop: StopSignal?) { self.stop = stop }

    /// Starts a new deadline `timeout` from now (nil: none) and clears the fired flag.
    func arm(_ timeout: Duration?) {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        lock.withLock {
            self.deadline = deadline
            fired = false
        }
    }

    /// Makes every blocked and later call give up.
    func close() { lock.withLock { closed = true } }

    /// Closed by the owner (this source's `close()` or the shared stop signal).
    var isClosed: Bool { lock.withLock { closed } || (stop?.isStopped ?? false) }

    /// The last armed deadline passed while FFmpeg was waiting.
    var timedOut: Bool { lock.withLock { fired } }

    /// Called by FFmpeg, often: true interrupts the blocked call.
    func shouldInterrupt() -> Bool {
        if stop?.isStopped == true { return true }
        return lock.withLock {
            if closed { return true }
            if let deadline, ContinuousClock.now >= deadline {
                fired = true
                return true
            }
            return false
        }
    }
}

/// An `AVDictionary` of options; what FFmpeg did not consume stays in it after an open.
final class OptionDictionary {
    private(set) var pointer: OpaquePointer?

    init(_ entries: [(String, String)]) throws(FFmpegError) {
        for (key, value) in entries {
            try check(av_dict_set(&pointer, key, value, 0), "av_dict_set")
        }
    }

    deinit { av_dict_free(&pointer) }

    /// Lets FFmpeg consume entries; the dictionary keeps what it left.
    func withPointer<R>(_ body: (inout OpaquePointer?) throws(FFmpegError) -> R) throws(FFmpegError) -> R {
        try body(&pointer)
    }

    /// The keys still in the dictionary.
    var keys: [String] {
        var keys: [String] = []
        var entry: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while let next = av_dict_get(pointer, "", entry, AV_DICT_IGNORE_SUFFIX) {
            keys.append(String(cString: next.pointee.key))
            entry = next
        }
        return keys
    }
}

/// An opened `AVFormatContext` (demuxer + protocol), closed with `avformat_close_input`.
final class InputContext {
    let pointer: UnsafeMutablePointer<AVFormatContext>
    // Kept alive here: FFmpeg holds an unretained pointer to it in interrupt_callback.opaque.
    private let interrupt: InterruptState

    /// Allocates a context with the interrupt callback set and opens `url`; options FFmpeg does not
    /// understand are left in `options`.
    init(url: String, format: UnsafePointer<AVInputFormat>?, options: OptionDictionary,
         interrupt: InterruptState) throws(FFmpegError) {
        guard let context = avformat_alloc_context() else {
            throw FFmpegError(code: cffmpeg_averror(ENOMEM), operation: "avformat_alloc_context")
        }
        context.pointee.interrupt_callback = AVIOInterruptCB(
            callback: { opaque in
                guard let opaque else { return 0 }
                return Unmanaged<InterruptState>.fromOpaque(opaque).takeUnretainedValue().shouldInterrupt() ? 1 : 0
            },
            opaque: Unmanaged.passUnretained(interrupt).toOpaque()
        )
        var opened: UnsafeMutablePointer<AVFormatContext>? = context
        // On failure avformat_open_input frees the context itself and sets it to NULL.
        _ = try options.withPointer { (dict: inout OpaquePointer?) throws(FFmpegError) in
            try check(avformat_open_input(&opened, url, format, &dict), "avformat_open_input")
        }
        self.pointer = opened!
        self.interrupt = interrupt
    }

    deinit {
        var context: UnsafeMutablePointer<AVFormatContext>? = pointer
        avformat_close_input(&context)
    }
}

/// An `AVCodecContext` opened for decoding one stream.
final class DecoderContext {
    let pointer: UnsafeMutablePointer<AVCodecContext>

    /// Opens the decoder for `stream`'s codec with `threads` threads (0: FFmpeg's choice).
    init(codec: UnsafePointer<AVCodec>, stream: UnsafeMutablePointer<AVStream>, threads: Int) throws(FFmpegError) {
        guard let context = avcodec_alloc_context3(codec) else {
            throw FFmpegError(code: cffmpeg_averror(ENOMEM), operation: "avcodec_alloc_context3")
        }
        pointer = context
        // From here on deinit frees the context if a step below throws.
        try check(avcodec_parameters_to_context(context, stream.pointee.codecpar), "avcodec_parameters_to_context")
        context.pointee.pkt_timebase = stream.pointee.time_base
        context.pointee.thread_count = Int32(clamping: threads)
        try check(avcodec_open2(context, codec, nil), "avcodec_open2")
    }

    deinit {
        var context: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&context)
    }
}

/// One reusable `AVPacket`.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>
    init() { pointer = av_packet_alloc() }
    deinit {
        var packet: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&packet)
    }
}

/// One reusable `AVFrame`.
final class DecodedFrame {
    let pointer: UnsafeMutablePointer<AVFrame>
    init() { pointer = av_frame_alloc() }
    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&frame)
    }
}

/// A swscale context converting decoded frames to one packed format, rebuilt only when the input
/// size, format, range or matrix changes (`sws_getCachedContext`): nothing is allocated per frame.
final class Scaler {
    private var context: OpaquePointer?
    private var colour: (space: Int32, fullRange: Bool)?
    private var shape: [Int32] = []

    init() {}

    deinit { sws_freeContext(context) }

    /// Converts `frame` into `destination` (rows `stride` bytes apart, `frame.height` rows), or, given `size`,
    /// scales it to that size in the same pass (`size.height` rows).
    func convert(_ frame: UnsafeMutablePointer<AVFrame>, to format: AVPixelFormat,
                 into destination: UnsafeMutableRawPointer, stride: Int,
                 size: (width: Int, height: Int)? = nil) throws(FFmpegError) {
        let f = frame.pointee
        let source = AVPixelFormat(rawValue: f.format)
        let width = Int32(size?.width ?? Int(f.width)), height = Int32(size?.height ?? Int(f.height))
        // Same size in and out: the flags only matter for chroma upsampling; bicubic is what the ffmpeg
        // CLI uses, and for yuv420p -> bgr24 swscale takes its unscaled SIMD path either way. Scaling down, an
        // area average, as OpenCV's INTER_AREA that the first pass used to shrink pictures with.
        let flags = width == f.width && height == f.height ? SWS_BICUBIC : SWS_AREA
        context = sws_getCachedContext(context, f.width, f.height, source, width, height, format, flags, nil, nil, nil)
        guard let context else { throw FFmpegError(code: FFmpegError.invalidData, operation: "sws_getCachedContext") }
        // A new context (the stream changed size or pixel format) starts with swscale's default colours.
        let shape = [f.width, f.height, f.format, width, height, format.rawValue]
        if shape != self.shape { colour = nil }
        self.shape = shape

        let space = Self.swsColourspace(f.colorspace)
        let fullRange = f.color_range == AVCOL_RANGE_JPEG || Self.isJPEGFormat(source)
        if colour?.space != space || colour?.fullRange != fullRange {
            // Why: decoders tag range and matrix on the frame, not in the pixel format (except the old
            // yuvj formats), and swscale assumes limited-range BT.601 unless told.
            let coefficients = sws_getCoefficients(space)
            try check(sws_setColorspaceDetails(context, coefficients, fullRange ? 1 : 0,
                                               sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16),
                      "sws_setColorspaceDetails")
            colour = (space, fullRange)
        }
        try check(cffmpeg_scale_frame(context, frame, destination.assumingMemoryBound(to: UInt8.self), Int32(stride)),
                  "sws_scale")
    }

    /// Bytes allocated after the last row of a converted picture. Why: swscale's x86 yuv -> rgb path stores 8-pixel
    /// blocks and runs up to 16 bytes past the end of the last row when the width is not a multiple of 16 (measured
    /// with FFmpeg 5.1 for widths 2...1000, yuv420p/422p/444p/nv12/yuyv422 -> bgr24/rgb24/gray8); without it, the heap.
    static let tailSlack = 64

    /// `frame` converted into a new image of `format` cut from `pool`, written by swscale straight into the image's
    /// buffer; given `size`, scaled to it in the same pass.
    func image(of frame: UnsafeMutablePointer<AVFrame>, format: PixelFormat, size: ImageSize? = nil,
               pool: PixelBufferPool) throws(FFmpegError) -> Image {
        let width = size?.width ?? Int(frame.pointee.width), height = size?.height ?? Int(frame.pointee.height)
        // Rows padded to 64 bytes: aligned rows are faster, and swscale's SIMD writes whole blocks.
        let stride = (width * format.bytesPerPixel + 63) & ~63
        let buffer = pool.buffer(count: stride * height + Self.tailSlack)
        try convert(frame, to: format.avPixelFormat, into: buffer.bytes, stride: stride, size: size.map { ($0.width, $0.height) })
        return Image(width: width, height: height, format: format, stride: stride, buffer: buffer)
    }

    private static func isJPEGFormat(_ format: AVPixelFormat) -> Bool {
        format == AV_PIX_FMT_YUVJ420P || format == AV_PIX_FMT_YUVJ422P || format == AV_PIX_FMT_YUVJ444P
            || format == AV_PIX_FMT_YUVJ440P || format == AV_PIX_FMT_YUVJ411P
    }

    private static func swsColourspace(_ space: AVColorSpace) -> Int32 {
        switch space {
        case AVCOL_SPC_BT709: SWS_CS_ITU709
        case AVCOL_SPC_FCC: SWS_CS_FCC
        case AVCOL_SPC_SMPTE240M: SWS_CS_SMPTE240M
        case AVCOL_SPC_BT2020_NCL, AVCOL_SPC_BT2020_CL: SWS_CS_BT2020
        default: SWS_CS_DEFAULT
        }
    }
}
