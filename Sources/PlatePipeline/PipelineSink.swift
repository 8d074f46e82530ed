public import PlateCore

/// One event as the pipeline hands it to sinks: the event and the image of its best frame.
public struct EventDelivery: Sendable {
    /// The event.
    public var event: TrackEvent
    /// The picture of the event's best frame (`event.bestFrameIndex`), when the pipeline kept it; nil when
    /// the tracker pointed at a frame the pipeline did not have or the image store was full. It may be the
    /// decoder's planes (`FramePicture`): test it for nil rather than reading `bestFrame`.
    public var bestPicture: FramePicture?

    /// The best frame's pixels, packed: a new conversion on each read when `bestPicture` keeps planes, so read it
    /// once per delivery.
    public var bestFrame: Image? { bestPicture?.image }

    /// A delivery with the best frame's picture.
    public init(event: TrackEvent, bestPicture: FramePicture?) {
        self.event = event
        self.bestPicture = bestPicture
    }

    /// A delivery with the best frame's pixels.
    public init(event: TrackEvent, bestFrame: Image?) {
        self.init(event: event, bestPicture: bestFrame.map(FramePicture.init))
    }
}

/// Where the pipeline delivers events, with their best-frame images.
///
/// The pipeline calls each sink from its own serial queue: one call at a time, never from the tracking
/// thread, so a slow sink delays only itself. A sink that is too slow overflows its bounded queue and
/// loses its oldest undelivered events (counted in `SinkHealth.dropped`).
public protocol PipelineSink: AnyObject {
    /// Hands over one event. Throwing is logged and counted; the pipeline goes on with the next event.
    func deliver(_ delivery: EventDelivery) throws
    /// Writes out what is buffered and releases resources; no `deliver` follows. Called once, at the end.
    func shutdown()
}

/// A sink attached to a pipeline, with the name used in logs and metrics and the length of its queue.
public struct SinkRegistration {
    /// The name in logs and in the `sink` metrics dimension, e.g. `jsonl`, `webhook`.
    public var name: String
    /// Events that may wait for this sink (at least 1); nil uses `PipelineConfiguration.defaultSinkCapacity`.
    public var capacity: Int?
    /// The sink. The pipeline owns it from now on: do not call it elsewhere.
    public var sink: any PipelineSink
    /// When set, an event the sink failed to take stays first in its queue and is tried again after this
    /// long (then again, until it goes through), instead of being counted as failed and dropped. For sinks
    /// that must not lose events to a passing fault, such as an outbox on a full disk: meanwhile the events
    /// wait in memory, at most `capacity` of them, the oldest dropped (and counted) past that.
    public var retryAfterFailure: Duration?

    /// Attaches `sink` under `name`.
    public init(name: String, capacity: Int? = nil, sink: any PipelineSink, retryAfterFailure: Duration? = nil) {
        self.name = name
        self.capacity = capacity
        self.sink = sink
        self.retryAfterFailure = retryAfterFailure
    }

    /// Attaches a PlateCore `EventSink`, which gets the events without images.
    public init(name: String, capacity: Int? = nil, eventSink: any EventSink) {
        self.init(name: name, capacity: capacity, sink: EventSinkAdapter(eventSink))
    }
}

/// Adapts a PlateCore `EventSink` (events only) to `PipelineSink`: the image is not passed on.
public final class EventSinkAdapter: PipelineSink {
    /// The wrapped sink.
    public let wrapped: any EventSink

    /// Wraps `sink`.
    public init(_ sink: any EventSink) { self.wrapped = sink }

    /// Delivers `delivery.event`.
    public func deliver(_ delivery: EventDelivery) throws { try wrapped.deliver(delivery.event) }

    /// Shuts the wrapped sink down.
    public func shutdown() { wrapped.shutdown() }
}

/// A `PipelineSink` made of closures, for adapters written in place (the CLI, tests).
public final class ClosureSink: PipelineSink {
    private let onDeliver: (EventDelivery) throws -> Void
    private let onShutdown: () -> Void

    /// A sink calling `deliver` per event and `shutdown` at the end.
    public init(deliver: @escaping (EventDelivery) throws -> Void, shutdown: @escaping () -> Void = {}) {
        self.onDeliver = deliver
        self.onShutdown = shutdown
    }

    /// Calls the `deliver` closure.
    public func deliver(_ delivery: EventDelivery) throws { try onDeliver(delivery) }

    /// Calls the `shutdown` closure.
    public func shutdown() { onShutdown() }
}
