internal import CFFmpeg
import PlateCore
import Foundation

/// One open input and the decoder of its video stream: demux, decode, drain at the end. Not
/// thread-safe; its owner serialises calls.
final class VideoDecoder {
    let input: InputContext
    let codec: DecoderContext
    let stream: UnsafeMutablePointer<AVStream>
    let streamIndex: Int32
    let frame = DecodedFrame()
    private let packet = Packet()
    private let scaler = Scaler()
    private let timeBase: AVRational
    private let frameRate: AVRational
    private var origin: Int64?
    private var lastPTS: Int64?
    private var draining = false
    private var finished = false
    private var consecutiveFailures = 0

    /// Bytes allocated after the last row for swscale's block stores (see `convertCurrentFrame`).
    static let tailSlack = 64

    /// Give up on a stream after this many bad packets in a row without a decoded frame: a truncated
    /// file fails every remaining sample, and some demuxers retry the same damaged one forever.
    static let maxConsecutiveFailures = 1000

    /// Opens the best video stream of `input`. `originAtStart` measures media time from the stream's
    /// start_time (files); otherwise from the first decoded frame (live).
    init(input: InputContext, threads: Int, originAtStart: Bool) throws(FFmpegError) {
        self.input = input
        var codecPointer: UnsafePointer<AVCodec>? = nil
        let index = try check(av_find_best_stream(input.pointer, AVMEDIA_TYPE_VIDEO, -1, -1, &codecPointer, 0),
                              "av_find_best_stream")
        guard let codecPointer else { throw FFmpegError(code: FFmpegError.decoderNotFound, operation: "av_find_best_stream") }
        streamIndex = index
        stream = input.pointer.pointee.streams[Int(index)]!
        // Only the video stream is demuxed into packets we keep; the rest is skipped at the demuxer.
        for i in 0..<Int(input.pointer.pointee.nb_streams) where i != Int(index) {
            input.pointer.pointee.streams[i]!.pointee.discard = AVDISCARD_ALL
        }
        codec = try DecoderContext(codec: codecPointer, stream: stream, threads: threads)
        timeBase = stream.pointee.time_base
        frameRate = av_guess_frame_rate(input.pointer, stream, nil)
        let start = stream.pointee.start_time
        if originAtStart, start != cffmpeg_nopts_value() { origin = start }
    }

    /// Decodes until the next frame is in `frame`; false at the end of the stream (decoder drained).
    /// `corrupt` is told about each packet the demuxer or decoder rejected and skipped.
    func decodeNext(interrupt: InterruptState, readTimeout: Duration?,
                    corrupt: (FFmpegError) -> Void) throws(FFmpegError) -> Bool {
        while !finished {
            do {
                try check(avcodec_receive_frame(codec.pointer, frame.pointer), "avcodec_receive_frame")
                consecutiveFailures = 0
                return true
            } catch let error where error.isAgain {
                // The decoder needs another packet.
            } catch let error where error.isEndOfFile {
                finished = true
                return false
            } catch let error where error.code == FFmpegError.exit || error.isPOSIX(ENOMEM) {
                throw error
            } catch {
                // The decoder failed on the data it was given (a damaged packet it had accepted): skip it.
                try skip(error, corrupt: corrupt)
                continue
            }
            if draining {
                finished = true
                return false
            }
            try readAndSendPacket(interrupt: interrupt, readTimeout: readTimeout, corrupt: corrupt)
        }
        return false
    }

    private func readAndSendPacket(interrupt: InterruptState, readTimeout: Duration?,
                                   corrupt: (FFmpegError) -> Void) throws(FFmpegError) {
        interrupt.arm(readTimeout)
        do {
            try check(av_read_frame(input.pointer, packet.pointer), "av_read_frame")
        } catch let error where error.isEndOfFile {
            // Flush: the decoder hands out the frames it still holds (B-frame reordering, threads).
            try check(avcodec_send_packet(codec.pointer, nil), "avcodec_send_packet")
            draining = true
            return
        } catch let error where error.isAgain {
            // Devices and some network demuxers have no data yet; poll again after a short nap.
            usleep(2_000)
            if interrupt.shouldInterrupt() { throw FFmpegError(code: FFmpegError.exit, operation: "av_read_frame") }
            return
        } catch let error where error.code == FFmpegError.invalidData {
            try skip(error, corrupt: corrupt)
            return
        }
        defer { av_packet_unref(packet.pointer) }
        guard packet.pointer.pointee.stream_index == streamIndex else { return }
        if packet.pointer.pointee.flags & AV_PKT_FLAG_CORRUPT != 0 {
            corrupt(FFmpegError(code: FFmpegError.invalidData, operation: "av_read_frame"))
        }
        do {
            try check(avcodec_send_packet(codec.pointer, packet.pointer), "avcodec_send_packet")
        } catch let error where error.code == FFmpegError.exit || error.isPOSIX(ENOMEM) {
            throw error
        } catch {
            // A packet the decoder cannot use (damaged, or a stream joined mid-GOP): skip it.
            try skip(error, corrupt: corrupt)
        }
    }

    private func skip(_ error: FFmpegError, corrupt: (FFmpegError) -> Void) throws(FFmpegError) {
        corrupt(error)
        consecutiveFailures += 1
        if consecutiveFailures >= Self.maxConsecutiveFailures { throw error }
    }

    /// Whether the decoder flagged the current frame as damaged (concealed errors).
    var frameIsCorrupt: Bool {
        let f = frame.pointer.pointee
        return f.flags & AV_FRAME_FLAG_CORRUPT != 0 || f.decode_error_flags != 0
    }

    /// The current frame's position: its pts in the stream's time base, relative to the origin, as an
    /// exact rational. A frame without a timestamp continues one frame after the previous one.
    func mediaTimeOfCurrentFrame() -> MediaTime {
        let nopts = cffmpeg_nopts_value()
        var pts = frame.pointer.pointee.best_effort_timestamp
        if pts == nopts { pts = frame.pointer.pointee.pts }
        if pts == nopts {
            let step = frameRate.num > 0 && frameRate.den > 0
                ? max(av_rescale_q(1, av_inv_q(frameRate), timeBase), 1) : 1
            pts = lastPTS.map { $0 + step } ?? 0
        }
        lastPTS = pts
        if origin == nil { origin = pts }
        guard timeBase.num > 0, timeBase.den > 0 else { return MediaTime(value: pts - origin!, timescale: 1_000_000) }
        return MediaTime(value: (pts - origin!) * Int64(timeBase.num), timescale: Int64(timeBase.den))
    }

    /// Converts the current frame into a new image of `format`, written by swscale straight into the
    /// image's buffer.
    func convertCurrentFrame(to format: PixelFormat) throws(FFmpegError) -> Image {
        let width = Int(frame.pointer.pointee.width), height = Int(frame.pointer.pointee.height)
        // Rows padded to 64 bytes: aligned rows are faster, and swscale's SIMD writes whole blocks.
        let stride = (width * format.bytesPerPixel + 63) & ~63
        // Why the slack: swscale's x86 yuv -> rgb path stores 8-pixel blocks and runs up to 16 bytes past
        // the end of the last row when the width is not a multiple of 16 (measured with FFmpeg 5.1 for
        // widths 2...1000, yuv420p/422p/444p/nv12/yuyv422 -> bgr24/rgb24/gray8); without it, the heap.
        let buffer = PixelBuffer(count: stride * height + Self.tailSlack)
        try scaler.convert(frame.pointer, to: format.avPixelFormat, into: buffer.bytes, stride: stride)
        return Image(width: width, height: height, format: format, stride: stride, buffer: buffer)
    }
}

extension PixelFormat {
    var avPixelFormat: AVPixelFormat {
        switch self {
        case .bgr24: AV_PIX_FMT_BGR24
        case .rgb24: AV_PIX_FMT_RGB24
        case .gray8: AV_PIX_FMT_GRAY8
        }
    }
}
