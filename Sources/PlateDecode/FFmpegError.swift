internal import CFFmpeg

/// A negative FFmpeg return code with FFmpeg's own words for it and the call that returned it.
///
/// Only `check(_:_:)` makes these. `EAGAIN` ("feed me more input") and `EOF` are named because the
/// decode loop branches on them on every packet: their messages are constants, so the hot path never
/// formats a string.
struct FFmpegError: Error, CustomStringConvertible, Sendable {
    /// The return code (an `AVERROR(...)` value, always < 0).
    let code: Int32
    /// The FFmpeg function that returned it, e.g. `av_read_frame`.
    let operation: StaticString
    /// `av_strerror`'s text for the code.
    let message: String

    static let again = cffmpeg_averror_eagain()
    static let endOfFile = cffmpeg_averror_eof()
    static let exit = cffmpeg_averror_exit()
    static let invalidData = cffmpeg_averror_invaliddata()
    static let decoderNotFound = cffmpeg_averror_decoder_not_found()
    static let demuxerNotFound = cffmpeg_averror_demuxer_not_found()
    static let streamNotFound = cffmpeg_averror_stream_not_found()
    static let httpUnauthorized = cffmpeg_averror_http_unauthorized()
    static let httpForbidden = cffmpeg_averror_http_forbidden()
    static let httpNotFound = cffmpeg_averror_http_not_found()

    init(code: Int32, operation: StaticString) {
        self.code = code
        self.operation = operation
        if code == Self.again {
            message = "Resource temporarily unavailable"
        } else if code == Self.endOfFile {
            message = "End of file"
        } else {
            message = Self.text(for: code)
        }
    }

    /// The decoder or demuxer wants to be called again (more input, or no data yet).
    var isAgain: Bool { code == Self.again }
    /// The end of the stream.
    var isEndOfFile: Bool { code == Self.endOfFile }
    /// `AVERROR(posix)`, e.g. `isPOSIX(ECONNREFUSED)`.
    func isPOSIX(_ posix: Int32) -> Bool { code == cffmpeg_averror(posix) }

    var description: String { "\(operation): \(message) (\(code))" }

    /// `av_strerror` for any code.
    static func text(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        buffer.withUnsafeMutableBufferPointer { cffmpeg_strerror(code, $0.baseAddress, $0.count) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The one checker every FFmpeg return code goes through: returns a non-negative result, throws
/// `FFmpegError` (code + `av_strerror` message + the call's name) for a negative one.
@discardableResult
@inline(__always)
func check(_ code: Int32, _ operation: StaticString) throws(FFmpegError) -> Int32 {
    if code >= 0 { return code }
    throw FFmpegError(code: code, operation: operation)
}
