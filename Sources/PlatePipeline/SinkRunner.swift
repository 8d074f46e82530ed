import Dispatch
import Foundation
import Logging
import PlateCore

/// Runs one sink on its own serial queue behind a bounded buffer.
///
/// `enqueue` never blocks: when the buffer is full the oldest undelivered event is dropped (counted and
/// logged), so a stuck sink costs at most `capacity` events' memory and delays nobody else. Events are
/// delivered in the order they were enqueued. `close` lets the buffer drain, calls `shutdown()` once,
/// then reports.
///
/// A sink that fails (a full disk, a database gone) is logged once per outage, not once per event: the
/// first failure logs the error, the failures after it are only counted, and the first success after them
/// logs that the sink delivers again. With `retryAfterFailure` the failed event stays first in the buffer
/// and is retried after that delay, so events wait in memory (up to `capacity`) until the sink recovers.
final class SinkRunner: @unchecked Sendable {
    // Why @unchecked: `sink` is only touched from `queue` (one drain loop at a time, guaranteed by the
    // `scheduled` flag); everything else mutable is inside `state`, guarded by `lock`.

    private struct State {
        var buffer: [EventDelivery] = []
        var scheduled = false
        var closing = false
        var onClosed: (@Sendable () -> Void)?
        var closed = false
        var delivered = 0
        var failures = 0
        var dropped = 0
        var highWater = 0
        /// Failed deliveries since the last success (0: the sink is healthy).
        var failingStreak = 0
        /// A retry of the first buffered event is scheduled (the drain loop waits for it).
        var retryPending = false
    }

    let name: String
    let capacity: Int
    /// How long a failed event waits before it is tried again; nil: a failed event is counted and dropped.
    let retryAfterFailure: Duration?
    private let sink: any PipelineSink
    private let queue: DispatchQueue
    private let lock = NSLock()
    private var state = State()
    private let metrics: SinkMetrics
    private let logger: Logger

    init(name: String, capacity: Int, sink: any PipelineSink, retryAfterFailure: Duration? = nil, metrics: SinkMetrics,
         logger: Logger) {
        precondition(capacity >= 1, "sink \(name): capacity must be at least 1")
        self.name = name
        self.capacity = capacity
        self.retryAfterFailure = retryAfterFailure
        self.sink = sink
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "sink"] = "\(name)"
        self.logger = logger
        self.queue = DispatchQueue(label: "platestream.sink.\(name)")
    }

    /// Queues `delivery`; never blocks.
    func enqueue(_ delivery: EventDelivery) {
        let (schedule, droppedCount, depth) = lock.withLock { () -> (Bool, Int?, Int) in
            guard !state.closing else { return (false, nil, state.buffer.count) }
            var dropped: Int?
            if state.buffer.count >= capacity {
                state.buffer.removeFirst()
                state.dropped += 1
                dropped = state.dropped
            }
            state.buffer.append(delivery)
            state.highWater = max(state.highWater, state.buffer.count)
            let schedule = !state.scheduled && !state.retryPending
            state.scheduled = true
            return (schedule, dropped, state.buffer.count)
        }
        metrics.queueDepth.record(depth)
        if let droppedCount { noteDropped(droppedCount) }
        if schedule { queue.async { self.drain() } }
    }

    /// Lets the queued events drain, shuts the sink down, then calls `onClosed` (on the sink's queue).
    func close(onClosed: @escaping @Sendable () -> Void) {
        let schedule = lock.withLock { () -> Bool in
            state.closing = true
            state.onClosed = onClosed
            let schedule = !state.scheduled && !state.retryPending
            state.scheduled = true
            return schedule
        }
        if schedule { queue.async { self.drain() } }
    }

    /// The counters.
    var health: SinkHealth {
        lock.withLock {
            SinkHealth(name: name, delivered: state.delivered, failures: state.failures, dropped: state.dropped,
                       queueDepth: state.buffer.count, queueHighWater: state.highWater, isShutDown: state.closed)
        }
    }

    private enum Step {
        case deliver(EventDelivery, retryable: Bool)
        case shutdown((@Sendable () -> Void)?)
        case idle
    }

    /// Runs on `queue`: delivers until the buffer is empty, then shuts down if asked to. A failed event of a
    /// retrying sink stays first in the buffer and the loop stops until the retry is due.
    private func drain() {
        while true {
            let (step, depth) = lock.withLock { () -> (Step, Int) in
                if !state.buffer.isEmpty {
                    // Why not retry while closing: shutdown must end; what is left then is counted as failed.
                    return (.deliver(state.buffer.removeFirst(), retryable: retryAfterFailure != nil && !state.closing),
                            state.buffer.count)
                }
                if state.closing && !state.closed {
                    // `scheduled` stays true: nothing is drained after the shutdown.
                    return (.shutdown(state.onClosed), 0)
                }
                state.scheduled = false
                return (.idle, 0)
            }
            metrics.queueDepth.record(depth)
            switch step {
            case .deliver(let delivery, let retryable):
                let start = ContinuousClock.now
                do {
                    try sink.deliver(delivery)
                    metrics.deliver.record(since: start)
                    metrics.delivered.increment()
                    let streak = lock.withLock { () -> Int in
                        state.delivered += 1
                        defer { state.failingStreak = 0 }
                        return state.failingStreak
                    }
                    if streak > 0 {
                        logger.notice("sink delivers again", metadata: ["failed attempts": "\(streak)"])
                    }
                } catch {
                    metrics.failures.increment()
                    let (failures, streak, droppedCount) = lock.withLock { () -> (Int, Int, Int?) in
                        state.failures += 1
                        state.failingStreak += 1
                        guard retryable else { return (state.failures, state.failingStreak, nil) }
                        state.retryPending = true
                        // Back to the front; when new events filled the buffer meanwhile, it is the oldest
                        // and the one that goes.
                        guard state.buffer.count < capacity else {
                            state.dropped += 1
                            return (state.failures, state.failingStreak, state.dropped)
                        }
                        state.buffer.insert(delivery, at: 0)
                        return (state.failures, state.failingStreak, nil)
                    }
                    if let droppedCount { noteDropped(droppedCount) }
                    // One error per outage: the first failure says what is wrong; the rest are counted
                    // (platestream_sink_failures_total) until the sink works again.
                    if streak == 1 {
                        logger.error(retryable ? "sink cannot deliver events; they wait in memory and are retried"
                                               : "sink cannot deliver events; failed events are counted and dropped", metadata: [
                            "error": "\(error)", "camera": "\(delivery.event.cameraID)",
                            "track": "\(delivery.event.trackID)", "failures": "\(failures)",
                        ])
                    }
                    if retryable, let retryAfterFailure {
                        queue.asyncAfter(deadline: .now() + retryAfterFailure.seconds) {
                            self.lock.withLock { self.state.retryPending = false }
                            self.drain()
                        }
                        return
                    }
                }
            case .shutdown(let onClosed):
                sink.shutdown()
                lock.withLock { state.closed = true }
                logger.debug("sink shut down")
                onClosed?()
                return
            case .idle:
                return
            }
        }
    }

    /// Counts and (now and then) logs the `count`-th event dropped for lack of room.
    private func noteDropped(_ count: Int) {
        metrics.dropped.increment()
        if shouldLog(occurrence: count) {
            logger.error("sink is behind: dropped its oldest queued event",
                         metadata: ["dropped": "\(count)", "capacity": "\(capacity)"])
        }
    }
}
