import Foundation
import Logging
import Testing
import PlateCore
@testable import PlateDecode

private typealias H = DecodeHarness

/// Live sources end to end on loopback: a real GStreamer RTSP server and an HTTP MJPEG server started
/// by the tests (scripts/rtsp-server.py, scripts/mjpeg-server.py), killed, frozen and restarted to
/// exercise errors, timeouts and reconnection. No timing assertions: watchdogs only keep a broken build
/// from hanging the run. Blocking work runs off the cooperative pool (`H.offPool`).
@Suite struct DecodeLiveTests {
    // MARK: RTSP

    @Test(arguments: [DecodeOptions.Transport.tcp, .udp])
    func decodesRTSP(_ transport: DecodeOptions.Transport) async throws {
        let file = try await H.media().patternLive
        let server = try await H.offPool { try H.startRTSPServer(file: file) }
        defer { server.stop() }
        let url = "rtsp://127.0.0.1:\(server.port)/stream"
        let source = try await H.offPool { try FFmpegFrameSource(location: url, options: H.liveOptions(transport: transport)) }
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel(); source.close() }
        #expect(source.info.codec == "h264")
        #expect(source.info.container == "rtsp")
        #expect(source.info.isLive && source.info.durationSeconds == nil)
        #expect(source.info.width == 100 && source.info.height == 80)
        let frames = try await H.offPool { try read(source, count: 30) }
        #expect(frames.count == 30)
        #expect(frames.map(\.index) == Array(0..<30))
        #expect(frames.first?.mediaTime == .zero)  // live: position since the stream began
        for (a, b) in zip(frames, frames.dropFirst()) { #expect(a.mediaTime < b.mediaTime) }
        for frame in frames { H.expectQuadrants(frame.image, tolerance: 12) }
    }

    /// A live H.264 stream with B-frames sampled every second frame: the frames kept are exactly two frames apart,
    /// and the non-reference frames between them are not decoded (the phase is taken from a keyframe).
    @Test func rtspSamplingLeavesNonReferenceFramesUndecodedAndKeepsEverySecondFrame() async throws {
        let file = try #require(try await H.media().videos.first { $0.name == "h264.mp4" }).url
        let server = try await H.offPool { try H.startRTSPServer(file: file) }
        defer { server.stop() }
        var options = H.liveOptions()
        options.sampleEvery = 2
        let source = try await H.offPool { [options] in try FFmpegFrameSource(location: "rtsp://127.0.0.1:\(server.port)/stream", options: options) }
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel(); source.close() }
        let frames = try await H.offPool { try read(source, count: 20) }
        #expect(frames.count == 20)
        for (a, b) in zip(frames, frames.dropFirst()) {
            #expect(abs(b.mediaTime.seconds - a.mediaTime.seconds - 2.0 / 25) < 0.002, "\(a.mediaTime) -> \(b.mediaTime)")
        }
        let stats = source.stats
        #expect(stats.notDecoded > 0, "\(stats)")
        #expect(stats.delivered == 20)
    }

    @Test(arguments: [DecodeOptions.Transport.tcp, .udp])
    func reconnectsAfterTheServerIsKilledAndRestarted(_ transport: DecodeOptions.Transport) async throws {
        let file = try await H.media().patternLive
        let first = try await H.offPool { try H.startRTSPServer(file: file) }
        defer { first.stop() }
        let port = first.port
        // A short read timeout: over UDP a killed server may only be noticed as silence.
        var options = H.liveOptions(transport: transport, readTimeout: .seconds(3))
        options.connectTimeout = .seconds(30)
        // As `platestream run` asks for it: the first pass's picture and the full one kept as planes, which every
        // frame must still carry after the reconnecting source renumbers it.
        options.firstPass = FirstPassSizing(inputs: [ImageSize(width: 64, height: 64)])
        options.keepPlanes = true
        let source = ReconnectingFrameSource(location: "rtsp://127.0.0.1:\(port)/stream", options: options,
                                             backoff: Backoff(initial: .milliseconds(200), maximum: .seconds(2)))
        let watchdog = H.Watchdog(seconds: 300, closing: source)
        defer { watchdog.cancel(); source.close() }

        var frames = try await H.offPool { try read(source, count: 20) }
        #expect(frames.count == 20)
        #expect(source.stats.reconnects == 0)

        first.stop()
        let second = try await H.offPool { try H.startRTSPServer(file: file, port: port) }
        defer { second.stop() }

        frames += try await H.offPool {
            var more: [Frame] = []
            while source.stats.reconnects == 0 || more.count < 40, more.count < 1000 {
                guard let frame = try source.nextFrame() else { break }
                more.append(frame)
            }
            return more
        }
        #expect(source.stats.reconnects >= 1)
        #expect(frames.map(\.index) == Array(0..<frames.count))
        for (a, b) in zip(frames, frames.dropFirst()) {
            #expect(a.mediaTime < b.mediaTime, "media time went from \(a.mediaTime) to \(b.mediaTime) at #\(b.index)")
        }
        for frame in frames.suffix(10) { H.expectQuadrants(frame.image, tolerance: 12) }
        #expect(frames.allSatisfy { $0.picture.isDeferred && $0.scaled?.width == 64 && $0.scaled?.height == 51 },
                "first: deferred \(frames[0].picture.isDeferred), scaled \(frames[0].scaled.map { "\($0.width)x\($0.height)" } ?? "none")")
    }

    @Test func wrongRTSPPathIsStreamNotFound() async throws {
        let file = try await H.media().patternLive
        let server = try await H.offPool { try H.startRTSPServer(file: file) }
        defer { server.stop() }
        let url = "rtsp://viewer:s3cret@127.0.0.1:\(server.port)/no-such-path"
        let error = try await H.decodeError { try FFmpegFrameSource(location: url, options: H.liveOptions()) }
        #expect(error.code == .streamNotFound)
        #expect(error.source == "rtsp://viewer:***@127.0.0.1:\(server.port)/no-such-path")
        #expect(!error.description.contains("s3cret"))
    }

    @Test func rtspCredentialsAreCheckedAndRedacted() async throws {
        let file = try await H.media().patternLive
        let server = try await H.offPool { try H.startRTSPServer(file: file, extra: ["--user", "admin", "--password", "right"]) }
        defer { server.stop() }
        let wrong = "rtsp://admin:wrong@127.0.0.1:\(server.port)/stream"
        let error = try await H.decodeError { try FFmpegFrameSource(location: wrong, options: H.liveOptions()) }
        #expect(error.code == .authenticationFailed)
        #expect(error.description.contains("rtsp://admin:***@127.0.0.1:\(server.port)/stream"))
        #expect(!error.description.contains("wrong"))

        let right = "rtsp://admin:right@127.0.0.1:\(server.port)/stream"
        let source = try await H.offPool { try FFmpegFrameSource(location: right, options: H.liveOptions()) }
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel(); source.close() }
        #expect(source.sourceDescription == "rtsp://admin:***@127.0.0.1:\(server.port)/stream")
        let frame = try await H.offPool { try source.nextFrame() }
        #expect(frame != nil)
    }

    @Test func closedPortIsConnectionRefused() async throws {
        let port = try H.closedLoopbackPort()
        for url in ["rtsp://user:pa55@127.0.0.1:\(port)/stream", "http://user:pa55@127.0.0.1:\(port)/video.mjpg"] {
            let error = try await H.decodeError { try FFmpegFrameSource(location: url, options: H.liveOptions()) }
            #expect(error.code == .connectionRefused, "\(url): \(error)")
            #expect(error.source == SourceURL.redacted(url))
            #expect(error.description.contains("user:***@127.0.0.1:\(port)"))
            #expect(!error.description.contains("pa55"))
        }
    }

    @Test func silentServerTimesOutInsteadOfHanging() async throws {
        let listener = try H.LoopbackListener()
        defer { listener.close() }
        var options = H.liveOptions()
        options.connectTimeout = .seconds(1)
        let url = "rtsp://cam:pw@127.0.0.1:\(listener.port)/stream"
        let error = try await H.decodeError { [options] in try FFmpegFrameSource(location: url, options: options) }
        #expect(error.code == .timeout)
        #expect(error.description.contains("while connecting"))
        #expect(error.source == "rtsp://cam:***@127.0.0.1:\(listener.port)/stream")
    }

    // MARK: HTTP MJPEG

    @Test func decodesHTTPMJPEG() async throws {
        let server = try await H.offPool { try H.startMJPEGServer() }
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/video.mjpg"
        let source = try await H.offPool { try FFmpegFrameSource(location: url, options: H.liveOptions()) }
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel(); source.close() }
        #expect(source.info.codec == "mjpeg")
        #expect(source.info.width == 160 && source.info.height == 120)
        #expect(source.info.isLive)
        let frames = try await H.offPool { try read(source, count: 12) }
        #expect(frames.map(\.index) == Array(0..<12))
        // The server's palette in order: every frame arrives, in sequence, with its colour.
        for frame in frames {
            let c = H.quadrantColours[frame.index % 4]
            let pixel = frame.image.pixel(x: 80, y: 60)
            #expect(H.near(pixel, [c.b, c.g, c.r], tolerance: 12), "frame \(frame.index): \(pixel)")
        }
    }

    @Test func reconnectsWhenTheHTTPStreamEnds() async throws {
        // Each connection serves 6 frames and hangs up; the source reconnects and carries on counting.
        let server = try await H.offPool { try H.startMJPEGServer(["--frames", "6"]) }
        defer { server.stop() }
        let source = ReconnectingFrameSource(location: "http://127.0.0.1:\(server.port)/video.mjpg", options: H.liveOptions(),
                                             backoff: Backoff(initial: .milliseconds(50), maximum: .milliseconds(500)))
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel(); source.close() }
        let frames = try await H.offPool { try read(source, count: 20) }
        #expect(frames.map(\.index) == Array(0..<20))
        for (a, b) in zip(frames, frames.dropFirst()) { #expect(a.mediaTime < b.mediaTime) }
        #expect(source.stats.reconnects >= 2)
        #expect(source.stats.delivered == 20)
        // Each session starts at red again: frame 6 is the first of the second session.
        let first = try #require(frames.count > 6 ? frames[6] : nil).image.pixel(x: 80, y: 60)
        #expect(H.near(first, [0, 0, 255], tolerance: 12), "\(first)")
    }

    @Test func httpAuthenticationAndMissingPaths() async throws {
        let server = try await H.offPool { try H.startMJPEGServer(["--user", "op", "--password", "letmein"]) }
        defer { server.stop() }
        let wrong = "http://op:nope@127.0.0.1:\(server.port)/video.mjpg"
        let error = try await H.decodeError { try FFmpegFrameSource(location: wrong, options: H.liveOptions()) }
        #expect(error.code == .authenticationFailed)
        #expect(error.source == "http://op:***@127.0.0.1:\(server.port)/video.mjpg")
        #expect(!error.description.contains("nope"))

        let missing = "http://op:letmein@127.0.0.1:\(server.port)/other.mjpg"
        let error404 = try await H.decodeError { try FFmpegFrameSource(location: missing, options: H.liveOptions()) }
        #expect(error404.code == .streamNotFound)

        let right = "http://op:letmein@127.0.0.1:\(server.port)/video.mjpg"
        let source = try await H.offPool { try FFmpegFrameSource(location: right, options: H.liveOptions()) }
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel(); source.close() }
        let frame = try await H.offPool { try source.nextFrame() }
        #expect(frame != nil)
    }

    @Test func ffmpegDebugOutputNeverShowsCredentials() async throws {
        let server = try await H.offPool { try H.startMJPEGServer(["--user", "op", "--password", "letmein"]) }
        defer { server.stop() }
        let captured = CapturedLog()
        var logger = Logger(label: "ffmpeg") { _ in CapturingLogHandler(log: captured) }
        logger.logLevel = .trace
        FFmpegLogging.route(to: logger)
        defer { FFmpegLogging.route(to: Logger(label: "ffmpeg")) }

        let url = "http://op:letmein@127.0.0.1:\(server.port)/video.mjpg"
        let source = try await H.offPool { [logger] in try FFmpegFrameSource(location: url, options: H.liveOptions(), logger: logger) }
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel(); source.close() }
        let frame = try await H.offPool { try source.nextFrame() }
        #expect(frame != nil)

        let lines = captured.lines
        // FFmpeg did talk at debug level, including the request it sent with its Authorization header...
        #expect(lines.contains { $0.contains("/video.mjpg") })
        #expect(lines.contains { $0.localizedCaseInsensitiveContains("authorization: ***") })
        // ...and no line carries the password, plain or Basic-encoded ("op:letmein").
        let basic = Data("op:letmein".utf8).base64EncodedString()
        #expect(!lines.contains { $0.contains("letmein") || $0.contains(basic) })
    }

    @Test func stalledStreamTimesOutInsteadOfHanging() async throws {
        let server = try await H.offPool { try H.startMJPEGServer() }
        defer { server.stop() }
        var options = H.liveOptions(readTimeout: .seconds(2))
        options.connectTimeout = .seconds(30)
        let url = "http://127.0.0.1:\(server.port)/video.mjpg"
        let source = try await H.offPool { [options] in try FFmpegFrameSource(location: url, options: options) }
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel(); source.close() }
        #expect(try await H.offPool { try source.nextFrame() } != nil)
        // The camera hangs with the connection still open: only the read deadline can notice.
        server.freeze()
        let error = try await H.decodeError { while try source.nextFrame() != nil {} }
        #expect(error.code == .timeout, "\(error)")
        #expect(error.description.contains("without data"))
        #expect(!watchdog.fired)
    }

    @Test func closeInterruptsABlockedRead() async throws {
        let server = try await H.offPool { try H.startMJPEGServer() }
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/video.mjpg"
        let source = try await H.offPool {
            try FFmpegFrameSource(location: url, options: H.liveOptions(readTimeout: .seconds(600)))
        }
        #expect(try await H.offPool { try source.nextFrame() } != nil)
        server.freeze()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { source.close() }
        let watchdog = H.Watchdog(closing: source)  // a second close: harmless
        defer { watchdog.cancel() }
        let error = try await H.decodeError { while try source.nextFrame() != nil {} }
        #expect(error.code == .closed)
    }

    // MARK: V4L2

    @Test(arguments: ["/dev/video63", "v4l2:///dev/video63"])
    func missingCaptureDeviceIsDeviceMissing(_ location: String) async throws {
        var options = DecodeOptions()
        options.videoSize = "640x480"
        options.frameRate = "30"
        options.inputPixelFormat = "mjpeg"
        let error = try await H.decodeError { [options] in try FFmpegFrameSource(location: location, options: options) }
        #expect(error.code == .deviceMissing)
        #expect(error.source == location)
        #expect(error.description.contains("/dev/video63"))
    }
}

/// Reads up to `count` frames (fewer if the source ends).
private func read(_ source: some FrameSource, count: Int) throws -> [Frame] {
    var frames: [Frame] = []
    while frames.count < count, let frame = try source.nextFrame() { frames.append(frame) }
    return frames
}

/// Log lines collected from any thread.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ line: String) { lock.withLock { storage.append(line) } }
    var lines: [String] { lock.withLock { storage } }
}

/// A swift-log handler that keeps every message (with its metadata) in a `CapturedLog`.
struct CapturingLogHandler: LogHandler {
    let log: CapturedLog
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        log.append("\(event.message) \(all)")
    }
}
