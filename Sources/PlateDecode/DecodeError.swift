import PlateCore

/// Why a source could not be opened or stopped delivering frames. Every error names its source, with
/// any password redacted.
///
/// A struct over a private enum so that cases can be added without breaking callers: match on `code`
/// (`error.code == .timeout`), not on the struct itself.
public struct DecodeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The kind of failure, compared with `==` against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case fileNotFound, notAVideo, unsupportedCodec, connectionRefused, authenticationFailed
            case streamNotFound, timeout, deviceMissing, streamEnded, corruptData, invalidOption, closed, ffmpeg
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The file does not exist.
        public static let fileNotFound = Code(.fileNotFound)
        /// The input exists but is no video FFmpeg can read (not media, no video stream, or no readable index).
        public static let notAVideo = Code(.notAVideo)
        /// The video stream's codec has no decoder.
        public static let unsupportedCodec = Code(.unsupportedCodec)
        /// Nothing listens at the host and port (TCP connection refused).
        public static let connectionRefused = Code(.connectionRefused)
        /// The server rejected the credentials (HTTP/RTSP 401 or 403).
        public static let authenticationFailed = Code(.authenticationFailed)
        /// The server has no stream at that path (HTTP/RTSP 404).
        public static let streamNotFound = Code(.streamNotFound)
        /// Connecting or reading took longer than its timeout.
        public static let timeout = Code(.timeout)
        /// The capture device (e.g. `/dev/video0`) does not exist.
        public static let deviceMissing = Code(.deviceMissing)
        /// A live stream ended or the connection dropped.
        public static let streamEnded = Code(.streamEnded)
        /// The data is damaged beyond what the decoder can skip.
        public static let corruptData = Code(.corruptData)
        /// An option or input format name was not understood.
        public static let invalidOption = Code(.invalidOption)
        /// The source was closed by its owner.
        public static let closed = Code(.closed)
        /// Any other FFmpeg failure; see `ffmpegCode` and `ffmpegMessage`.
        public static let ffmpeg = Code(.ffmpeg)

        /// The case name, e.g. `timeout`.
        public var description: String { value.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// The source, password redacted (`rtsp://admin:***@cam/stream`).
    public let source: String
    /// More about what happened, e.g. `after 10 s while connecting`; may be empty.
    public let detail: String
    /// FFmpeg's return code behind the failure, when there was one.
    public let ffmpegCode: Int32?
    /// FFmpeg's text for `ffmpegCode` (from `av_strerror`), when there was one.
    public let ffmpegMessage: String?

    /// Creates an error; `source` is redacted here, so passing a location with a password is safe.
    public init(_ code: Code, source: String, detail: String = "", ffmpegCode: Int32? = nil, ffmpegMessage: String? = nil) {
        self.code = code
        self.source = SourceURL.redacted(source)
        self.detail = detail
        self.ffmpegCode = ffmpegCode
        self.ffmpegMessage = ffmpegMessage
    }

    init(_ code: Code, source: String, detail: String = "", underlying: FFmpegError) {
        self.init(code, source: source, detail: detail, ffmpegCode: underlying.code, ffmpegMessage: underlying.message)
    }

    /// One line for logs and users, e.g. `rtsp://admin:***@cam/s: connection refused (FFmpeg: Connection refused)`.
    public var description: String {
        let what: String
        switch code {
        case .fileNotFound: what = "file not found"
        case .notAVideo: what = "not a video"
        case .unsupportedCodec: what = "unsupported codec"
        case .connectionRefused: what = "connection refused"
        case .authenticationFailed: what = "authentication failed"
        case .streamNotFound: what = "stream not found on the server"
        case .timeout: what = "timed out"
        case .deviceMissing: what = "no such capture device"
        case .streamEnded: what = "stream ended unexpectedly"
        case .corruptData: what = "corrupt data"
        case .invalidOption: what = "invalid option"
        case .closed: what = "source was closed"
        default: what = "FFmpeg error"
        }
        var text = "\(source): \(what)"
        if !detail.isEmpty { text += " \(detail)" }
        if let ffmpegMessage, let ffmpegCode { text += " (FFmpeg: \(ffmpegMessage), code \(ffmpegCode))" }
        return text
    }
}
