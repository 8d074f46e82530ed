public import Foundation

/// A wall clock that only moves when the test moves it, for code that takes a `() -> Date`.
public final class ManualClock: @unchecked Sendable {
    // Why @unchecked: `current` is guarded by `lock`.
    private let lock = NSLock()
    private var current: Date

    /// A clock showing `start` (by default 2021-07-31 14:33:36 UTC, a fixed instant).
    public init(start: Date = Date(timeIntervalSince1970: 1_627_742_016)) {
        self.current = start
    }

    /// The time the clock shows.
    public var now: Date { lock.withLock { current } }

    /// Moves the clock forward (or back, with a negative interval) by `seconds`.
    public func advance(by seconds: TimeInterval) {
        lock.withLock { current = current.addingTimeInterval(seconds) }
    }

    /// Sets the clock to `date`.
    public func set(_ date: Date) {
        lock.withLock { current = date }
    }

    /// A closure reading this clock, for APIs that take `@Sendable () -> Date`.
    public var reader: @Sendable () -> Date { { [self] in self.now } }
}
