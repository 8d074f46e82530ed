import ArgumentParser
import Foundation
import PlateCore
import PlateDecode

/// `platestream probe <source>`: opens a source once and prints what it is.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Open a file or camera and print its codec, resolution, frame rate and duration."
    )

    @Argument(help: "A video file, rtsp://, http(s)://, /dev/videoN, or - for standard input.")
    var source: String

    @OptionGroup var input: SourceOptions
    @OptionGroup var logging: LoggingOptions

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    /// The JSON `probe --json` prints; absent values are left out.
    struct Report: Encodable {
        let source: String
        let container: String
        let codec: String
        let pixelFormat: String
        let width: Int
        let height: Int
        let fps: Double
        let durationSeconds: Double?
        let frameCount: Int?
        let bitRate: Int?
        let live: Bool

        enum CodingKeys: String, CodingKey {
            case source, container, codec, width, height, fps, live
            case pixelFormat = "pixel_format", durationSeconds = "duration_sec", frameCount = "frame_count"
            case bitRate = "bit_rate"
        }
    }

    func run() throws {
        let logger = logging.bootstrap()
        let opened = try FFmpegFrameSource(location: source, options: input.decodeOptions(), logger: logger)
        defer { opened.close() }
        let info = opened.info
        let report = Report(source: opened.sourceDescription, container: info.container, codec: info.codec,
                            pixelFormat: opened.streamPixelFormat, width: info.width, height: info.height,
                            fps: info.fps, durationSeconds: info.durationSeconds, frameCount: info.frameCount,
                            bitRate: info.bitRate, live: info.isLive)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("source:      \(report.source)")
        print("container:   \(report.container)")
        print("codec:       \(report.codec) (\(report.pixelFormat))")
        print("resolution:  \(report.width)x\(report.height)")
        print("fps:         \(formatFPS(report.fps))")
        print("duration:    \(report.durationSeconds.map { String(format: "%.3f s", $0) } ?? (report.live ? "live" : "unknown"))")
        if let frames = report.frameCount { print("frames:      \(frames)") }
        if let bitRate = report.bitRate { print("bit rate:    \(String(format: "%.0f kb/s", Double(bitRate) / 1000))") }
        print("live:        \(report.live ? "yes" : "no")")
    }
}

/// `25`, or `29.97` when not whole.
private func formatFPS(_ fps: Double) -> String {
    fps == fps.rounded() ? String(Int(fps)) : String(format: "%.3f", fps)
}
