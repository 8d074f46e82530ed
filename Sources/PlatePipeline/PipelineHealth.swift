import Foundation
public import PlateCore

/// Where a camera is in its life.
public enum CameraState: String, Sendable, Hashable {
    /// The decode thread is opening the source.
    case starting
    /// Frames are flowing.
    case running
    /// The source ended, failed or was stopped; frames already taken are still being recognized
    /// and tracked.
    case draining
    /// Done: the tracker was flushed and every event handed to the sinks.
    case ended
}

/// Why a camera's source stopped giving frames.
public enum CameraEnd: Sendable, Hashable {
    /// A finite source (a file) reached its end.
    case endOfStream
    /// The pipeline was shut down.
    case stopped
    /// The source could not be opened or failed while reading; the message says why.
    case failed(String)
}

/// A snapshot of one camera's health.
///
/// Counts are since the pipeline started. "Frames held" are frames whose images the pipeline holds for
/// recognition: queued, being recognized, or recognized and waiting for an earlier frame before the
/// tracker (best-frame images kept for events are counted separately, in `retainedImages`).
public struct CameraHealth: Sendable, Equatable {
    /// The camera.
    public var cameraID: CameraID
    /// Where it is in its life.
    public var state: CameraState
    /// Why its source stopped, once it did.
    public var end: CameraEnd?
    /// The source, credentials redacted (nil until it opened).
    public var sourceDescription: String?
    /// Frames pulled from the source.
    public var framesDecoded: Int
    /// Frames the motion gate kept from recognition (nothing changed, no track alive).
    public var framesSkipped: Int
    /// Frames recognized (the recognizer returned).
    public var framesRecognized: Int
    /// Frames recognized in `mode: fast` because the camera was behind (`degradeWhenBehind`).
    public var framesDegraded: Int
    /// Frames dropped unrecognized because recognition was behind (oldest first).
    public var framesDropped: Int
    /// Frames whose recognition threw; like dropped frames they are not shown to the tracker.
    public var recognitionErrors: Int
    /// Frames pulled per second, over the last few seconds.
    public var inputFPS: Double
    /// Frames recognized per second, over the last few seconds.
    public var recognizedFPS: Double
    /// Seconds from a frame's wall-clock time to the end of its recognition, for the latest recognized
    /// frame (how far behind live the results are); nil before the first.
    public var lagSeconds: Double?
    /// The largest `lagSeconds` seen.
    public var maxLagSeconds: Double?
    /// Reconnections the source reports (`SourceStats.reconnects`).
    public var reconnects: Int
    /// The source's own counters, as last read.
    public var sourceStats: SourceStats
    /// Frames waiting for a worker now.
    public var queueDepth: Int
    /// The most frames that ever waited for a worker at once (never above the queue capacity).
    public var queueHighWater: Int
    /// Frames held now (queued + taken by workers and not yet through the tracker).
    public var framesHeld: Int
    /// The most frames ever held at once (never above queue capacity + max in flight).
    public var framesHeldHighWater: Int
    /// Times the decoder waited for room (only with `OverflowPolicy.waitForRoom`).
    public var decoderWaits: Int
    /// Best-frame images kept now, one per live track at most.
    public var retainedImages: Int
    /// The most best-frame images ever kept at once.
    public var retainedImagesHighWater: Int
    /// Tracks that got no image because the store was full or the tracker named an unknown frame.
    public var imagesUnavailable: Int
    /// Tracks alive in the camera's tracker after the last frame it took.
    public var liveTracks: Int
    /// Events handed to the sinks.
    public var events: Int
    /// Tracks the tracker did not report again (`TrackerOutput.suppressed`).
    public var suppressed: Int
    /// Media time of the last frame pulled.
    public var lastMediaTime: MediaTime?
    /// The last source or recognition error, for humans.
    public var lastError: String?
}

/// A snapshot of one sink's health.
public struct SinkHealth: Sendable, Hashable {
    /// The sink's name.
    public var name: String
    /// Events delivered (the sink returned).
    public var delivered: Int
    /// Deliveries that threw.
    public var failures: Int
    /// Events dropped because the sink's queue was full.
    public var dropped: Int
    /// Events waiting now.
    public var queueDepth: Int
    /// The most events that ever waited at once (never above the sink's capacity).
    public var queueHighWater: Int
    /// Whether `shutdown()` returned.
    public var isShutDown: Bool
}

/// A snapshot of the whole pipeline.
public struct PipelineHealth: Sendable, Equatable {
    /// One entry per camera, in configuration order.
    public var cameras: [CameraHealth]
    /// One entry per sink, in registration order.
    public var sinks: [SinkHealth]
    /// Recognition workers available.
    public var workerCount: Int
    /// Workers running now.
    public var busyWorkers: Int
    /// The most workers that ever ran at once (never above `workerCount`).
    public var busyWorkersHighWater: Int
    /// Whether the pipeline finished (every camera ended, every sink shut down).
    public var isFinished: Bool

    /// The entry of camera `id`.
    public subscript(camera id: CameraID) -> CameraHealth? { cameras.first { $0.cameraID == id } }
    /// The entry of the sink named `name`.
    public subscript(sink name: String) -> SinkHealth? { sinks.first { $0.name == name } }
}
