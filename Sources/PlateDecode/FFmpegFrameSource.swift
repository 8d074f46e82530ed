internal import CFFmpeg
public import PlateCore
public import Logging
import Foundation

/// Frames from anything FFmpeg reads: video files (mp4, mkv, avi, mov, ts; H.264, H.265, MJPEG, MPEG-4),
/// RTSP cameras, HTTP MJPEG streams, V4L2 devices (`/dev/videoN`) and raw or MJPEG input from a file or
/// pipe with an explicit input format.
///
/// One session: it opens in `init`, decodes on the calling thread, converts each delivered frame once
/// with swscale into a new `PixelBuffer`, and ends at the end of the input (files: `nextFrame()` returns
/// nil) or at the first failure (it throws). `ReconnectingFrameSource` adds reconnection for live
/// sources. `nextFrame()` calls are serialised by a lock and `close()` works from any thread, which is
/// what makes the `@unchecked Sendable` true.
public final class FFmpegFrameSource: FrameSource, @unchecked Sendable {
    /// The location, password redacted.
    public let sourceDescription: String
    /// The stream as FFmpeg found it on opening.
    public let info: StreamInfo
    /// The camera the frames are labelled with.
    public let cameraID: CameraID
    /// The decoder's native pixel format, e.g. `yuv420p`, `yuvj422p`.
    public let streamPixelFormat: String
    /// Counters so far.
    public var stats: SourceStats { statsLock.withLock { statsStorage } }

    private let location: String
    private let kind: SourceKind
    private let options: DecodeOptions
    private let logger: Logger
    private let interrupt: InterruptState
    private let statsLock = NSLock()
    private var statsStorage = SourceStats()

    // Touched only with decodeLock held.
    private let decodeLock = NSLock()
    private var decoder: VideoDecoder?
    private var sampler: FrameSampler
    private var ending: DecodeError?

    /// Opens `location` and its video decoder; throws a `DecodeError` naming the source when it cannot.
    ///
    /// - Parameters:
    ///   - location: a file path, `rtsp://`, `http(s)://`, `/dev/videoN` (or `v4l2:///dev/videoN`),
    ///     `-` or `pipe:N`.
    ///   - cameraID: the label for frames; defaults to the location without credentials.
    ///   - stop: a signal shared with other sessions; raising it interrupts this one like `close()`.
    public init(location: String, cameraID: CameraID? = nil, options: DecodeOptions = DecodeOptions(),
                logger: Logger = Logger(label: "platestream.decode"), stop: StopSignal? = nil) throws(DecodeError) {
        FFmpegRuntime.initialize()
        self.location = location
        self.kind = SourceURL.kind(of: location)
        self.options = options
        self.sourceDescription = SourceURL.redacted(location)
        self.cameraID = cameraID ?? CameraID(SourceURL.withoutCredentials(location))
        var logger = logger
        logger[metadataKey: "source"] = "\(SourceURL.redacted(location))"
        self.logger = logger
        self.interrupt = InterruptState(stop: stop)
        self.sampler = FrameSampler(every: max(options.sampleEvery, 1), maxFPS: options.maxFPS)

        let opened = try Self.open(location: location, kind: kind, options: options, interrupt: interrupt)
        decoder = opened.decoder
        info = opened.info
        streamPixelFormat = opened.pixelFormat
        logger.debug("opened \(info.container) \(info.codec) \(info.width)x\(info.height) at \(info.fps) fps")
    }

    /// Decodes up to the next frame the sampler keeps and returns it converted to `options.outputFormat`.
    /// Returns nil at the clean end of a file or pipe; throws `DecodeError` when a live stream ends or
    /// fails, on a timeout, or with `.closed` after `close()`.
    public func nextFrame() throws(DecodeError) -> Frame? {
        decodeLock.lock()
        defer { decodeLock.unlock() }
        while true {
            if interrupt.isClosed {
                decoder = nil
                throw DecodeError(.closed, source: location)
            }
            guard let decoder else {
                if let ending { throw ending }
                return nil
            }
            let gotFrame: Bool
            do {
                gotFrame = try decoder.decodeNext(interrupt: interrupt, readTimeout: readTimeout) { error in
                    countCorrupt(error)
                }
            } catch {
                let failure = Self.decodeError(error, phase: .reading, kind: kind, location: location,
                                               interrupt: interrupt, options: options)
                finish(failure)
                throw failure
            }
            guard gotFrame else {
                if kind.isLive {
                    let failure = DecodeError(.streamEnded, source: location, detail: "(end of stream)")
                    finish(failure)
                    throw failure
                }
                finish(nil)
                return nil
            }

            if decoder.frameIsCorrupt { countCorrupt(nil) }
            let time = decoder.mediaTimeOfCurrentFrame()
            // The index counts the frames left undecoded too: it stays the frame's place in the stream.
            let index = statsLock.withLock {
                statsStorage.decoded += 1
                statsStorage.notDecoded = decoder.framesNotDecoded
                return statsStorage.decoded + statsStorage.notDecoded - 1
            }
            guard sampler.keep(at: time, decided: decoder.keepCurrentFrame) else {
                statsLock.withLock { statsStorage.droppedBySampling += 1 }
                continue
            }
            let picture: FramePicture, scaled: Image?
            do {
                // The first pass's picture, scaled from the decoded planes rather than from `image` (BGR24 only).
                let (width, height) = decoder.currentSize
                let size = options.outputFormat == .bgr24 ? options.firstPass?.scaledSize(width: width, height: height) : nil
                // A picture too small to scale for the first pass is what the first pass and the motion gate read:
                // planes would be converted for them on every frame, so such a picture is converted once, now.
                if options.keepPlanes, options.firstPass == nil || size != nil,
                   let planes = try decoder.currentPicture(convertingTo: options.outputFormat) {
                    picture = planes
                } else {
                    picture = FramePicture(try decoder.convertCurrentFrame(to: options.outputFormat))
                }
                scaled = try size.map { size throws(FFmpegError) in try decoder.convertCurrentFrame(to: .bgr24, size: size) }
            } catch {
                let failure = Self.decodeError(error, phase: .reading, kind: kind, location: location,
                                               interrupt: interrupt, options: options)
                finish(failure)
                throw failure
            }
            statsLock.withLock { statsStorage.delivered += 1 }
            return Frame(cameraID: cameraID, index: index, mediaTime: time, wallClock: Date(), picture: picture, scaled: scaled)
        }
    }

    /// Stops the source: a blocked `nextFrame()` throws `.closed` within ~100 ms; FFmpeg's state is freed
    /// now if no decode is running, else by that decode. Safe from any thread.
    public func close() {
        interrupt.close()
        if decodeLock.try() {
            decoder = nil
            decodeLock.unlock()
        }
    }

    private var readTimeout: Duration? { kind.isLive ? options.readTimeout : nil }

    private func finish(_ failure: DecodeError?) {
        ending = failure
        decoder = nil
    }

    private func countCorrupt(_ error: FFmpegError?) {
        let count = statsLock.withLock {
            statsStorage.corruptPackets += 1
            return statsStorage.corruptPackets
        }
        // Why only some: a damaged file or a lossy UDP stream can fail thousands of packets.
        if count <= 5 || count.isMultiple(of: 100) {
            let what = error.map { "\($0.operation): \($0.message)" } ?? "decoder concealed errors in a frame"
            logger.warning("corrupt data skipped (\(count) so far): \(what)")
        }
    }

    // MARK: Opening

    private struct Opened {
        let decoder: VideoDecoder
        let info: StreamInfo
        let pixelFormat: String
    }

    enum Phase { case opening, reading }

    /// Whether `path` is a regular file of 0 bytes (a FIFO or a device also shows size 0 and is left alone).
    private static func isEmptyRegularFile(_ path: String) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return false }
        return attributes[.type] as? FileAttributeType == .typeRegular && (attributes[.size] as? Int) == 0
    }

    private static func open(location: String, kind: SourceKind, options: DecodeOptions,
                             interrupt: InterruptState) throws(DecodeError) -> Opened {
        var url = location
        if kind == .device, location.lowercased().hasPrefix("v4l2://") { url = String(location.dropFirst("v4l2://".count)) }
        if location == "-" { url = "pipe:0" }
        switch kind {
        case .file where !FileManager.default.fileExists(atPath: url):
            throw DecodeError(.fileNotFound, source: location)
        case .file where isEmptyRegularFile(url):
            // Why checked here: FFmpeg opens an empty raw stream (.h264, .hevc) without complaint and then
            // delivers nothing, which would look like a video without frames rather than the mistake it is.
            throw DecodeError(.notAVideo, source: location, detail: "(empty file)")
        case .device where !FileManager.default.fileExists(atPath: url):
            throw DecodeError(.deviceMissing, source: location)
        default: break
        }

        let formatName = options.inputFormat ?? (kind == .device ? "video4linux2" : nil)
        var format: UnsafePointer<AVInputFormat>? = nil
        if let formatName {
            format = av_find_input_format(formatName)
            if format == nil {
                throw DecodeError(.invalidOption, source: location, detail: "unknown input format \"\(formatName)\"")
            }
        }
        let isV4L2 = format.map { String(cString: $0.pointee.name).contains("video4linux2") } ?? false

        var entries: [(String, String)] = []
        var userKeys: [String] = []
        func user(_ key: String, _ value: String?) {
            guard let value else { return }
            entries.append((key, value))
            userKeys.append(key)
        }
        if kind == .rtsp { entries.append(("rtsp_transport", options.transport.rawValue)) }
        user("video_size", options.videoSize)
        user("framerate", options.frameRate)
        user(isV4L2 ? "input_format" : "pixel_format", options.inputPixelFormat)
        for (key, value) in options.formatOptions.sorted(by: { $0.key < $1.key }) { user(key, value) }

        let dictionary: OptionDictionary
        do {
            dictionary = try OptionDictionary(entries)
        } catch {
            throw DecodeError(.invalidOption, source: location, underlying: error)
        }
        interrupt.arm(kind.isLive ? options.connectTimeout : nil)
        func failure(_ error: FFmpegError) -> DecodeError {
            decodeError(error, phase: .opening, kind: kind, location: location, interrupt: interrupt, options: options)
        }
        let input: InputContext
        do {
            input = try InputContext(url: url, format: format, options: dictionary, interrupt: interrupt)
        } catch {
            throw failure(error)
        }
        let demuxer = String(cString: input.pointer.pointee.iformat.pointee.name)
        let unused = dictionary.keys.filter(userKeys.contains)
        if !unused.isEmpty {
            throw DecodeError(.invalidOption, source: location,
                              detail: "\(unused.joined(separator: ", ")) not understood by input format \(demuxer)")
        }
        do {
            try check(avformat_find_stream_info(input.pointer, nil), "avformat_find_stream_info")
        } catch {
            throw failure(error)
        }
        let decoder: VideoDecoder
        do {
            // Frames sampling throws away are left undecoded only when the sampler works by frame count alone.
            let skipping = options.skipUnusedFrames && options.maxFPS == nil && options.sampleEvery >= 2
            decoder = try VideoDecoder(input: input, threads: options.threads, originAtStart: !kind.isLive,
                                       keepEvery: skipping ? options.sampleEvery : nil)
        } catch {
            throw failure(error)
        }
        return Opened(decoder: decoder, info: streamInfo(decoder, container: demuxer, live: kind.isLive),
                      pixelFormat: pixelFormatName(decoder))
    }

    private static func streamInfo(_ decoder: VideoDecoder, container: String, live: Bool) -> StreamInfo {
        let format = decoder.input.pointer.pointee
        let stream = decoder.stream.pointee
        let parameters = stream.codecpar.pointee
        var rate = stream.avg_frame_rate
        if rate.num <= 0 || rate.den <= 0 { rate = stream.r_frame_rate }
        let fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0
        var duration: Double?
        if !live {
            if format.duration > 0 {
                duration = Double(format.duration) / Double(cffmpeg_time_base())
            } else if stream.duration > 0 {
                duration = Double(stream.duration) * av_q2d(stream.time_base)
            }
        }
        let bitRate = format.bit_rate > 0 ? format.bit_rate : parameters.bit_rate
        return StreamInfo(
            container: container,
            codec: String(cString: avcodec_get_name(parameters.codec_id)),
            width: Int(parameters.width), height: Int(parameters.height), fps: fps,
            durationSeconds: duration,
            frameCount: stream.nb_frames > 0 ? Int(stream.nb_frames) : nil,
            bitRate: bitRate > 0 ? Int(bitRate) : nil,
            isLive: live
        )
    }

    private static func pixelFormatName(_ decoder: VideoDecoder) -> String {
        let format = AVPixelFormat(rawValue: decoder.codec.pointer.pointee.pix_fmt.rawValue)
        guard let name = av_get_pix_fmt_name(format) else { return "unknown" }
        return String(cString: name)
    }

    // MARK: Errors

    /// Maps an FFmpeg failure to the `DecodeError` a user can act on.
    static func decodeError(_ error: FFmpegError, phase: Phase, kind: SourceKind, location: String,
                            interrupt: InterruptState, options: DecodeOptions) -> DecodeError {
        func make(_ code: DecodeError.Code, _ detail: String = "") -> DecodeError {
            DecodeError(code, source: location, detail: detail, underlying: error)
        }
        if interrupt.isClosed { return make(.closed) }
        // Our deadline interrupts with AVERROR_EXIT, but FFmpeg sometimes reports it as EOF or EIO.
        if interrupt.timedOut || error.isPOSIX(ETIMEDOUT) {
            return phase == .opening
                ? make(.timeout, "after \(formatted(options.connectTimeout)) while connecting")
                : make(.timeout, "after \(formatted(options.readTimeout)) without data")
        }
        if error.isPOSIX(ECONNREFUSED) { return make(.connectionRefused) }
        if error.code == FFmpegError.httpUnauthorized { return make(.authenticationFailed, "(401 Unauthorized)") }
        if error.code == FFmpegError.httpForbidden { return make(.authenticationFailed, "(403 Forbidden)") }
        if error.code == FFmpegError.httpNotFound { return make(.streamNotFound, "(404 Not Found)") }
        if error.isPOSIX(ENOENT) || error.isPOSIX(ENODEV) || error.isPOSIX(ENXIO) {
            switch kind {
            case .device: return make(.deviceMissing)
            case .file, .pipe: return make(.fileNotFound)
            default: break
            }
        }
        if error.code == FFmpegError.decoderNotFound { return make(.unsupportedCodec, "(no decoder for the video stream)") }
        switch phase {
        case .opening:
            if error.code == FFmpegError.streamNotFound { return make(.notAVideo, "(no video stream)") }
            if error.code == FFmpegError.invalidData || error.code == FFmpegError.demuxerNotFound || error.isEndOfFile {
                return make(.notAVideo, "(no readable video container)")
            }
        case .reading:
            if error.code == FFmpegError.invalidData { return make(.corruptData, "(too many damaged packets in a row)") }
            if error.isEndOfFile || error.isPOSIX(ECONNRESET) || error.isPOSIX(EPIPE) || error.isPOSIX(EIO) {
                return make(.streamEnded)
            }
        }
        return make(.ffmpeg, "(\(error.operation) failed)")
    }

    private static func formatted(_ duration: Duration) -> String {
        let seconds = duration.seconds
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
    }
}
