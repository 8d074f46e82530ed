internal import CMosquitto
import Foundation

/// Why an MQTT connection could not be configured, made, or could not deliver a message.
///
/// A struct backed by a private enum so that cases can be added without breaking callers.
public struct MQTTError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case invalidConfiguration
        case library
        case notConnected
        case connectionLost
        case timedOut
    }

    private let kind: Kind
    /// libmosquitto's return code (`MOSQ_ERR_*`), when the error came from it.
    public let code: Int32?
    /// What went wrong, for logs; never holds a password.
    public let message: String

    private init(_ kind: Kind, code: Int32? = nil, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// A configuration value is unusable (bad broker URL, topic with wildcards, missing TLS file).
    public static func invalidConfiguration(_ message: String) -> MQTTError { .init(.invalidConfiguration, message) }
    /// A libmosquitto call failed with `code`; `operation` names the call.
    static func library(_ operation: String, code: Int32) -> MQTTError {
        .init(.library, code: code, "\(operation): \(Mosquitto.describe(code)) (MOSQ_ERR \(code))")
    }
    /// The connection to the broker is down; the message was not sent.
    public static func notConnected(_ broker: String) -> MQTTError { .init(.notConnected, "not connected to \(broker)") }
    /// The connection dropped before the broker acknowledged the message; it may or may not have arrived.
    public static func connectionLost(_ broker: String) -> MQTTError {
        .init(.connectionLost, "connection to \(broker) lost before the acknowledgement")
    }
    /// No acknowledgement came within the publish timeout.
    public static func timedOut(_ broker: String, after: Duration) -> MQTTError {
        .init(.timedOut, "no acknowledgement from \(broker) within \(after)")
    }

    /// Whether this is a configuration error.
    public var isInvalidConfiguration: Bool { kind == .invalidConfiguration }
    /// Whether the message was not sent because the connection is down.
    public var isNotConnected: Bool { kind == .notConnected }

    /// The message.
    public var description: String { message }
}

/// libmosquitto's process-wide set-up and its one return-code checker.
enum Mosquitto {
    /// `mosquitto_lib_init`, once per process (it is not thread-safe, so it must not race; a static's
    /// initializer runs once, guarded by the runtime). Never cleaned up: connections may live until exit.
    static let initialized: Void = {
        _ = mosquitto_lib_init()
    }()

    /// Throws `MQTTError.library` unless `code` is `MOSQ_ERR_SUCCESS`. Every libmosquitto call goes through here.
    static func check(_ code: Int32, _ operation: String) throws {
        guard code != Int32(MOSQ_ERR_SUCCESS.rawValue) else { return }
        throw MQTTError.library(operation, code: code)
    }

    /// `mosquitto_strerror`, plus the C library's message for `MOSQ_ERR_ERRNO` (connection refused, ...).
    static func describe(_ code: Int32) -> String {
        let text = String(cString: mosquitto_strerror(code))
        if code == Int32(MOSQ_ERR_ERRNO.rawValue), errno != 0 { return text + " (" + String(cString: strerror(errno)) + ")" }
        return text
    }

    /// `mosquitto_connack_string`: why a broker refused a connection (bad user name or password, ...).
    static func describeConnack(_ code: Int32) -> String { String(cString: mosquitto_connack_string(code)) }
}
