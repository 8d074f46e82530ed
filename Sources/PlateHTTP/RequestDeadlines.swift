import Foundation

/// The deadlines for reading one request, as a pure state machine (no clock, no I/O: the caller passes the
/// time in), so slow-client handling is tested without sockets.
///
/// - The header: from its first byte, the whole request head must arrive within `headerTimeout` (nginx's
///   `client_header_timeout`). A slowloris client trickling header bytes never finishes in time. A quiet
///   connection between requests is not timed here: that is the idle timeout's job.
/// - The body: `bodyTimeout` of grace from the end of the head, extended by one second per
///   `bodyMinBytesPerSecond` bytes received (Apache mod_reqtimeout's `body=20,MinRate=500`). A body trickled
///   below that floor runs out of time; a large upload at a decent rate never does. Time while the server
///   itself is not reading (backpressure: the handler is not ready for more) does not count.
struct RequestDeadlines: Sendable, Equatable {
    /// The limits.
    struct Limits: Sendable, Equatable {
        var headerTimeout: Double
        var bodyTimeout: Double
        var bodyMinBytesPerSecond: Double
    }

    /// Where the connection is in its current request.
    enum Phase: Sendable, Equatable {
        /// Between requests (or before the first): nothing is timed.
        case idle
        /// Header bytes arrived since `started`, the head is not complete yet.
        case header(started: Double)
        /// The head arrived at `started`; `bytes` of body so far; `paused` seconds the server did not read.
        case body(started: Double, bytes: Int, paused: Double)
        /// The request is read; the answer is being made.
        case answering
        /// Timed out: nothing more to do.
        case timedOut
    }

    /// What to do after a check.
    enum Action: Sendable, Equatable {
        case none
        /// Answer 408 (when no answer has started yet) and close, with this reason.
        case timeOut(String)
    }

    let limits: Limits
    private(set) var phase: Phase = .idle

    init(limits: Limits) { self.limits = limits }

    /// Bytes arrived from the network at `now`.
    mutating func bytesArrived(at now: Double) {
        if phase == .idle { phase = .header(started: now) }
    }

    /// The request head is complete.
    mutating func headReceived(at now: Double) {
        switch phase {
        case .idle, .header: phase = .body(started: now, bytes: 0, paused: 0)
        default: break
        }
    }

    /// `count` body bytes arrived.
    mutating func bodyReceived(_ count: Int) {
        if case .body(let started, let bytes, let paused) = phase { phase = .body(started: started, bytes: bytes + count, paused: paused) }
    }

    /// The request is complete.
    mutating func requestEnded() {
        switch phase {
        case .header, .body, .idle: phase = .answering
        default: break
        }
    }

    /// The answer is sent: the next request may begin.
    mutating func responseEnded() {
        if phase == .answering { phase = .idle }
    }

    /// The server did not read from the client for `seconds` (it had not asked for more): not held against the body.
    mutating func serverPaused(for seconds: Double) {
        if case .body(let started, let bytes, let paused) = phase { phase = .body(started: started, bytes: bytes, paused: paused + seconds) }
    }

    /// When the current phase runs out of time, or nil when nothing is timed.
    var deadline: Double? {
        switch phase {
        case .header(let started): return started + limits.headerTimeout
        case .body(let started, let bytes, let paused):
            let earned = limits.bodyMinBytesPerSecond > 0 ? Double(bytes) / limits.bodyMinBytesPerSecond : .infinity
            return started + paused + limits.bodyTimeout + earned
        case .idle, .answering, .timedOut: return nil
        }
    }

    /// Checks the deadline at `now`.
    mutating func check(at now: Double) -> Action {
        guard let deadline, now >= deadline else { return .none }
        let reason: String
        switch phase {
        case .header:
            reason = "the request header did not arrive within \(Self.seconds(limits.headerTimeout)) s"
        case .body(_, let bytes, _):
            reason = "the request body arrived slower than \(Self.seconds(limits.bodyMinBytesPerSecond)) bytes/s "
                + "after \(Self.seconds(limits.bodyTimeout)) s of grace (\(bytes) bytes received)"
        default:
            return .none
        }
        phase = .timedOut
        return .timeOut(reason)
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
