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
    }

    let name: String
    let capacity: Int
    private let sink: any PipelineSink
    private let queue: DispatchQueue
    private let lock = NSLock()
    private var state = State()
    private let metrics: SinkMetrics
    private let logger: Logger

    init(name: String, capacity: Int, sink: any PipelineSink, metrics: SinkMetrics, logger: Logger) {
        precondition(capacity >= 1, "sink \(name): capacity must be at least 1")
        self.name = name
        self.capacity = capacity
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
            let schedule = !state.scheduled
            state.scheduled = true
            return (schedule, dropped, state.buffer.count)
        }
        metrics.queueDepth.record(depth)
        if let droppedCount {
            metrics.dropped.increment()
            if shouldLog(occurrence: droppedCount) {
                logger.error("sink is behind: dropped its oldest queued event",
                             metadata: ["dropped": "\(droppedCount)", "capacity": "\(capacity)"])
            }
        }
        if schedule { queue.async { self.drain() } }
    }

    /// Lets the queued events drain, shuts the sink down, then calls `onClosed` (on the sink's queue).
    func close(onClosed: @escaping @Sendable () -> Void) {
        let schedule = lock.withLock { () -> Bool in
            state.closing = true
            state.onClosed = onClosed
            let schedule = !state.scheduled
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
        case deliver(EventDelivery)
        case shutdown((@Sendable () -> Void)?)
        case idle
    }

    /// Runs on `queue`: delivers until the buffer is empty, then shuts down if asked to.
    private func drain() {
        while true {
            let (step, depth) = lock.withLock { () -> (Step, Int) in
                if !state.buffer.isEmpty { return (.deliver(state.buffer.removeFirst()), state.buffer.count) }
                if state.closing && !state.closed {
                    // `scheduled` stays true: nothing is drained after the shutdown.
                    return (.shutdown(state.onClosed), 0)
                }
                state.scheduled = false
                return (.idle, 0)
            }
            metrics.queueDepth.record(depth)
            switch step {
            case .deliver(let delivery):
                let start = ContinuousClock.now
                do {
                    try sink.deliver(delivery)
                    metrics.deliver.record(since: start)
                    metrics.delivered.increment()
                    lock.withLock { state.delivered += 1 }
                } catch {
                    metrics.failures.increment()
                    let failures = lock.withLock { () -> Int in
                        state.failures += 1
                        return state.failures
                    }
                    if shouldLog(occurrence: failures) {
                        logger.error("sink failed to deliver an event", metadata: [
                            "error": "\(error)", "camera": "\(delivery.event.cameraID)",
                            "track": "\(delivery.event.trackID)", "failures": "\(failures)",
                        ])
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
}
