internal import CFFmpeg
public import Logging
import Foundation

/// Versions of the FFmpeg libraries PlateStream runs against.
public enum FFmpegVersion {
    /// libavcodec's version as `major.minor.micro`.
    public static var avcodec: String {
        let v = avcodec_version()
        return "\(v >> 16).\((v >> 8) & 0xff).\(v & 0xff)"
    }
}

/// Where FFmpeg's own log messages go.
///
/// FFmpeg prints to stderr by default; PlateStream replaces that with a callback that sends its messages
/// to a swift-log logger, one level lower than FFmpeg's (FFmpeg calls every damaged macroblock an error;
/// the source reports real failures itself): FFmpeg errors become warnings, warnings and info become
/// debug, verbose and debug become trace. `av_log_set_level` keeps FFmpeg from formatting messages the
/// logger would drop.
public enum FFmpegLogging {
    /// Sends FFmpeg's messages to `logger` from now on (until the next call).
    public static func route(to logger: Logger) {
        FFmpegRuntime.initialize()
        sink.set(logger)
        av_log_set_level(avLevel(for: logger.logLevel))
    }

    fileprivate static let sink = LoggerSink(Logger(label: "ffmpeg"))

    /// The most verbose FFmpeg level whose messages `level` keeps.
    static func avLevel(for level: Logger.Level) -> Int32 {
        switch level {
        case .trace: AV_LOG_DEBUG
        case .debug: AV_LOG_INFO
        case .info, .notice, .warning: AV_LOG_ERROR
        case .error, .critical: AV_LOG_FATAL
        }
    }

    static func swiftLevel(for avLevel: Int32) -> Logger.Level {
        if avLevel <= AV_LOG_FATAL { return .critical }
        if avLevel <= AV_LOG_ERROR { return .warning }
        if avLevel <= AV_LOG_INFO { return .debug }
        return .trace
    }
}

/// A logger that the FFmpeg callback (any thread) and `route(to:)` share.
final class LoggerSink: @unchecked Sendable {
    private let lock = NSLock()
    private var logger: Logger
    init(_ logger: Logger) { self.logger = logger }
    func set(_ logger: Logger) { lock.withLock { self.logger = logger } }
    var current: Logger { lock.withLock { logger } }
}

private func ffmpegLogCallback(_ context: UnsafeMutableRawPointer?, _ level: Int32,
                               _ format: UnsafePointer<CChar>?, _ arguments: CVaListPointer?) {
    guard level <= av_log_get_level(), let format, let arguments else { return }
    var line = [CChar](repeating: 0, count: 1024)
    var printPrefix: Int32 = 1
    line.withUnsafeMutableBufferPointer { buffer in
        _ = av_log_format_line2(context, level, format, arguments, buffer.baseAddress, Int32(buffer.count), &printPrefix)
    }
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    guard !text.isEmpty else { return }
    FFmpegLogging.sink.current.log(level: FFmpegLogging.swiftLevel(for: level), "\(redactingCredentials(text))")
}

/// `text` with passwords in URLs (`rtsp://user:***@host`) and the values of Authorization headers removed.
/// Why: FFmpeg prints whole HTTP/RTSP requests at debug level, Basic credentials included.
func redactingCredentials(_ text: String) -> String {
    var text = text
    if text.contains("://"), text.contains("@") {
        text.replace(/([A-Za-z][A-Za-z0-9+.\-]*:\/\/[^\/\s:@]*):[^\s\/]*@/) { "\($0.1):***@" }
    }
    if text.localizedCaseInsensitiveContains("authorization") {
        text.replace(/(?i)((?:proxy-)?authorization:)[^\r\n]*/) { "\($0.1) ***" }
    }
    return text
}

/// One-time global FFmpeg set-up: devices (V4L2), network, and FFmpeg's logging silenced on stderr
/// and routed to swift-log.
enum FFmpegRuntime {
    private static let once: Void = {
        avdevice_register_all()
        _ = avformat_network_init()
        av_log_set_level(AV_LOG_ERROR)
        av_log_set_callback(ffmpegLogCallback)
    }()

    static func initialize() { _ = once }
}
