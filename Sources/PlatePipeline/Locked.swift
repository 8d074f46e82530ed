import Foundation

/// A value behind a lock with a condition variable, for state that threads both update and wait on.
///
/// Why not `Mutex`: the decoder of a `waitForRoom` camera and `waitUntilFinished()` must sleep until
/// the state changes, which needs a condition variable; `Mutex` has none.
final class Locked<Value>: @unchecked Sendable {
    // Why @unchecked: `value` is only read or written with `condition` held.
    private let condition = NSCondition()
    private var value: Value

    init(_ value: Value) { self.value = value }

    /// Runs `body` with the lock held.
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body(&value)
    }

    /// Waits (lock released) until `ready` holds, then runs `body` with the lock held; `body` learns
    /// whether it had to wait.
    func withLock<R>(waitingUntil ready: (Value) -> Bool, _ body: (inout Value, _ waited: Bool) throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        var waited = false
        while !ready(value) {
            waited = true
            condition.wait()
        }
        return try body(&value, waited)
    }

    /// Wakes every waiter so it re-checks its condition. Call after changing what they wait for.
    func broadcast() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }
}
