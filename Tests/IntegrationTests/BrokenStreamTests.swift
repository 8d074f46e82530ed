import Foundation
import Testing
import PlateCore
@testable import PlateDecode

private typealias H = DecodeHarness

/// Broken video of every kind a site sees, on loopback: truncated H.264 and HEVC, empty files, a file that
/// grows while it is read, cameras that send garbage, lose a boundary or never send a frame. Each time the
/// source ends with a clear message or reconnects, and nothing hangs or crashes. No timing assertions:
/// watchdogs only keep a broken build from hanging the run.
@Suite struct BrokenStreamTests {
    /// `file` cut to half its size, next to it.
    private static func halved(_ file: URL, as name: String) throws -> URL {
        let data = try Data(contentsOf: file)
        let url = try H.temporaryDirectory("broken").appendingPathComponent(name)
        try data.prefix(data.count / 2).write(to: url)
        return url
    }

    /// Every frame `source` gives until its end.
    private static func readAll(_ location: String) async throws -> (frames: [Frame], stats: SourceStats) {
        let source = try await H.offPool { try FFmpegFrameSource(location: location) }
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel(); source.close() }
        let frames = try await H.offPool { try H.readAll(source) }
        #expect(try await H.offPool { try source.nextFrame() } == nil, "the end stays the end")
        return (frames, source.stats)
    }

    // MARK: Files

    @Test(arguments: [("hevc.mkv", "truncated-hevc.mkv"), ("h264.mp4", "truncated.h264"), ("hevc.mkv", "truncated.hevc")])
    func aTruncatedFileDecodesUpToTheCutAndEnds(_ original: String, _ name: String) async throws {
        let video = try #require(try await H.media().videos.first { $0.name == original })
        var whole = video.url
        if name.hasSuffix(".h264") || name.hasSuffix(".hevc") {
            // The raw elementary stream: no container, no index, the cut can fall inside any NAL unit.
            whole = try H.temporaryDirectory("raw").appendingPathComponent("whole." + (name as NSString).pathExtension)
            try await H.offPool { [whole] in try H.ffmpeg(["-i", video.url.path, "-c", "copy", whole.path]) }
        }
        let cut = try Self.halved(whole, as: name)
        let (frames, _) = try await Self.readAll(cut.path)
        #expect(frames.count > 0 && frames.count < video.frames, "\(name): \(frames.count) of \(video.frames) frames")
        #expect(frames.map(\.index) == Array(0..<frames.count))
        for (a, b) in zip(frames, frames.dropFirst()) { #expect(a.mediaTime < b.mediaTime) }
    }

    @Test(arguments: ["empty.mp4", "empty.h264", "empty.mjpg"])
    func anEmptyFileIsNotAVideo(_ name: String) async throws {
        let url = try H.temporaryDirectory("empty").appendingPathComponent(name)
        try Data().write(to: url)
        let error = try await H.decodeError { try FFmpegFrameSource(location: url.path) }
        #expect(error.code == .notAVideo, "\(error)")
        #expect(error.description == "\(url.path): not a video (empty file)", "\(error)")
    }

    @Test func aFileThatGrowsWhileItIsReadIsReadAtLeastAsFarAsItHadGrown() async throws {
        // A transport stream (no index: readable while it is written, like a recorder's current file).
        let ts = try #require(try await H.media().videos.first { $0.name == "h264.ts" })
        let whole = try Data(contentsOf: ts.url)
        let dir = try H.temporaryDirectory("growing")
        let half = dir.appendingPathComponent("half.ts"), growing = dir.appendingPathComponent("growing.ts")
        try whole.prefix(whole.count / 2).write(to: half)
        try whole.prefix(whole.count / 2).write(to: growing)
        let (halfFrames, _) = try await Self.readAll(half.path)

        let source = try await H.offPool { try FFmpegFrameSource(location: growing.path) }
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel(); source.close() }
        var frames = [try #require(try await H.offPool { try source.nextFrame() })]
        // The rest of the file arrives while the source is open.
        let handle = try FileHandle(forWritingTo: growing)
        try handle.seekToEnd()
        try handle.write(contentsOf: whole.dropFirst(whole.count / 2))
        try handle.close()
        frames += try await H.offPool { try H.readAll(source) }
        #expect(frames.count >= halfFrames.count && frames.count <= ts.frames,
                "\(frames.count) frames; the half alone gives \(halfFrames.count), the whole \(ts.frames)")
        #expect(frames.map(\.index) == Array(0..<frames.count))
        for (a, b) in zip(frames, frames.dropFirst()) { #expect(a.mediaTime < b.mediaTime) }
    }

    // MARK: Cameras

    @Test func aCameraThatSendsGarbageAfterItsFramesIsReconnected() async throws {
        // Every connection: three good frames, then random bytes for ever.
        let server = try await H.offPool { try H.startMJPEGServer(["--garbage-after", "3"]) }
        defer { server.stop() }
        let source = ReconnectingFrameSource(location: "http://127.0.0.1:\(server.port)/video.mjpg", options: H.liveOptions(),
                                             backoff: Backoff(initial: .milliseconds(50), maximum: .milliseconds(500)))
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel(); source.close() }
        let frames = try await H.offPool { try read(source, count: 7) }
        #expect(frames.map(\.index) == Array(0..<7))
        #expect(source.stats.reconnects >= 2, "\(source.stats)")
        #expect(source.stats.corruptPackets > 0, "\(source.stats)")
        // Each session starts at red again: frames 3 and 6 open the second and third sessions.
        for index in [0, 3, 6] {
            #expect(H.near(frames[index].image.pixel(x: 80, y: 60), [0, 0, 255], tolerance: 12), "frame \(index)")
        }
    }

    @Test func aCameraThatSendsOnlyGarbageAfterItsHeaderFailsClearly() async throws {
        let server = try await H.offPool { try H.startMJPEGServer(["--garbage-after", "0"]) }
        defer { server.stop() }
        var options = H.liveOptions()
        options.connectTimeout = .seconds(5)
        let url = "http://127.0.0.1:\(server.port)/video.mjpg"
        let error = try await H.decodeError { [options] in
            let source = try FFmpegFrameSource(location: url, options: options)
            defer { source.close() }
            while try source.nextFrame() != nil {}
        }
        #expect([.timeout, .notAVideo, .corruptData].contains(error.code), "\(error)")
        #expect(error.description.contains(url), "\(error)")
    }

    @Test func anMJPEGPartWithoutItsBoundaryIsSkipped() async throws {
        let server = try await H.offPool { try H.startMJPEGServer(["--drop-boundary-at", "4"]) }
        defer { server.stop() }
        let source = try await H.offPool { try FFmpegFrameSource(location: "http://127.0.0.1:\(server.port)/video.mjpg",
                                                                 options: H.liveOptions()) }
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel(); source.close() }
        let frames = try await H.offPool { try read(source, count: 10) }
        #expect(frames.map(\.index) == Array(0..<10))
        #expect(source.stats.corruptPackets > 0, "\(source.stats)")
        // Frames 0-3 are the server's 0-3; the part without a boundary is lost, and the stream goes on after it.
        for index in 0..<4 {
            let c = H.quadrantColours[index % 4]
            #expect(H.near(frames[index].image.pixel(x: 80, y: 60), [c.b, c.g, c.r], tolerance: 12), "frame \(index)")
        }
    }

    @Test func aCameraThatNeverSendsAFrameTimesOutAndIsRetried() async throws {
        let server = try await H.offPool { try H.startMJPEGServer(["--no-frames"]) }
        defer { server.stop() }
        let url = "http://user:secret@127.0.0.1:\(server.port)/video.mjpg"
        var options = H.liveOptions()
        options.connectTimeout = .seconds(1)
        let failures = FailureLog()
        let source = ReconnectingFrameSource(sourceDescription: url, backoff: Backoff(initial: .milliseconds(50), maximum: .milliseconds(200))) {
            [options] stop in
            do {
                return try FFmpegFrameSource(location: url, options: options, stop: stop)
            } catch {
                failures.append(error)
                throw error
            }
        }
        let watchdog = H.Watchdog(closing: source)
        defer { watchdog.cancel() }
        let reader = Task.detached { try? source.nextFrame() }
        let deadline = Date(timeIntervalSinceNow: 120)
        while failures.errors.count < 3, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        // Taken before closing: an attempt under way when the source is closed fails as `closed`, rightly.
        let errors = failures.errors
        source.close()
        _ = await reader.value
        #expect(errors.count >= 3)
        for error in errors {
            #expect((error as? DecodeError)?.code == .timeout, "\(error)")
            #expect("\(error)".contains("while connecting") && !"\(error)".contains("secret"), "\(error)")
        }
    }
}

/// Errors collected from any thread.
private final class FailureLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [any Error] = []
    func append(_ error: any Error) { lock.withLock { items.append(error) } }
    var errors: [any Error] { lock.withLock { items } }
}

private func read(_ source: some FrameSource, count: Int) throws -> [Frame] {
    var frames: [Frame] = []
    while frames.count < count, let frame = try source.nextFrame() { frames.append(frame) }
    return frames
}
