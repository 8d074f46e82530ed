import Foundation

/// A one-shot latch for tests: threads block in `wait` until someone calls `open()`.
///
/// Used to hold a fake (a source, a recognizer, a sink) at a known point so that a test can check
/// what the rest of the system does meanwhile, without sleeping for a guessed amount of time.
public final class TestGate: @unchecked Sendable {
    // Why @unchecked: every stored var is guarded by `condition`.
    private let condition = NSCondition()
    private var opened = false
    private var waiting = 0

    /// A closed gate.
    public init() {}

    /// Opens the gate for good: every waiter, present and future, goes through.
    public func open() {
        condition.lock()
        opened = true
        condition.broadcast()
        condition.unlock()
    }

    /// Whether `open()` was called.
    public var isOpen: Bool {
        condition.lock()
        defer { condition.unlock() }
        return opened
    }

    /// How many threads are blocked in `wait` right now.
    public var waiterCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return waiting
    }

    /// Blocks until the gate opens or `timeout` passes (nil waits for ever). Returns whether it opened.
    @discardableResult
    public func wait(timeout: Duration? = nil) -> Bool {
        let deadline = timeout.map { Date().addingTimeInterval($0.timeInterval) }
        condition.lock()
        defer { condition.unlock() }
        waiting += 1
        defer { waiting -= 1 }
        while !opened {
            if let deadline {
                if !condition.wait(until: deadline) { return opened }
            } else {
                condition.wait()
            }
        }
        return true
    }
}

extension Duration {
    /// The duration in seconds, as Foundation measures intervals.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
