public import Foundation

/// Fans the live events out to the console's Server-Sent Events clients.
///
/// Each client gets its own bounded buffer (`capacity` messages): a client that reads too slowly loses its
/// oldest undelivered messages, counted in `statistics().dropped`, and never holds up the pipeline or the
/// other clients. The last `replayCount` events are kept and sent first to a client that connects, so a
/// page opened a moment after an event still shows it.
public final class ConsoleBroadcaster: Sendable {
    /// What the broadcaster has done so far.
    public struct Statistics: Sendable, Equatable {
        /// Clients connected now.
        public var clients: Int
        /// Events published.
        public var published: Int
        /// Messages thrown away because a client's buffer was full.
        public var dropped: Int
    }

    private struct State {
        var clients: [Int: AsyncStream<String>.Continuation] = [:]
        var nextID = 0
        var recent: [ConsoleEvent] = []
        var published = 0
        var dropped = 0
        var finished = false
    }

    /// Messages buffered per client before the oldest are dropped.
    public let capacity: Int
    /// Events replayed to a client that connects.
    public let replayCount: Int
    private let state = LockedState(State())

    /// A broadcaster with `capacity` messages per client and the last `replayCount` events replayed.
    public init(capacity: Int = 256, replayCount: Int = 20) {
        precondition(capacity >= 1 && replayCount >= 0, "capacity must be >= 1 and replayCount >= 0")
        self.capacity = capacity
        self.replayCount = replayCount
    }

    /// A new client's stream of SSE messages: the recent events (marked `"replay": true`), then each
    /// published one. The stream ends at `finish()`; ending it (the client went away) unsubscribes.
    public func subscribe() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(capacity))
        let admitted: Bool = state.withLock { state in
            guard !state.finished else { return false }
            let id = state.nextID
            state.nextID += 1
            continuation.yield("retry: 2000\n\n")
            for event in state.recent { continuation.yield(Self.message(event, replay: true)) }
            state.clients[id] = continuation
            continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.clients.removeValue(forKey: id) } }
            return true
        }
        if !admitted { continuation.finish() }
        return stream
    }

    /// Sends `event` to every client now connected and keeps it for replay.
    public func publish(_ event: ConsoleEvent) {
        let message = Self.message(event, replay: false)
        state.withLock { state in
            guard !state.finished else { return }
            state.published += 1
            state.recent.append(event)
            if state.recent.count > replayCount { state.recent.removeFirst(state.recent.count - replayCount) }
            for continuation in state.clients.values {
                if case .dropped = continuation.yield(message) { state.dropped += 1 }
            }
        }
    }

    /// Sends an SSE comment to every client: keeps idle connections (and proxies) from timing out, and
    /// lets the server notice clients that went away.
    public func ping() {
        state.withLock { state in
            for continuation in state.clients.values {
                if case .dropped = continuation.yield(": ping\n\n") { state.dropped += 1 }
            }
        }
    }

    /// Ends every client's stream and refuses new ones: at shutdown, so that open event streams do not
    /// keep the HTTP server from finishing.
    public func finish() {
        let clients = state.withLock { state in
            state.finished = true
            defer { state.clients.removeAll() }
            return Array(state.clients.values)
        }
        for continuation in clients { continuation.finish() }
    }

    /// The counters now.
    public func statistics() -> Statistics {
        state.withLock { Statistics(clients: $0.clients.count, published: $0.published, dropped: $0.dropped) }
    }

    /// One SSE message: `event: plate`, the event's id, its JSON on one `data:` line.
    static func message(_ event: ConsoleEvent, replay: Bool) -> String {
        var json = event.json()
        if replay, case .object(var members) = json {
            members.append(("replay", .bool(true)))
            json = .object(members)
        }
        // serialized() escapes newlines inside strings, so the JSON is one line, as a `data:` field needs.
        return "event: plate\nid: \(event.id)\ndata: \(json.serialized())\n\n"
    }
}

/// A value behind a lock, for state shared by the HTTP handlers and the pipeline's sink thread.
final class LockedState<Value>: @unchecked Sendable {
    // Why unchecked: every access to `value` goes through `lock`.
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
