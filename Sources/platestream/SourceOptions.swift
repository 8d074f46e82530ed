import ArgumentParser
import Foundation
import Logging
import PlateCore
import PlateDecode

/// RTSP transport, as the command line spells it.
enum TransportOption: String, CaseIterable, ExpressibleByArgument {
    case tcp, udp
}

/// The options every command that opens a source shares: how to reach and read the input.
struct SourceOptions: ParsableArguments {
    @Option(help: "RTSP transport: tcp or udp.")
    var transport: TransportOption = .tcp

    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait when opening a live source.")
    var connectTimeout: Double = 10

    @Option(name: .customLong("read-timeout"), help: "Seconds to wait for data from a live source before giving up on it.")
    var readTimeout: Double = 10

    @Option(name: [.customShort("f"), .customLong("format")],
            help: "FFmpeg input format, e.g. rawvideo, mjpeg, v4l2 (default: probe the input).")
    var format: String?

    @Option(name: .customLong("video-size"), help: "Input frame size WIDTHxHEIGHT (raw input, capture devices).")
    var videoSize: String?

    @Option(help: "Input frame rate, e.g. 25 or 30000/1001 (raw input, capture devices).")
    var framerate: String?

    @Option(name: .customLong("pixel-format"),
            help: "Input pixel format, e.g. yuyv422 or mjpeg (raw input, capture devices).")
    var pixelFormat: String?

    @Option(name: .customLong("option"), help: ArgumentHelp("Extra FFmpeg input option (repeatable).", valueName: "key=value"))
    var extraOptions: [String] = []

    @Option(help: "Decoder threads (0: one per core for one source, one per camera with several).")
    var threads: Int = 0

    func validate() throws {
        guard connectTimeout > 0, readTimeout > 0 else {
            throw ValidationError("--connect-timeout and --read-timeout must be positive")
        }
        if let videoSize, videoSize.wholeMatch(of: /[1-9][0-9]*x[1-9][0-9]*/) == nil {
            throw ValidationError("--video-size must look like 1280x720, got \"\(videoSize)\"")
        }
        if let framerate {
            let parts = framerate.split(separator: "/", omittingEmptySubsequences: false).map { Double($0) }
            guard (1...2).contains(parts.count), parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw ValidationError("--framerate must be a positive number or fraction like 30000/1001, got \"\(framerate)\"")
            }
        }
        for option in extraOptions where option.firstIndex(of: "=").map({ $0 == option.startIndex }) ?? true {
            throw ValidationError("--option must be key=value, got \"\(option)\"")
        }
        guard threads >= 0 else { throw ValidationError("--threads must be 0 or more") }
    }

    /// The options for `FFmpegFrameSource`.
    func decodeOptions() -> DecodeOptions {
        var options = DecodeOptions()
        options.transport = transport == .udp ? .udp : .tcp
        options.connectTimeout = .milliseconds(Int64(connectTimeout * 1000))
        options.readTimeout = .milliseconds(Int64(readTimeout * 1000))
        options.inputFormat = format
        options.videoSize = videoSize
        options.frameRate = framerate
        options.inputPixelFormat = pixelFormat
        options.threads = threads
        for option in extraOptions {
            let equals = option.firstIndex(of: "=")!
            options.formatOptions[String(option[..<equals])] = String(option[option.index(after: equals)...])
        }
        return options
    }
}

/// `--log-level`, and the one-time swift-log set-up (to stderr, so stdout stays parseable).
struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default: the config's log_level, else info).")
    var logLevel: String?

    func validate() throws {
        guard logLevel.map({ Logger.Level(rawValue: $0) != nil }) ?? true else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    /// Sends swift-log (and FFmpeg's messages through it) to stderr at the chosen level: `--log-level`,
    /// else `configured` (a config file's `log_level`), else info.
    func bootstrap(configured: String? = nil) -> Logger {
        let level = (logLevel ?? configured).flatMap { Logger.Level(rawValue: $0) } ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        FFmpegLogging.route(to: Logger(label: "ffmpeg"))
        return Logger(label: "platestream")
    }
}
