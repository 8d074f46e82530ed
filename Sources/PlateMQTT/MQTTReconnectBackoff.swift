/// The wait before each reconnect attempt, as a pure state machine: doubling from `minimum` after each
/// failure, capped at `maximum`, back to `minimum` once connected. No clock, no I/O.
public struct MQTTReconnectBackoff: Sendable, Hashable {
    /// Wait after the first failure.
    public let minimum: Duration
    /// The longest wait, however long the broker has been down.
    public let maximum: Duration
    /// Failed attempts since the last successful connection.
    public private(set) var failures = 0

    /// A backoff with no failure yet; `maximum` below `minimum` is raised to it.
    public init(minimum: Duration, maximum: Duration) {
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
    }

    /// Records a failed attempt (refused, lost, timed out) and returns how long to wait before the next.
    public mutating func failed() -> Duration {
        failures += 1
        var wait = minimum
        // Stops doubling at the cap: a broker down for a week means many failures, not many multiplications.
        for _ in 1..<failures where wait < maximum { wait = wait * 2 }
        return min(wait, maximum)
    }

    /// Records a successful connection: the next failure waits `minimum` again.
    public mutating func connected() { failures = 0 }
}
