import Foundation
import Testing
import PlateCore
import PlateDecode

// Shared helpers for the decode and CLI integration tests: test media made with the real `ffmpeg` CLI
// into a temp dir, child processes (always killed), loopback servers on free ports, watchdogs.

/// Helpers for the decode and CLI integration tests, in one namespace so they cannot clash with
/// other suites of this test target.
enum DecodeHarness {
    /// Starts `process`, one at a time across the whole test run. Why: Foundation's Process on Linux learns that a
    /// child exited when a socket the child inherited closes, and that socketpair is not close-on-exec; a child
    /// spawned by another thread in the same instant inherits it as well, and the first child's exit then goes
    /// unseen until the second exits (swift-corelibs-foundation #4795). waitUntilExit hung for good in a CI run
    /// where parallel tests started an RTSP server and the CLI together, with the dead children left as zombies.
    static func launch(_ process: Process) throws {
        try spawnLock.withLock { try process.run() }
    }
    private static let spawnLock = NSLock()

    /// The repository root (tests run from a fresh clone in CI; scripts live under it).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The platestream binary next to this test bundle (the build makes it: IntegrationTests depends on it).
    static func platestreamBinary() throws -> String {
        var candidates: [URL] = []
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        candidates.append(exe.deletingLastPathComponent())
        var bundle = Bundle.main.bundleURL
        while bundle.pathComponents.count > 1 {
            candidates.append(bundle)
            if bundle.pathExtension == "xctest" { candidates.append(bundle.deletingLastPathComponent()) }
            bundle.deleteLastPathComponent()
        }
        for dir in candidates {
            let path = dir.appendingPathComponent("platestream").path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue { return path }
        }
        throw HarnessError("platestream binary not found next to the tests (looked in \(candidates.map(\.path)))")
    }

    /// Runs blocking work (opening and reading sources, child processes, servers starting) on a thread of its
    /// own and awaits it. Why: a test that blocks holds one of Swift's cooperative threads, and a 2-core
    /// machine has 2 of them; blocking tests would starve every async test running beside them.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result(catching: body)) }
        }
    }

    /// The `DecodeError` that `body` throws (run off the cooperative pool); records an issue and throws
    /// when it throws nothing or something else.
    static func decodeError<T>(_ body: @escaping @Sendable () throws -> T,
                               sourceLocation: SourceLocation = #_sourceLocation) async throws -> DecodeError {
        do {
            try await offPool { _ = try body() }
        } catch let error as DecodeError {
            return error
        } catch {
            Issue.record("expected a DecodeError, got \(error)", sourceLocation: sourceLocation)
            throw error
        }
        Issue.record("expected a DecodeError, none was thrown", sourceLocation: sourceLocation)
        throw HarnessError("no error thrown")
    }

    /// The shared test media, made (once) off the cooperative pool.
    static func media() async throws -> TestMedia {
        try await offPool { try TestMedia.shared }
    }

    /// A failure of the test harness itself (a tool or server that did not start).
    struct HarnessError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// What a finished child process did.
    struct ProcessResult: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
        let timedOut: Bool
    }

    /// Runs `executable` to the end (killing it after `timeout` seconds, which only guards against hangs),
    /// with stdout and stderr captured through files so a chatty child can never block on a full pipe.
    static func runProcess(_ executable: String, _ arguments: [String], timeout: TimeInterval = 300) throws -> ProcessResult {
        let dir = try temporaryDirectory("proc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("stdout"), err = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try launch(process)
        let deadline = Date(timeIntervalSinceNow: timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus,
                             stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
                             timedOut: timedOut)
    }

    /// Runs the `ffmpeg` CLI quietly and throws with its stderr when it fails.
    static func ffmpeg(_ arguments: [String]) throws {
        let result = try runProcess("/usr/bin/ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-y"] + arguments)
        guard result.status == 0 else { throw HarnessError("ffmpeg \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
    }

    /// A new empty directory under the system temp dir.
    static func temporaryDirectory(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("platestream-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The colours of the quadrant test pattern, as (R, G, B): top-left, top-right, bottom-left, bottom-right.
    static let quadrantColours: [(r: Int, g: Int, b: Int)] = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]

    /// A lavfi graph of a 100x80 picture split into four solid 50x40 quadrants (red, green / blue, white).
    /// 100 pixels of BGR are 300 bytes, so the decoder pads rows to a 320-byte stride: checking every row
    /// checks the stride too.
    static let quadrantPattern = ["0xFF0000", "0x00FF00", "0x0000FF", "0xFFFFFF"].enumerated()
        .map { "color=c=\($0.element):s=50x40:r=25[q\($0.offset)]" }.joined(separator: ";")
        + ";[q0][q1]hstack[top];[q2][q3]hstack[bottom];[top][bottom]vstack,format=yuv420p[out0]"

    /// Media made once per test run with the real ffmpeg CLI, into a temp dir.
    struct TestMedia: Sendable {
        /// A generated video file and what it must decode to.
        struct Video: Sendable, CustomTestStringConvertible {
            let name: String
            let url: URL
            let codec: String
            let containerHint: String
            let frames: Int
            var testDescription: String { name }
        }

        let directory: URL
        /// Five containers/codecs, 320x240 at 25 fps.
        let videos: [Video]
        /// The quadrant pattern, 10 frames, lossless H.264 in mp4.
        let patternH264: URL
        /// The quadrant pattern, 10 frames, MJPEG in avi.
        let patternMJPEG: URL
        /// The quadrant pattern, 10 s, H.264 without B-frames, for the RTSP server.
        let patternLong: URL
        /// The quadrant pattern, 60 s, H.264 without B-frames: what the RTSP tests serve. Why so long: over UDP the
        /// server's end-of-stream BYE comes on the RTCP socket and can overtake RTP packets still queued on the other,
        /// so a client starved of CPU for the length of a short file (a loaded CI machine) saw the stream end early.
        let patternLive: URL
        /// The quadrant pattern, 10 frames, raw yuyv422 (a webcam's format), no header.
        let rawYUYV: URL
        /// H.264 mp4 (50 frames, index first) cut off halfway through its data.
        let truncated: URL
        /// A text file named .mp4.
        let textAsMP4: URL
        /// An audio-only file.
        let audioOnly: URL
        /// An MJPEG avi whose codec tag was overwritten with one no decoder knows.
        let unknownCodec: URL
        /// A 60-frame H.264 transport stream with garbage written over part of its middle.
        let damagedTS: URL

        /// The media, made on first use; every test that needs it shares it.
        static var shared: TestMedia {
            get throws { try cached.get() }
        }

        private static let cached: Result<TestMedia, any Error> = Result { try TestMedia.make() }

        /// The media directory, removed when the test process exits.
        nonisolated(unsafe) private static var madeDirectory: String?

        private static func make() throws -> TestMedia {
            let dir = try temporaryDirectory("media")
            madeDirectory = dir.path  // written once, before anyone reads it (under the static's once)
            atexit {
                if let path = TestMedia.madeDirectory { try? FileManager.default.removeItem(atPath: path) }
            }
            func url(_ name: String) -> URL { dir.appendingPathComponent(name) }
            let source = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"]
            let specs: [(String, [String], String, String, Int)] = [
                ("h264.mp4", ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"], "h264", "mp4", 50),
                ("hevc.mkv", ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p"],
                 "hevc", "matroska", 30),
                ("mjpeg.avi", ["-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p"], "mjpeg", "avi", 40),
                ("mpeg4.mov", ["-c:v", "mpeg4", "-q:v", "3"], "mpeg4", "mov", 45),
                ("h264.ts", ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"], "h264", "mpegts", 60),
            ]
            var videos: [Video] = []
            for (name, codecArgs, codec, container, frames) in specs {
                try ffmpeg(source + ["-frames:v", "\(frames)"] + codecArgs + [url(name).path])
                videos.append(Video(name: name, url: url(name), codec: codec, containerHint: container, frames: frames))
            }

            let pattern = ["-f", "lavfi", "-i", quadrantPattern]
            try ffmpeg(pattern + ["-frames:v", "10", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", url("pattern.mp4").path])
            try ffmpeg(pattern + ["-frames:v", "10", "-c:v", "mjpeg", "-q:v", "2", "-pix_fmt", "yuvj420p", url("pattern.avi").path])
            try ffmpeg(pattern + ["-frames:v", "250", "-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "25",
                                  "-pix_fmt", "yuv420p", url("pattern-long.mp4").path])
            try ffmpeg(pattern + ["-frames:v", "1500", "-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "25",
                                  "-pix_fmt", "yuv420p", url("pattern-live.mp4").path])
            try ffmpeg(pattern + ["-frames:v", "10", "-pix_fmt", "yuyv422", "-f", "rawvideo", url("pattern.yuyv").path])

            // Index (moov) first, so the cut leaves a readable index pointing past the end of the data.
            try ffmpeg(source + ["-frames:v", "50", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                                 "-movflags", "+faststart", url("whole.mp4").path])
            let whole = try Data(contentsOf: url("whole.mp4"))
            try whole.prefix(whole.count / 2).write(to: url("truncated.mp4"))

            try Data("This is a text file, not a video.\n".utf8).write(to: url("text.mp4"))
            try ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=1", url("audio.wav").path])

            try ffmpeg(pattern + ["-frames:v", "5", "-c:v", "mjpeg", url("known.avi").path])
            var avi = try Data(contentsOf: url("known.avi"))
            var replaced = 0
            for i in 0..<(avi.count - 4) where avi[i..<(i + 4)].elementsEqual("MJPG".utf8) {
                avi.replaceSubrange(i..<(i + 4), with: Data("ZQZQ".utf8))
                replaced += 1
            }
            guard replaced > 0 else { throw HarnessError("no MJPG tag in the avi to overwrite") }
            try avi.write(to: url("unknown-codec.avi"))

            try ffmpeg(source + ["-frames:v", "60", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                                 url("clean.ts").path])
            var ts = try Data(contentsOf: url("clean.ts"))
            var generator = SplitMix(seed: 42)
            let start = ts.count / 2
            for i in start..<min(start + 6000, ts.count) where i % 188 != 0 {  // keep sync bytes: damage payloads
                ts[i] = UInt8(truncatingIfNeeded: generator.next())
            }
            try ts.write(to: url("damaged.ts"))

            return TestMedia(directory: dir, videos: videos, patternH264: url("pattern.mp4"), patternMJPEG: url("pattern.avi"),
                             patternLong: url("pattern-long.mp4"), patternLive: url("pattern-live.mp4"), rawYUYV: url("pattern.yuyv"), truncated: url("truncated.mp4"),
                             textAsMP4: url("text.mp4"), audioOnly: url("audio.wav"), unknownCodec: url("unknown-codec.avi"),
                             damagedTS: url("damaged.ts"))
        }
    }

    /// A tiny deterministic random generator for damaging files the same way every run.
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Reads every frame to the end.
    static func readAll(_ source: any FrameSource) throws -> [Frame] {
        var frames: [Frame] = []
        while let frame = try source.nextFrame() { frames.append(frame) }
        return frames
    }

    /// Whether `value` is within `tolerance` of `expected`, for each channel.
    static func near(_ value: [UInt8], _ expected: [Int], tolerance: Int) -> Bool {
        value.count == expected.count && zip(value, expected).allSatisfy { abs(Int($0) - $1) <= tolerance }
    }

    /// Checks every row of a decoded quadrant-pattern frame (through `stride`), away from the quadrant
    /// edges where chroma subsampling blends colours.
    static func expectQuadrants(_ image: Image, tolerance: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(image.width == 100 && image.height == 80, sourceLocation: sourceLocation)
        guard image.width == 100, image.height == 80 else { return }
        var bad: [String] = []
        for y in 0..<80 where y % 40 >= 4 && y % 40 < 36 {
            for x in stride(from: 4, to: 100, by: 5) where x % 50 >= 4 && x % 50 < 46 {
                let quadrant = (y < 40 ? 0 : 2) + (x < 50 ? 0 : 1)
                let c = quadrantColours[quadrant]
                let expected: [Int]
                switch image.format {
                case .bgr24: expected = [c.b, c.g, c.r]
                case .rgb24: expected = [c.r, c.g, c.b]
                case .gray8:
                    // BT.601 luma, what swscale's yuv -> gray keeps.
                    expected = [Int((0.299 * Double(c.r) + 0.587 * Double(c.g) + 0.114 * Double(c.b)).rounded())]
                }
                let pixel = image.pixel(x: x, y: y)
                if !near(pixel, expected, tolerance: tolerance) { bad.append("(\(x),\(y)) \(pixel) != \(expected)") }
            }
        }
        #expect(bad.isEmpty, "\(bad.count) wrong pixels, e.g. \(bad.prefix(4))", sourceLocation: sourceLocation)
    }

    /// A port nothing listens on right now (bound to an ephemeral port, then closed).
    static func closedLoopbackPort() throws -> Int {
        let listener = try LoopbackListener()
        let port = listener.port
        listener.close()
        return port
    }

    /// A TCP socket listening on 127.0.0.1 that never accepts: connections complete in the kernel's
    /// backlog, and then nothing is ever said, like a hung camera.
    final class LoopbackListener: @unchecked Sendable {
        private var fd: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw HarnessError("socket() failed") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(fd, 16) == 0 else {
                _ = Glibc.close(fd)
                throw HarnessError("bind/listen failed")
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            self.fd = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        func close() {
            if fd >= 0 { _ = Glibc.close(fd) }
            fd = -1
        }

        deinit { close() }
    }

    /// A loopback server script (`scripts/rtsp-server.py`, `scripts/mjpeg-server.py`) run with the system
    /// Python; it prints `READY <port>` when it listens. Killed on `stop()` and in deinit.
    final class ServerProcess: @unchecked Sendable {
        let port: Int
        private let process: Process
        private let output: URL

        init(script: String, arguments: [String]) throws {
            output = try temporaryDirectory("server").appendingPathComponent("stdout")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [repositoryRoot.appendingPathComponent("scripts/\(script)").path] + arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = try FileHandle(forWritingTo: output)
            try DecodeHarness.launch(process)
            // Generous: a loaded 2-core machine can take seconds to import GStreamer.
            let deadline = Date(timeIntervalSinceNow: 120)
            while true {
                let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
                if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }),
                   let port = Int(line.dropFirst("READY ".count)) {
                    self.port = port
                    return
                }
                if !process.isRunning || Date() > deadline {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    throw HarnessError("\(script) did not start: \(text)")
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }

        /// Kills the server at once (SIGKILL: no goodbye to its clients) and waits for it to exit.
        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }

        /// Freezes the server without closing its connections (SIGSTOP), like a hung camera.
        func freeze() { kill(process.processIdentifier, SIGSTOP) }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGCONT) }
            stop()
            try? FileManager.default.removeItem(at: output.deletingLastPathComponent())
        }
    }

    /// Starts `scripts/rtsp-server.py` serving `file`, on `port` (0: a free one).
    static func startRTSPServer(file: URL, port: Int = 0, extra: [String] = []) throws -> ServerProcess {
        try ServerProcess(script: "rtsp-server.py", arguments: ["--file", file.path, "--port", "\(port)"] + extra)
    }

    /// Starts `scripts/mjpeg-server.py` on a free port.
    static func startMJPEGServer(_ extra: [String] = []) throws -> ServerProcess {
        try ServerProcess(script: "mjpeg-server.py", arguments: ["--port", "0"] + extra)
    }

    /// Closes `source` if the test is still running after `seconds`: a broken source then fails its test
    /// instead of hanging the run. Not a timing assertion: working code finishes long before.
    final class Watchdog: @unchecked Sendable {
        private let lock = NSLock()
        private var cancelled = false
        private(set) var fired = false

        init(seconds: Double = 180, closing source: any FrameSource) {
            nonisolated(unsafe) let target = source
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
                let fire = lock.withLock { () -> Bool in
                    if cancelled { return false }
                    fired = true
                    return true
                }
                if fire { target.close() }
            }
        }

        func cancel() { lock.withLock { cancelled = true } }
    }

    /// Decode options for tests on a loaded machine: generous timeouts.
    static func liveOptions(transport: DecodeOptions.Transport = .tcp, readTimeout: Duration = .seconds(20)) -> DecodeOptions {
        var options = DecodeOptions()
        options.transport = transport
        options.connectTimeout = .seconds(30)
        options.readTimeout = readTimeout
        return options
    }
}
