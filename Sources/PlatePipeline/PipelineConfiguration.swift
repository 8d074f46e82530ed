public import Foundation
public import Logging
public import Metrics
public import PlateCore

/// What the decoder of one camera does with a new frame when that camera's recognition queue is full.
public enum OverflowPolicy: String, Sendable, Hashable, CaseIterable {
    /// Drop the oldest queued frame and queue the new one (latest frame wins, like OpenALPR's latest-frame
    /// buffer); the decoder never waits on inference. The only safe choice for live sources: an RTSP
    /// reader that stops reading loses the camera.
    case dropOldest
    /// Make the decoder wait for a free slot, so that every frame is recognized. Only for files and
    /// pipes, which do not mind being read slowly; on a live source it turns overload into lost streams.
    case waitForRoom
    /// `waitForRoom` when the opened source says it is not live (`StreamInfo.isLive == false`),
    /// `dropOldest` otherwise.
    case automatic
}

/// One camera (or input file) of a pipeline: where its frames come from, how to recognize them and
/// the tracker that turns them into events.
public struct CameraConfiguration: Sendable {
    /// The camera's identifier; observations and events carry it, whatever the frames say.
    public var id: CameraID
    /// The engine settings for this camera's frames.
    public var options: RecognitionOptions
    /// What to do when recognition falls behind (see `OverflowPolicy`).
    public var overflow: OverflowPolicy
    /// Opens the source. Called once, on the camera's decode thread (opening may block, e.g. an RTSP
    /// handshake); throwing ends the camera as failed. Reconnecting is the source's business
    /// (`ReconnectingFrameSource`): the pipeline never reopens a source.
    public var makeSource: @Sendable () throws -> any FrameSource
    /// Makes the camera's tracker; called once, when the pipeline is created.
    public var makeTracker: @Sendable () -> any Tracker
    /// Makes the camera's own vehicle detector (a motion detector), used for frames in which the recognizer
    /// found no vehicles; nil: vehicles come from the recognizer alone. Called once, like `makeTracker`.
    public var makeVehicleDetector: (@Sendable () throws -> any SequentialVehicleDetector)?
    /// The motion gate's settings (`MotionGate`): frames where nothing changed and no track is alive are
    /// skipped before recognition; nil: every frame the source delivers is recognized.
    public var gate: MotionGate.Settings?

    /// A camera.
    public init(id: CameraID, options: RecognitionOptions = RecognitionOptions(searchWhenEmpty: false), overflow: OverflowPolicy = .dropOldest,
                makeSource: @escaping @Sendable () throws -> any FrameSource,
                makeTracker: @escaping @Sendable () -> any Tracker,
                makeVehicleDetector: (@Sendable () throws -> any SequentialVehicleDetector)? = nil,
                gate: MotionGate.Settings? = nil) {
        self.makeVehicleDetector = makeVehicleDetector
        self.gate = gate
        self.id = id
        self.options = options
        self.overflow = overflow
        self.makeSource = makeSource
        self.makeTracker = makeTracker
    }
}

/// Sizes, bounds, intervals and the logging and metrics backends of a pipeline.
public struct PipelineConfiguration: Sendable {
    /// Recognition workers, shared by all cameras (at least 1). Defaults to the active cores.
    public var workerCount: Int
    /// Frames per camera that may wait for a worker (at least 1); beyond it the policy decides
    /// (`OverflowPolicy`). 1 is OpenALPR's latest-frame buffer: a worker always gets the newest frame.
    public var queueCapacityPerCamera: Int
    /// Frames per camera taken by workers but not yet through the tracker (at least 1); nil means
    /// `workerCount`. Bounds the re-ordering buffer: a camera whose oldest frame is still being recognized
    /// gets no more workers once this many of its frames are out.
    public var maxInFlightPerCamera: Int?
    /// Frames that may wait for a worker while the camera has a live track (nil: `queueCapacityPerCamera`). A
    /// vehicle in view is what the frames are for: a camera with one keeps more of its frames through a
    /// burst (and catches up in `mode: fast`, see `degradeWhenBehind`) before its oldest is dropped.
    public var trackQueueCapacityPerCamera: Int?
    /// When a worker takes a frame of a live `normal`-mode camera (`OverflowPolicy.dropOldest`) that has another
    /// frame waiting behind it (the camera is behind), recognize it in `mode: fast` (one detection pass, one crop), about 40 % cheaper, so
    /// the camera catches up instead of dropping frames. Counted per camera (`CameraHealth.framesDegraded`).
    public var degradeWhenBehind: Bool
    /// Best-frame images kept per camera for live tracks (at least 0). A track that starts while the
    /// store is full gets no image (its event goes out with `bestFrame == nil`, counted).
    public var maxRetainedImagesPerCamera: Int
    /// Events (with their images) that may wait for each sink, unless the sink says otherwise.
    public var defaultSinkCapacity: Int
    /// How long shutdown waits for the sinks to drain and shut down before giving up on the stuck ones.
    public var sinkShutdownTimeout: Duration
    /// How often the rate gauges (fps, lag, queue depths) are updated; nil: never.
    public var metricsInterval: Duration?
    /// How often a health line per camera is logged at `info`; nil: never (a line is logged when a camera ends).
    public var healthLogInterval: Duration?
    /// Where logs go.
    public var logger: Logger
    /// Where metrics go; nil: `MetricsSystem.factory` (whatever the process bootstrapped).
    public var metricsFactory: (any MetricsFactory)?
    /// The wall clock, for lag (now − the frame's wall clock) and rates. Tests inject a manual clock.
    public var now: @Sendable () -> Date

    /// A configuration with the defaults: one worker per active core, one queued frame per camera,
    /// 32 retained images per camera, 64 queued events per sink, 30 s to shut sinks down, gauges every
    /// 5 s, a health line every 60 s.
    public init(workerCount: Int = ProcessInfo.processInfo.activeProcessorCount,
                queueCapacityPerCamera: Int = 1,
                maxInFlightPerCamera: Int? = nil,
                trackQueueCapacityPerCamera: Int? = nil,
                degradeWhenBehind: Bool = false,
                maxRetainedImagesPerCamera: Int = 32,
                defaultSinkCapacity: Int = 64,
                sinkShutdownTimeout: Duration = .seconds(30),
                metricsInterval: Duration? = .seconds(5),
                healthLogInterval: Duration? = .seconds(60),
                logger: Logger = Logger(label: "platestream.pipeline"),
                metricsFactory: (any MetricsFactory)? = nil,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.workerCount = workerCount
        self.queueCapacityPerCamera = queueCapacityPerCamera
        self.maxInFlightPerCamera = maxInFlightPerCamera
        self.trackQueueCapacityPerCamera = trackQueueCapacityPerCamera
        self.degradeWhenBehind = degradeWhenBehind
        self.maxRetainedImagesPerCamera = maxRetainedImagesPerCamera
        self.defaultSinkCapacity = defaultSinkCapacity
        self.sinkShutdownTimeout = sinkShutdownTimeout
        self.metricsInterval = metricsInterval
        self.healthLogInterval = healthLogInterval
        self.logger = logger
        self.metricsFactory = metricsFactory
        self.now = now
    }
}
