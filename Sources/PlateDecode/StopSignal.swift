import Foundation

/// A flag that stops sources sharing it: every FFmpeg call they have blocked gives up at once.
///
/// `ReconnectingFrameSource` hands one to each session it opens, so that `close()` also interrupts a
/// connection attempt that has not returned a source yet.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false

    /// A signal not yet raised.
    public init() {}

    /// Raises the signal; it stays raised.
    public func stop() { lock.withLock { stopped = true } }

    /// Whether `stop()` was called.
    public var isStopped: Bool { lock.withLock { stopped } }
}
