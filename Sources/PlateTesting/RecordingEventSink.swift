public import PlateCore
import Foundation

/// An `EventSink` that records what it is given, and can be told to block or to throw.
///
/// Thread-safe: tests read `events` from their own thread while the pipeline delivers from another,
/// and change `behavior` at any time (e.g. block first, then let go).
public final class RecordingEventSink: EventSink, @unchecked Sendable {
    // Why @unchecked: every var is guarded by `lock`; the gate is itself thread-safe.

    /// What `deliver` does.
    public enum Behavior: Sendable {
        /// Record the event and return.
        case record
        /// Wait until the gate opens, then record the event.
        case block(TestGate)
        /// Throw the error; the event is not recorded.
        case fail(any Error)
    }

    /// The error `.fail` throws by default.
    public struct InjectedError: Error, Hashable, Sendable {
        /// An injected sink failure.
        public init() {}
    }

    private let lock = NSLock()
    private var currentBehavior: Behavior
    private var recorded: [TrackEvent] = []
    private var attemptCount = 0
    private var failureCount = 0
    private var shutdowns = 0
    private var inside = 0
    private var maxInside = 0
    private var deliveredAfterShutdown = 0

    /// A sink behaving as `behavior` (by default, recording).
    public init(behavior: Behavior = .record) {
        self.currentBehavior = behavior
    }

    /// A sink that throws `InjectedError` for every event.
    public static func failing() -> RecordingEventSink { RecordingEventSink(behavior: .fail(InjectedError())) }

    /// What `deliver` does from now on.
    public var behavior: Behavior {
        get { lock.withLock { currentBehavior } }
        set { lock.withLock { currentBehavior = newValue } }
    }

    /// Records (or blocks, or throws) as `behavior` says.
    public func deliver(_ event: TrackEvent) throws {
        let behavior = lock.withLock {
            attemptCount += 1
            inside += 1
            maxInside = max(maxInside, inside)
            if shutdowns > 0 { deliveredAfterShutdown += 1 }
            return currentBehavior
        }
        defer { lock.withLock { inside -= 1 } }
        switch behavior {
        case .record:
            break
        case .block(let gate):
            gate.wait()
        case .fail(let error):
            lock.withLock { failureCount += 1 }
            throw error
        }
        lock.withLock { recorded.append(event) }
    }

    /// Counts the call.
    public func shutdown() {
        lock.withLock { shutdowns += 1 }
    }

    /// The events recorded so far, in delivery order.
    public var events: [TrackEvent] { lock.withLock { recorded } }
    /// Calls to `deliver` so far, including blocked and failed ones.
    public var deliveryAttempts: Int { lock.withLock { attemptCount } }
    /// Calls to `deliver` that threw.
    public var failures: Int { lock.withLock { failureCount } }
    /// Calls to `shutdown()` so far.
    public var shutdownCount: Int { lock.withLock { shutdowns } }
    /// Calls to `deliver` after `shutdown()` (a contract violation; should stay 0).
    public var deliveriesAfterShutdown: Int { lock.withLock { deliveredAfterShutdown } }
    /// The most `deliver` calls that ran at the same time (the contract says 1).
    public var maxConcurrentDeliveries: Int { lock.withLock { maxInside } }
}
