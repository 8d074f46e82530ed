import Foundation
import Testing
import PlateCore
@testable import PlateDecode

private typealias H = DecodeHarness

/// FFmpegFrameSource on files made by the real ffmpeg CLI: containers and codecs, exact counts and
/// timestamps, pixel values and layout in every output format, sampling, raw and piped webcam-like input.
/// Decoding runs off the cooperative pool (`H.offPool`); the checks run in the test.
@Suite struct DecodeFileTests {
    @Test(arguments: ["h264.mp4", "hevc.mkv", "mjpeg.avi", "mpeg4.mov", "h264.ts"])
    func decodesEveryFrameWithExactTimestamps(_ name: String) async throws {
        let video = try #require(try await H.media().videos.first { $0.name == name })
        let source = try await H.offPool { try FFmpegFrameSource(location: video.url.path) }
        defer { source.close() }
        let info = source.info
        #expect(info.codec == video.codec)
        #expect(info.container.contains(video.containerHint))
        #expect(info.width == 320 && info.height == 240)
        #expect(info.fps == 25)
        #expect(!info.isLive)
        let duration = try #require(info.durationSeconds)
        #expect(abs(duration - Double(video.frames) / 25) < 0.1, "duration \(duration)")
        if let count = info.frameCount { #expect(count == video.frames) }

        let frames = try await H.offPool { try H.readAll(source) }
        #expect(frames.count == video.frames)
        #expect(frames.map(\.index) == Array(0..<video.frames))
        // Frame k shows at exactly k/25 s, measured from the stream's start (the ts starts at 1.4 s).
        let wrong = frames.filter { $0.mediaTime != MediaTime(value: Int64($0.index), timescale: 25) }
        #expect(wrong.isEmpty, "first wrong: \(wrong.first.map { "#\($0.index) at \($0.mediaTime.value)/\($0.mediaTime.timescale)" } ?? "")")
        for (a, b) in zip(frames, frames.dropFirst()) {
            #expect(a.mediaTime < b.mediaTime)
            #expect(a.wallClock <= b.wallClock)
        }
        #expect(frames.allSatisfy { $0.image.format == .bgr24 && $0.image.width == 320 && $0.image.height == 240 })
        #expect(frames.allSatisfy { $0.cameraID == CameraID(video.url.path) })
        #expect(source.stats.decoded == video.frames)
        #expect(source.stats.delivered == video.frames)
        #expect(source.stats.corruptPackets == 0)
        // The clean end stays the end.
        let after = try await H.offPool { try source.nextFrame() }
        #expect(after == nil)
    }

    /// `keepPlanes` holds each frame as a copy of the decoder's planes (YUV 4:2:0, 4:2:2 for MJPEG) and converts
    /// when read: the pixels must be byte for byte what converting at once gives, on any thread, after the source
    /// closed, and on every read.
    @Test(arguments: ["h264.mp4", "hevc.mkv", "mjpeg.avi", "mpeg4.mov", "h264.ts"])
    func framesKeptAsPlanesConvertToTheSamePixels(_ name: String) async throws {
        let video = try #require(try await H.media().videos.first { $0.name == name })
        var options = DecodeOptions()
        options.keepPlanes = true
        let kept = try await H.offPool { [options] in try H.readAll(try FFmpegFrameSource(location: video.url.path, options: options)) }
        let packed = try await H.offPool { try H.readAll(try FFmpegFrameSource(location: video.url.path)) }
        #expect(kept.count == video.frames && packed.count == video.frames)
        #expect(kept.allSatisfy { $0.picture.isDeferred && $0.picture.heldBytes < 320 * 240 * 3 })
        #expect(packed.allSatisfy { !$0.picture.isDeferred })
        // Read on several threads at once (the sources are closed and gone by now).
        let differing = try await withThrowingTaskGroup(of: Int.self) { group in
            for (a, b) in zip(kept, packed) {
                group.addTask { try await H.offPool { Self.sameBytes(a.image, b.image) && Self.sameBytes(a.image, a.image) ? 0 : 1 } }
            }
            return try await group.reduce(0, +)
        }
        #expect(differing == 0, "\(differing) of \(kept.count) frames differ")

        // A picture the first pass does not scale (it fits the 512x512 input) is read whole by the first pass and the
        // gate: it is converted at once, not kept as planes.
        options.firstPass = FirstPassSizing(inputs: [ImageSize(width: 512, height: 512)])
        let small = try await H.offPool { [options] in try H.readAll(try FFmpegFrameSource(location: video.url.path, options: options)) }
        #expect(small.count == video.frames)
        #expect(small.allSatisfy { !$0.picture.isDeferred && $0.scaled == nil })
    }

    private static func sameBytes(_ a: Image, _ b: Image) -> Bool {
        guard a.width == b.width, a.height == b.height, a.format == b.format else { return false }
        let row = a.width * a.format.bytesPerPixel
        return (0..<a.height).allSatisfy { y in
            memcmp(a.buffer.bytes + y * a.stride, b.buffer.bytes + y * b.stride, row) == 0
        }
    }

    @Test(arguments: [PixelFormat.bgr24, .rgb24, .gray8])
    func convertsThePatternIntoEachFormatWithRowsAtTheStride(_ format: PixelFormat) async throws {
        var options = DecodeOptions()
        options.outputFormat = format
        let path = try await H.media().patternH264.path
        let frames = try await H.offPool { [options] in try H.readAll(try FFmpegFrameSource(location: path, options: options)) }
        #expect(frames.count == 10)
        for frame in frames {
            #expect(frame.image.format == format)
            #expect(frame.image.stride >= 100 * format.bytesPerPixel)
            #expect(frame.image.buffer.count >= frame.image.stride * 80)
            H.expectQuadrants(frame.image, tolerance: 6)
        }
    }

    @Test func padsRowsTo64Bytes() async throws {
        let path = try await H.media().patternH264.path
        let frame = try #require(try await H.offPool { try FFmpegFrameSource(location: path).nextFrame() })
        // 100 BGR pixels are 300 bytes; rows are padded to 320 so row y starts at y * 320.
        #expect(frame.image.stride == 320)
    }

    @Test func decodesFullRangeMJPEGColours() async throws {
        let path = try await H.media().patternMJPEG.path
        let source = try await H.offPool { try FFmpegFrameSource(location: path) }
        #expect(source.info.codec == "mjpeg")
        let frames = try await H.offPool { try H.readAll(source) }
        #expect(frames.count == 10)
        for frame in frames { H.expectQuadrants(frame.image, tolerance: 14) }
    }

    @Test func keepsEveryNthFrame() async throws {
        var options = DecodeOptions()
        options.sampleEvery = 5
        options.skipUnusedFrames = false
        let (frames, stats) = try await decode(try h264MP4(), options)
        #expect(frames.map(\.index) == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45])
        #expect(frames.allSatisfy { $0.mediaTime == MediaTime(value: Int64($0.index), timescale: 25) })
        #expect(stats.decoded == 50)
        #expect(stats.delivered == 10)
        #expect(stats.droppedBySampling == 40)
        #expect(stats.notDecoded == 0)
    }

    /// Sampling with frames left undecoded delivers exactly the frames, times and pixels that decoding every
    /// frame does, in every codec and with one decoder thread or several; what it leaves out depends on the codec.
    @Test(arguments: ["h264.mp4", "hevc.mkv", "mjpeg.avi", "mpeg4.mov", "h264.ts"], [1, 0])
    func leavesFramesTheSamplerDropsUndecoded(_ name: String, threads: Int) async throws {
        let video = try #require(try await H.media().videos.first { $0.name == name })
        var options = DecodeOptions()
        options.sampleEvery = 3
        options.threads = threads
        var all = options
        all.skipUnusedFrames = false
        let (skipped, stats) = try await decode(video.url, options)
        let (reference, _) = try await decode(video.url, all)
        #expect(skipped.map(\.index) == Array(stride(from: 0, to: video.frames, by: 3)))
        #expect(skipped.map(\.index) == reference.map(\.index))
        #expect(skipped.map(\.mediaTime) == reference.map(\.mediaTime))
        for (x, y) in zip(skipped, reference) {
            #expect(memcmp(x.image.buffer.bytes, y.image.buffer.bytes, x.image.stride * x.image.height) == 0, "frame \(x.index)")
        }
        #expect(stats.delivered == skipped.count)
        #expect(stats.decoded + stats.notDecoded == video.frames)
        #expect(stats.droppedBySampling == stats.decoded - stats.delivered)
        switch name {
        case "mjpeg.avi": #expect(stats.notDecoded == video.frames - skipped.count)  // intra-only: every unused frame
        case "h264.mp4", "h264.ts": #expect(stats.notDecoded > 0)                 // x264's non-reference B-frames
        default: break
        }
    }

    @Test func aStreamWithoutNonReferenceFramesDecodesThemAll() async throws {
        var options = DecodeOptions()
        options.sampleEvery = 2
        let (frames, stats) = try await decode(try await H.media().patternLong, options)  // -bf 0: every frame a reference
        #expect(frames.map(\.index) == Array(stride(from: 0, to: 250, by: 2)))
        #expect(stats.notDecoded == 0 && stats.decoded == 250)
    }

    @Test func theFirstPassPictureIsScaledFromTheDecodedPlanes() async throws {
        var options = DecodeOptions()
        // 100x80 into 64x48 (or a 40x40 second input that holds it at under 95 % of that scale): 0.6, 60x48.
        options.firstPass = FirstPassSizing(inputs: [ImageSize(width: 64, height: 48), ImageSize(width: 40, height: 40)])
        let path = try await H.media().patternH264.path
        let frames = try await H.offPool { [options] in try H.readAll(try FFmpegFrameSource(location: path, options: options)) }
        #expect(frames.count == 10)
        for frame in frames {
            let scaled = try #require(frame.scaled)
            #expect(scaled.width == 60 && scaled.height == 48 && scaled.format == .bgr24)
            H.expectQuadrants(frame.image, tolerance: 6)
            // Each quadrant keeps its colour away from the edges between them (an area average blurs only those).
            for (qx, qy, q) in [(15, 12, 0), (45, 12, 1), (15, 36, 2), (45, 36, 3)] {
                let c = H.quadrantColours[q]
                let p = scaled.pixel(x: qx, y: qy).map(Int.init)
                #expect(abs(p[0] - c.b) <= 8 && abs(p[1] - c.g) <= 8 && abs(p[2] - c.r) <= 8, "quadrant \(q): \(p)")
            }
        }
        // A picture the first pass would not shrink gets no scaled copy.
        options.firstPass = FirstPassSizing(inputs: [ImageSize(width: 200, height: 160)])
        let frame = try await H.offPool { [options] in try FFmpegFrameSource(location: path, options: options).nextFrame() }
        #expect(frame?.scaled == nil)
    }

    /// A camera that switches resolution and chroma format mid-stream (a transport stream of two full-range parts): every
    /// frame decodes, the full picture and the first pass's picture follow the new size, and the colours stay
    /// right in both parts (swscale's colour details are set again for the new converter).
    @Test func aStreamThatChangesSizeAndPixelFormatMidwayDecodesThrough() async throws {
        let dir = try H.temporaryDirectory("switch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pattern = ["-f", "lavfi", "-i", H.quadrantPattern]
        let small = dir.appendingPathComponent("a.ts"), large = dir.appendingPathComponent("b.ts")
        try H.ffmpeg(pattern + ["-frames:v", "10", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuvj420p", small.path])
        try H.ffmpeg(pattern + ["-frames:v", "10", "-vf", "scale=300:240:flags=neighbor", "-c:v", "libx264", "-qp", "0",
                                "-pix_fmt", "yuvj444p", large.path])
        let joined = dir.appendingPathComponent("switch.ts")
        try (try Data(contentsOf: small) + Data(contentsOf: large)).write(to: joined)
        var options = DecodeOptions()
        options.firstPass = FirstPassSizing(inputs: [ImageSize(width: 64, height: 48)])
        let frames = try await H.offPool { [options] in try H.readAll(try FFmpegFrameSource(location: joined.path, options: options)) }
        #expect(frames.count == 20)
        #expect(frames.prefix(10).allSatisfy { $0.image.width == 100 && $0.image.height == 80 && $0.scaled?.width == 60 })
        #expect(frames.suffix(10).allSatisfy { $0.image.width == 300 && $0.image.height == 240 && $0.scaled?.width == 60 && $0.scaled?.height == 48 })
        for frame in frames {
            for picture in [frame.image, try #require(frame.scaled)] {
                for (fx, fy, q) in [(0.25, 0.25, 0), (0.75, 0.25, 1), (0.25, 0.75, 2), (0.75, 0.75, 3)] {
                    let c = H.quadrantColours[q]
                    let p = picture.pixel(x: Int(fx * Double(picture.width)), y: Int(fy * Double(picture.height))).map(Int.init)
                    #expect(abs(p[0] - c.b) <= 8 && abs(p[1] - c.g) <= 8 && abs(p[2] - c.r) <= 8,
                            "frame \(frame.index) \(picture.width)x\(picture.height) quadrant \(q): \(p)")
                }
            }
        }
    }

    @Test func capsTheFrameRate() async throws {
        var options = DecodeOptions()
        options.maxFPS = 10
        let (frames, stats) = try await decode(try h264MP4(), options)
        // 2 s at 25 fps capped to 10 fps: the first frame of each 0.1 s slot.
        #expect(frames.count == 20)
        #expect(Array(frames.map(\.index).prefix(6)) == [0, 3, 5, 8, 10, 13])
        #expect(stats.droppedBySampling == 30)
    }

    @Test func sameFramesWithOneThreadAsWithMany() async throws {
        let file = try await h264MP4()
        var reference: [Frame] = []
        for threads in [1, 0, 2] {
            var options = DecodeOptions()
            options.threads = threads
            let (frames, _) = try await decode(file, options)
            #expect(frames.map(\.index) == Array(0..<50), "threads=\(threads)")
            if reference.isEmpty { reference = frames; continue }
            for (x, y) in zip(reference, frames) {
                let size = x.image.stride * x.image.height
                #expect(memcmp(x.image.buffer.bytes, y.image.buffer.bytes, size) == 0, "frame \(x.index), threads=\(threads)")
            }
        }
    }

    // MARK: Webcam-like input: explicit input format and options

    @Test func decodesRawYUYV422WithInputOptions() async throws {
        var options = DecodeOptions()
        options.inputFormat = "rawvideo"
        options.videoSize = "100x80"
        options.inputPixelFormat = "yuyv422"
        options.frameRate = "25"
        let path = try await H.media().rawYUYV.path
        let source = try await H.offPool { [options] in try FFmpegFrameSource(location: path, options: options) }
        #expect(source.info.codec == "rawvideo")
        #expect(source.streamPixelFormat == "yuyv422")
        #expect(source.info.width == 100 && source.info.height == 80 && source.info.fps == 25)
        let frames = try await H.offPool { try H.readAll(source) }
        #expect(frames.count == 10)
        #expect(frames.allSatisfy { $0.mediaTime == MediaTime(value: Int64($0.index), timescale: 25) })
        for frame in frames { H.expectQuadrants(frame.image, tolerance: 6) }
    }

    @Test func decodesMJPEGFromAPipe() async throws {
        let dir = try H.temporaryDirectory("fifo")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("camera.mjpeg")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        // The writer: ffmpeg producing 12 MJPEG frames into the pipe, as a webcam's MJPEG would arrive.
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        writer.arguments = ["-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", H.quadrantPattern,
                            "-frames:v", "12", "-c:v", "mjpeg", "-q:v", "2", "-f", "mjpeg", fifo.path]
        writer.standardOutput = FileHandle.nullDevice
        writer.standardError = FileHandle.nullDevice
        try H.launch(writer)
        defer {
            if writer.isRunning { kill(writer.processIdentifier, SIGKILL) }
            writer.waitUntilExit()
        }
        var options = DecodeOptions()
        options.inputFormat = "mjpeg"
        options.frameRate = "25"
        let source = try await H.offPool { [options] in try FFmpegFrameSource(location: fifo.path, options: options) }
        #expect(source.info.codec == "mjpeg")
        let frames = try await H.offPool { try H.readAll(source) }
        #expect(frames.count == 12)
        #expect(frames.map(\.index) == Array(0..<12))
        for (a, b) in zip(frames, frames.dropFirst()) { #expect(a.mediaTime < b.mediaTime) }
        for frame in frames { H.expectQuadrants(frame.image, tolerance: 14) }
    }

    @Test func rejectsOptionsTheInputDoesNotUnderstand() async throws {
        var options = DecodeOptions()
        options.formatOptions = ["no_such_option": "1"]
        let path = try await h264MP4().path
        let error = try await H.decodeError { [options] in try FFmpegFrameSource(location: path, options: options) }
        #expect(error.code == .invalidOption)
        #expect(error.description.contains("no_such_option"))
        #expect(error.source == path)

        var unknown = DecodeOptions()
        unknown.inputFormat = "no_such_format"
        let error2 = try await H.decodeError { [unknown] in try FFmpegFrameSource(location: path, options: unknown) }
        #expect(error2.code == .invalidOption)
        #expect(error2.description.contains("no_such_format"))
    }

    // MARK: Bad inputs

    @Test func missingFileIsFileNotFound() async throws {
        let path = try await H.media().directory.appendingPathComponent("no-such-video.mp4").path
        let error = try await H.decodeError { try FFmpegFrameSource(location: path) }
        #expect(error.code == .fileNotFound)
        #expect(error.source == path)
        #expect(error.description.contains(path))
    }

    @Test func textFileIsNotAVideo() async throws {
        let path = try await H.media().textAsMP4.path
        let error = try await H.decodeError { try FFmpegFrameSource(location: path) }
        #expect(error.code == .notAVideo)
        #expect(error.description.contains(path))
        #expect(error.ffmpegCode != nil && error.ffmpegMessage != nil)
    }

    @Test func audioOnlyFileIsNotAVideo() async throws {
        let path = try await H.media().audioOnly.path
        let error = try await H.decodeError { try FFmpegFrameSource(location: path) }
        #expect(error.code == .notAVideo)
        #expect(error.description.contains("no video stream"))
    }

    @Test func unknownCodecIsUnsupported() async throws {
        let path = try await H.media().unknownCodec.path
        let error = try await H.decodeError { try FFmpegFrameSource(location: path) }
        #expect(error.code == .unsupportedCodec)
        #expect(error.description.contains(path))
    }

    @Test func truncatedFileDecodesUpToTheDamage() async throws {
        let path = try await H.media().truncated.path
        let source = try await H.offPool { try FFmpegFrameSource(location: path) }
        #expect(source.info.frameCount == 50)  // the index still promises all of them
        let frames = try await H.offPool { try H.readAll(source) }
        #expect(frames.count > 5 && frames.count < 50, "\(frames.count) frames")
        #expect(frames.map(\.index) == Array(0..<frames.count))
        for (a, b) in zip(frames, frames.dropFirst()) { #expect(a.mediaTime < b.mediaTime) }
        #expect(source.stats.corruptPackets > 0)
        let after = try await H.offPool { try source.nextFrame() }
        #expect(after == nil)
    }

    @Test func damagedTransportStreamDecodesAroundTheDamage() async throws {
        let (frames, stats) = try await decode(try await H.media().damagedTS, DecodeOptions())
        // Garbage over ~6 KB of a 60-frame stream: most frames survive, none crash the decoder.
        #expect(frames.count >= 30 && frames.count <= 60, "\(frames.count) frames")
        #expect(stats.corruptPackets > 0)
        for (a, b) in zip(frames, frames.dropFirst()) { #expect(a.mediaTime < b.mediaTime) }
    }

    @Test func closeEndsTheSource() async throws {
        let path = try await h264MP4().path
        let source = try await H.offPool { try FFmpegFrameSource(location: path) }
        _ = try await H.offPool { try source.nextFrame() }
        source.close()
        let error = try await H.decodeError { try source.nextFrame() }
        #expect(error.code == .closed)
    }

    @Test func bundledSamplesMatchTheirManifest() async throws {
        struct Manifest: Decodable {
            struct Sample: Decodable {
                let file: String, codec: String, width: Int, height: Int, fps: Double, frames: Int
            }
            let samples: [Sample]
        }
        let samples = H.repositoryRoot.appendingPathComponent("Samples")
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: samples.appendingPathComponent("samples.json")))
        #expect(manifest.samples.contains { $0.file == "traffic.mp4" })  // the decode samples
        for sample in manifest.samples {
            let path = samples.appendingPathComponent(sample.file).path
            let source = try await H.offPool { try FFmpegFrameSource(location: path) }
            #expect(source.info.codec == sample.codec, "\(sample.file)")
            #expect(source.info.width == sample.width && source.info.height == sample.height, "\(sample.file)")
            #expect(source.info.fps == sample.fps, "\(sample.file)")
            let frames = try await H.offPool { try H.readAll(source) }
            #expect(frames.count == sample.frames, "\(sample.file)")
            #expect(frames.last?.mediaTime == MediaTime(value: Int64(sample.frames - 1), timescale: Int64(sample.fps)))
        }
    }

    /// Decodes a whole file off the pool.
    private func decode(_ file: URL, _ options: DecodeOptions) async throws -> ([Frame], SourceStats) {
        try await H.offPool {
            let source = try FFmpegFrameSource(location: file.path, options: options)
            return (try H.readAll(source), source.stats)
        }
    }

    private func h264MP4() async throws -> URL {
        try #require(try await H.media().videos.first { $0.name == "h264.mp4" }).url
    }
}
