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
    private let smallScaler = Scaler()
    /// Pictures are cut from reused memory: one decoder hands out one or two picture sizes, frame after frame.
    private let pool = PixelBufferPool(spares: 3)
    /// Converts the planes `currentPicture` keeps, on whichever thread reads them.
    private lazy var planeConverter = PlaneConverter(pool: pool)
    /// Frames to leave undecoded (see `DecodeOptions.skipUnusedFrames`): the sampler keeps every `every`th
    /// frame by display index, a frame lasts `ticks` of the time base, and with an intra-only codec any packet
    /// can be left out (otherwise the decoder leaves out non-reference frames).
    private let discard: (every: Int, ticks: Double, intraOnly: Bool)?
    /// A packet timestamp on the frame grid the display index counts from.
    private var anchorPTS: Int64?
    /// The last keyframe came without a timestamp.
    private var keyWithoutTimestamp = false
    /// What was decided for each packet sent (by its timestamp: true, the sampler keeps its frame), until its
    /// frame comes out or a later frame shows it never will.
    private var planned: [Int64: Bool] = [:]
    /// Whether the sampler keeps the current frame, as decided when its packet was sent; nil when frames are not
    /// being left undecoded, or the frame's timestamp matches no packet.
    private(set) var keepCurrentFrame: Bool?
    /// Frames the decoder left undecoded so far (unused packets whose frame never came out).
    private(set) var framesNotDecoded = 0
    private let timeBase: AVRational
    private let frameRate: AVRational
    private var origin: Int64?
    private var lastPTS: Int64?
    private var draining = false
    private var finished = false
    private var consecutiveFailures = 0

    /// Give up on a stream after this many bad packets in a row without a decoded frame: a truncated
    /// file fails every remaining sample, and some demuxers retry the same damaged one forever.
    static let maxConsecutiveFailures = 1000

    /// Opens the best video stream of `input`. `originAtStart` measures media time from the stream's
    /// start_time (files); otherwise from the first decoded frame (live). With `keepEvery` ≥ 2, frames whose
    /// display index is not a multiple of it are left undecoded where the codec allows it (intra-only codecs: any
    /// frame; others: non-reference frames, which no other frame is predicted from).
    init(input: InputContext, threads: Int, originAtStart: Bool, keepEvery: Int? = nil) throws(FFmpegError) {
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
        // The display index comes from timestamps, so it needs a known, constant frame rate.
        if let keepEvery, keepEvery >= 2, frameRate.num > 0, frameRate.den > 0, timeBase.num > 0, timeBase.den > 0 {
            let ticks = Double(timeBase.den) * Double(frameRate.den) / (Double(timeBase.num) * Double(frameRate.num))
            let intraOnly = avcodec_descriptor_get(codecPointer.pointee.id).map { Int32($0.pointee.props) & AV_CODEC_PROP_INTRA_ONLY != 0 } ?? false
            discard = ticks >= 1 ? (keepEvery, ticks, intraOnly) : nil
        } else {
            discard = nil
        }
    }

    /// The display index of a packet shown at `pts`: frames since the anchor, a keyframe, by timestamp; nil while
    /// there is none. Why a keyframe: the frames kept are then the keyframe's multiples of `every`, which in the
    /// usual GOPs (P-frames every 2 or 4, B-frames between) are the reference frames, so the frames left out are
    /// the non-reference ones the decoder can skip. A timestamp more than a quarter frame off the grid (an RTSP
    /// clock re-synced to its sender reports, a cut file's first frames) drops the anchor until the next keyframe,
    /// so rounding never sits on a half.
    private func indexInDisplayOrder(pts: Int64, key: Bool, ticks: Double) -> Int? {
        if let anchorPTS {
            let x = Double(pts - anchorPTS) / ticks
            if abs(x - x.rounded()) <= 0.25 { return Int(x.rounded()) }
            self.anchorPTS = nil
        }
        // A keyframe without a timestamp (an RTSP stream's first, sent before its clock is known) hands the anchor to
        // the next packet that has one: in decode order the next reference frame.
        guard key || keyWithoutTimestamp else { return nil }
        keyWithoutTimestamp = false
        anchorPTS = pts
        return 0
    }

    /// Whether to send the packet about to be sent to the decoder, and whether the decoder may leave it
    /// undecoded: a packet whose frame the sampler will throw away is not sent at all when every frame stands
    /// alone (intra-only codecs: MJPEG), and is sent with leave to drop it when no frame refers to it otherwise.
    /// A packet without a timestamp is always decoded.
    private func planDiscard(_ packet: UnsafeMutablePointer<AVPacket>) -> Bool {
        guard let discard else { return true }
        let pts = packet.pointee.pts
        var unused = false
        let key = packet.pointee.flags & AV_PKT_FLAG_KEY != 0
        if key, pts == cffmpeg_nopts_value() { keyWithoutTimestamp = true }
        if pts != cffmpeg_nopts_value(), let index = indexInDisplayOrder(pts: pts, key: key, ticks: discard.ticks) {
            unused = !index.isMultiple(of: discard.every)
            // A source whose frames never come out with their packets' timestamps: start the record over.
            if planned.count >= 256 { planned.removeAll() }
            // Why a record: the frame's own keep decision must be this one; a frame left out here must not be one
            // the sampler would keep when its timestamp, read again at output, rounds the other way.
            if !(discard.intraOnly && unused) { planned[pts] = !unused }
        }
        if discard.intraOnly {
            if unused { framesNotDecoded += 1 }
            return !unused
        }
        // Why per packet: the decoder reads skip_frame for each packet it is given (frame threads copy it at
        // submission), so only the frames the sampler drops are left out, and every kept frame's references decode.
        codec.pointer.pointee.skip_frame = unused ? AVDISCARD_NONREF : AVDISCARD_DEFAULT
        return true
    }

    /// Looks up the decision made for the new frame's packet (`keepCurrentFrame`), and counts the unused packets
    /// shown before it whose frames never came out as left undecoded (or lost to damage).
    private func settleSampling() {
        keepCurrentFrame = nil
        let pts = frame.pointer.pointee.pts
        guard discard != nil, pts != cffmpeg_nopts_value() else { return }
        keepCurrentFrame = planned.removeValue(forKey: pts)
        for (earlier, used) in planned where earlier < pts {
            planned[earlier] = nil
            if !used { framesNotDecoded += 1 }
        }
    }

    /// Decodes until the next frame is in `frame`; false at the end of the stream (decoder drained).
    /// `corrupt` is told about each packet the demuxer or decoder rejected and skipped.
    func decodeNext(interrupt: InterruptState, readTimeout: Duration?,
                    corrupt: (FFmpegError) -> Void) throws(FFmpegError) -> Bool {
        while !finished {
            do {
                try check(avcodec_receive_frame(codec.pointer, frame.pointer), "avcodec_receive_frame")
                consecutiveFailures = 0
                settleSampling()
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
        guard planDiscard(packet.pointer) else { return }
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

    /// Width and height of the current frame.
    var currentSize: (width: Int, height: Int) { (Int(frame.pointer.pointee.width), Int(frame.pointer.pointee.height)) }

    /// Converts the current frame into a new image of `format`, written by swscale straight into the
    /// image's buffer; given `size`, scaled to it in the same pass (an area average).
    func convertCurrentFrame(to format: PixelFormat, size: ImageSize? = nil) throws(FFmpegError) -> Image {
        try (size == nil ? scaler : smallScaler).image(of: frame.pointer, format: format, size: size, pool: pool)
    }
}

extension VideoDecoder {
    /// The current frame as a picture that keeps a copy of the decoder's planes and converts them to `format` when
    /// read (`FramePicture`): 3 MiB for 1080p YUV 4:2:0 against 6 MiB of BGR24. Nil when the planes would be no
    /// smaller than the packed pixels, or are not plain memory (hardware surfaces): convert now instead.
    func currentPicture(convertingTo format: PixelFormat) throws(FFmpegError) -> FramePicture? {
        let f = frame.pointer
        let (width, height) = currentSize
        let size = Int(cffmpeg_planes_size(f, PlaneLayout.align, Int32(clamping: width * height * format.bytesPerPixel)))
        guard size > 0 else { return nil }
        let planes = pool.buffer(count: size + PlaneLayout.tailSlack)
        try check(cffmpeg_copy_planes(f, planes.bytes.assumingMemoryBound(to: UInt8.self), Int32(size), PlaneLayout.align),
                  "av_image_copy_to_buffer")
        let layout = PlaneLayout(format: f.pointee.format, width: f.pointee.width, height: f.pointee.height,
                                 colorspace: f.pointee.colorspace, colorRange: f.pointee.color_range)
        let converter = planeConverter
        return FramePicture(width: width, height: height, planes: planes) { converter.convert($0, layout: layout, to: format) }
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
