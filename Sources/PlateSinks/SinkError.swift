import Foundation

/// Why a sink could not take an event or could not start.
///
/// A struct backed by a private enum so that cases can be added without breaking callers.
public struct SinkError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case invalidConfiguration
        case io
        case outboxFull
        case encoding
        case multiple
        case closed
        case damaged
    }

    private let kind: Kind
    /// What went wrong, for logs.
    public let message: String

    private init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// A configuration value is unusable (unknown path directive, malformed header, bad URL); found at start-up.
    public static func invalidConfiguration(_ message: String) -> SinkError { .init(.invalidConfiguration, message) }
    /// A file could not be created, opened or written; `errno` is the C error number, when there is one.
    public static func io(_ operation: String, path: String, errno: Int32? = nil) -> SinkError {
        let detail = errno.map { ": \(String(cString: strerror($0))) (errno \($0))" } ?? ""
        return .init(.io, "\(operation) \(path)\(detail)")
    }
    /// The webhook outbox is at its configured bound and its policy is to refuse new events.
    public static func outboxFull(_ message: String) -> SinkError { .init(.outboxFull, message) }
    /// A stored record cannot be read back: a column holds a value of the wrong type (a damaged, hand-edited or
    /// foreign database file).
    public static func damaged(_ message: String) -> SinkError { .init(.damaged, message) }
    /// An event or its image could not be encoded.
    public static func encoding(_ message: String) -> SinkError { .init(.encoding, message) }
    /// Several sinks of a fan-out failed; the messages of each, joined.
    public static func multiple(_ errors: [any Error]) -> SinkError {
        .init(.multiple, errors.map { "\($0)" }.joined(separator: "; "))
    }

    /// The sink was shut down and takes no more events.
    public static func closed(_ sink: String) -> SinkError { .init(.closed, "\(sink) is shut down") }

    /// Whether this is a configuration error.
    public var isInvalidConfiguration: Bool { kind == .invalidConfiguration }
    /// Whether this is a file-system error.
    public var isIO: Bool { kind == .io }
    /// Whether the outbox refused the event because it is full.
    public var isOutboxFull: Bool { kind == .outboxFull }
    /// Whether this is an encoding error.
    public var isEncoding: Bool { kind == .encoding }

    /// The message.
    public var description: String { message }
}
