import Dispatch
import Foundation
import Logging
import Metrics
public import PlateCore

/// The stream pipeline: cameras' frames in, track events (with their best frames) out to sinks.
///
/// ## Stages and threads
/// - **Decode**: one thread per camera (`platestream.decode.<camera>`) opens the source with the camera's
///   factory and pulls `nextFrame()` in a loop. It hands each frame to the camera's bounded queue and
///   goes straight back to the source: it never waits on inference (unless the camera asked for
///   `OverflowPolicy.waitForRoom`, meant for files).
/// - **Recognize**: `workerCount` worker threads (`platestream.recognize.<n>`), shared by all cameras.
///   A free worker takes the oldest queued frame of the next camera in round-robin order (so a busy
///   camera cannot starve a quiet one) and calls the `PlateRecognizer` with that camera's options.
///   Why threads and not a concurrent Dispatch queue: Dispatch's shared pool on Linux is about as wide
///   as the machine, so anything else blocking in it (a stuck sink elsewhere, a slow model) could
///   starve recognition; own threads keep the pool exactly `workerCount` wide and always there.
/// - **Track**: per camera, in frame order. Results that finish out of order wait in a re-ordering
///   buffer; whichever worker completes the next-in-order frame runs the camera's tracker for it and for
///   every result queued behind it (one thread at a time per camera, no thread of its own).
/// - **Sinks**: each sink has its own serial Dispatch queue behind a bounded buffer; tracking only
///   appends to the buffers, so a slow or stuck sink delays nobody but itself.
///
/// ## Bounds and drops
/// Per camera at most `queueCapacityPerCamera` frames wait for a worker (`trackQueueCapacityPerCamera` while
/// the camera has a live track); when a new frame finds the queue full the **oldest** queued frame is dropped
/// and counted (latest frame wins). At most `maxInFlightPerCamera` frames of a camera are with workers or in
/// its re-ordering buffer. So a camera's frames held for recognition never exceed the larger queue capacity
/// plus `maxInFlightPerCamera`, whatever the load (`CameraHealth.framesHeldHighWater` records it). Best-frame
/// images are kept for at most `maxRetainedImagesPerCamera` live tracks, and each sink queues at most its
/// capacity of events, dropping its oldest when full (counted per sink).
///
/// ## Spending nothing on empty frames, and catching up
/// A camera with a motion gate (`CameraConfiguration.gate`, see `MotionGate`) decides on its decode thread,
/// from a thumbnail of each frame, whether the frame goes to recognition at all: frames where nothing changed
/// while no track is alive are skipped (counted, never shown to the tracker, like dropped frames). With
/// `degradeWhenBehind`, a frame taken while its camera has more frames waiting is recognized in `mode: fast`,
/// so a busy camera catches up rather than drops.
///
/// ## Dropped and failed frames are skipped, not shown empty
/// A frame dropped before recognition, or whose recognition threw, is **not** given to the tracker.
/// Feeding it an empty observation would tell the tracker "we looked and saw nothing", which is false:
/// under overload every track would then miss frames and end early — exactly when reads are scarce.
/// Skipping keeps the tracker's view true: it sees fewer frames, further apart in media time, and its
/// clock (the observations' media time) still advances with the next recognized frame. Time-based
/// limits (lost timeout, max prediction delay, memory decay) are therefore unaffected; frame-count limits
/// count recognized frames.
///
/// ## Best frames
/// The tracker's `.started` / `.bestFrameChanged` outputs name the frame being tracked; the pipeline
/// keeps that frame's image per live track (replacing the previous one), sends it along with the track's
/// event as `EventDelivery.bestFrame`, and releases it at `.ended`.
///
/// ## End of stream and shutdown
/// When a camera's source ends (a file), fails or is stopped, its decode thread stops; the frames already
/// queued or with workers are still recognized and tracked; then the tracker is flushed with the last
/// media time pulled and the resulting events go to the sinks. When every camera has ended, each sink
/// drains its queue and is shut down, and the pipeline is finished: `run()` returns. So a pipeline of
/// files finishes by itself; live cameras run until `requestShutdown()` (or `shutdown()`), which closes
/// every source and lets the same drain happen.
///
/// ## With ServiceLifecycle
/// PlatePipeline does not depend on ServiceLifecycle; the CLI wraps it:
/// ```swift
/// struct PipelineService: Service {
///     let pipeline: Pipeline
///     func run() async throws {
///         try await withGracefulShutdownHandler { await pipeline.run() }
///             onGracefulShutdown: { pipeline.requestShutdown() }
///     }
/// }
/// ```
public final class Pipeline: Sendable {
    private let configuration: PipelineConfiguration
    private let workerCount: Int
    private let queueCapacity: Int
    private let maxInFlight: Int
    private let cameras: [CameraRuntime]
    private let sinks: [SinkRunner]
    private let recognizer: any PlateRecognizer
    private let state: Locked<PipelineState>
    /// Serial, hence over-committing on Linux: a thread of its own when needed, never starved by a busy pool.
    private let controlQueue = DispatchQueue(label: "platestream.pipeline.control")
    private let healthTicker: HealthTicker
    private let logger: Logger

    /// Builds a pipeline; nothing runs until `start()` or `run()`.
    ///
    /// - Parameters:
    ///   - configuration: sizes, bounds, intervals, logger, metrics factory, clock.
    ///   - cameras: the cameras (or files), each with its source factory, options and tracker factory.
    ///   - recognizer: the engine, shared by all workers (it must be safe to call from several threads).
    ///   - sinks: where events go; the pipeline owns them from now on and shuts them down at the end.
    /// - Throws: `PipelineError` for duplicate camera ids or sink names, or settings out of range.
    public init(configuration: PipelineConfiguration = PipelineConfiguration(), cameras: [CameraConfiguration],
                recognizer: any PlateRecognizer, sinks: [SinkRegistration]) throws {
        guard configuration.workerCount >= 1 else {
            throw PipelineError.invalidSetting("workerCount", value: configuration.workerCount, expected: "at least 1")
        }
        guard configuration.queueCapacityPerCamera >= 1 else {
            throw PipelineError.invalidSetting("queueCapacityPerCamera", value: configuration.queueCapacityPerCamera,
                                               expected: "at least 1")
        }
        let maxInFlight = configuration.maxInFlightPerCamera ?? configuration.workerCount
        guard maxInFlight >= 1 else {
            throw PipelineError.invalidSetting("maxInFlightPerCamera", value: maxInFlight, expected: "at least 1")
        }
        guard configuration.maxRetainedImagesPerCamera >= 0 else {
            throw PipelineError.invalidSetting("maxRetainedImagesPerCamera",
                                               value: configuration.maxRetainedImagesPerCamera, expected: "0 or more")
        }
        var ids = Set<CameraID>()
        for camera in cameras where !ids.insert(camera.id).inserted { throw PipelineError.duplicateCamera(camera.id) }
        var names = Set<String>()
        for sink in sinks {
            guard names.insert(sink.name).inserted else { throw PipelineError.duplicateSink(sink.name) }
            let capacity = sink.capacity ?? configuration.defaultSinkCapacity
            guard capacity >= 1 else {
                throw PipelineError.invalidSetting("capacity of sink \(sink.name)", value: capacity, expected: "at least 1")
            }
        }

        let factory = configuration.metricsFactory ?? MetricsSystem.factory
        self.configuration = configuration
        self.workerCount = configuration.workerCount
        self.queueCapacity = configuration.queueCapacityPerCamera
        self.maxInFlight = maxInFlight
        self.recognizer = recognizer
        self.logger = configuration.logger
        self.cameras = cameras.enumerated().map { index, camera in
            CameraRuntime(index: index, configuration: camera, imageLimit: configuration.maxRetainedImagesPerCamera,
                          metrics: CameraMetrics(camera: camera.id, factory: factory), logger: configuration.logger)
        }
        self.sinks = sinks.map { sink in
            SinkRunner(name: sink.name, capacity: sink.capacity ?? configuration.defaultSinkCapacity, sink: sink.sink,
                       retryAfterFailure: sink.retryAfterFailure, metrics: SinkMetrics(sink: sink.name, factory: factory), logger: configuration.logger)
        }
        self.state = Locked(PipelineState(cameras: cameras.map {
            CameraSlot(policy: $0.overflow, degradable: configuration.degradeWhenBehind && $0.options.mode == .normal)
        }))
        self.healthTicker = HealthTicker()
    }

    // MARK: - Lifecycle

    /// Starts the decode threads (and the health timer); returns at once. Calling it again does nothing.
    public func start() {
        let first = state.withLock { state -> Bool in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        logger.info("pipeline starting", metadata: [
            "cameras": "\(cameras.map(\.id.rawValue))", "workers": "\(workerCount)",
            "queue_per_camera": "\(queueCapacity)", "max_in_flight_per_camera": "\(maxInFlight)",
            "sinks": "\(sinks.map(\.name))",
        ])
        startHealthTimer()
        for number in 0..<workerCount {
            let thread = Thread { [self] in workerLoop() }
            thread.name = "platestream.recognize.\(number)"
            // Recognizers run native model code (OpenCV dnn): give them a main-thread-sized stack.
            thread.stackSize = 8 << 20
            thread.start()
        }
        if cameras.isEmpty { closeSinks() }
        for camera in cameras {
            let thread = Thread { [self] in decodeLoop(camera) }
            thread.name = "platestream.decode.\(camera.id)"
            thread.start()
        }
    }

    /// Starts the pipeline if needed and waits until it has finished: every camera ended (its source
    /// ended, failed or was stopped), every event delivered, every sink shut down.
    ///
    /// With only finite sources (files) it returns by itself when they end. Cancelling the calling task
    /// requests shutdown (as `requestShutdown()`), and `run` still returns only once the drain is done.
    public func run() async {
        start()
        await withTaskCancellationHandler {
            await waitForFinish()
        } onCancel: {
            requestShutdown()
        }
    }

    /// Asks the pipeline to stop and returns at once: closes every source (their decode threads end),
    /// after which frames already taken are recognized and tracked, trackers are flushed, events are
    /// delivered and sinks are shut down. Safe from any thread, any number of times.
    /// A pipeline never started finishes as soon as it is started (see `shutdown()`).
    public func requestShutdown() {
        let closers = state.withLock { state -> [SourceCloser]? in
            guard !state.stopRequested else { return nil }
            state.stopRequested = true
            return state.cameras.compactMap(\.closer)
        }
        guard let closers else { return }
        // Wake decoders waiting for room (`waitForRoom`) so that they see the stop.
        state.broadcast()
        logger.info("shutdown requested: stopping the sources and draining")
        for closer in closers { closer.close() }
    }

    /// Stops gracefully and waits until done: `requestShutdown()`, then what `run()` waits for.
    /// Stops the decoders, drains frames in flight through recognition and the trackers, flushes the
    /// trackers, delivers every resulting event and shuts every sink down before returning.
    public func shutdown() async {
        requestShutdown()
        start()
        await waitForFinish()
    }

    /// Blocks the calling thread until the pipeline has finished (see `run()`); for callers that are not
    /// async. Does not start the pipeline.
    public func waitUntilFinished() {
        state.withLock(waitingUntil: { $0.finished }) { _, _ in }
    }

    /// Whether the pipeline has finished (every camera ended and every sink shut down).
    public var isFinished: Bool { state.withLock { $0.finished } }

    private func waitForFinish() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: - Health

    /// A snapshot of every camera's and sink's counters, rates and queue depths.
    public func health() -> PipelineHealth {
        let now = configuration.now()
        let (cameraHealth, busy, busyHighWater, finished) = state.withLock { state in
            (zip(cameras, state.cameras).map { runtime, slot in runtime.health(slot, at: now) },
             state.activeWorkers, state.workersHighWater, state.finished)
        }
        return PipelineHealth(cameras: cameraHealth, sinks: sinks.map(\.health), workerCount: workerCount,
                              busyWorkers: busy, busyWorkersHighWater: busyHighWater, isFinished: finished)
    }

    private func startHealthTimer() {
        let interval = configuration.metricsInterval ?? configuration.healthLogInterval
        guard let interval else { return }
        healthTicker.start(every: interval) { [self] in healthTick() }
    }

    /// Updates the gauges; logs a health line per camera every `healthLogInterval`.
    private func healthTick() {
        let health = health()
        publishGauges(health)
        guard let logInterval = configuration.healthLogInterval,
              healthTicker.logDue(every: logInterval) else { return }
        for camera in health.cameras { logHealth(camera, message: "camera health") }
        for sink in health.sinks where sink.dropped > 0 || sink.failures > 0 {
            logger.warning("sink health", metadata: [
                "sink": "\(sink.name)", "delivered": "\(sink.delivered)", "failures": "\(sink.failures)",
                "dropped": "\(sink.dropped)", "queue": "\(sink.queueDepth)",
            ])
        }
    }

    private func publishGauges(_ health: PipelineHealth) {
        for (runtime, camera) in zip(cameras, health.cameras) {
            runtime.metrics.inputFPS.record(camera.inputFPS)
            runtime.metrics.recognizedFPS.record(camera.recognizedFPS)
            if let lag = camera.lagSeconds { runtime.metrics.lag.record(lag) }
            runtime.metrics.queueDepth.record(camera.queueDepth)
            runtime.metrics.framesHeld.record(camera.framesHeld)
            runtime.metrics.retainedImages.record(camera.retainedImages)
        }
    }

    private func logHealth(_ camera: CameraHealth, message: Logger.Message) {
        var metadata: Logger.Metadata = [
            "camera": "\(camera.cameraID)", "state": "\(camera.state.rawValue)",
            "decoded": "\(camera.framesDecoded)", "skipped": "\(camera.framesSkipped)",
            "recognized": "\(camera.framesRecognized)", "degraded": "\(camera.framesDegraded)",
            "dropped": "\(camera.framesDropped)", "recognition_errors": "\(camera.recognitionErrors)",
            "input_fps": "\(String(format: "%.1f", camera.inputFPS))",
            "recognized_fps": "\(String(format: "%.1f", camera.recognizedFPS))",
            "reconnects": "\(camera.reconnects)", "events": "\(camera.events)",
        ]
        if let lag = camera.lagSeconds { metadata["lag_s"] = "\(String(format: "%.3f", lag))" }
        if let end = camera.end { metadata["end"] = "\(end)" }
        if let error = camera.lastError { metadata["last_error"] = "\(error)" }
        logger.info(message, metadata: metadata)
    }

    // MARK: - Decode

    /// The body of a camera's decode thread.
    private func decodeLoop(_ camera: CameraRuntime) {
        let index = camera.index
        if state.withLock({ $0.stopRequested }) {
            endSource(camera, end: .stopped, stats: nil)
            return
        }
        let source: any FrameSource
        do {
            source = try camera.configuration.makeSource()
        } catch {
            camera.metrics.sourceErrors.increment()
            camera.logger.error("could not open the source", metadata: ["error": "\(error)"])
            endSource(camera, end: .failed(String(describing: error)), stats: nil)
            return
        }
        let info = source.info
        let policy: OverflowPolicy = switch camera.configuration.overflow {
        case .automatic: info.isLive ? .dropOldest : .waitForRoom
        case let policy: policy
        }
        let closer = SourceCloser(source)
        let stopAlready = state.withLock { state -> Bool in
            state.cameras[index].closer = closer
            state.cameras[index].policy = policy
            state.cameras[index].sourceDescription = source.sourceDescription
            state.cameras[index].phase = .running
            return state.stopRequested
        }
        // requestShutdown() ran before the closer was registered: it could not close this source.
        if stopAlready { source.close() }
        camera.logger.info("camera started", metadata: [
            "source": "\(source.sourceDescription)", "live": "\(info.isLive)", "codec": "\(info.codec)",
            "size": "\(info.width)x\(info.height)", "fps": "\(info.fps)", "overflow": "\(policy.rawValue)",
        ])

        var end = CameraEnd.endOfStream
        var gate = camera.configuration.gate.map { MotionGate(settings: $0) }
        while true {
            let started = ContinuousClock.now
            let frame: Frame?
            do {
                frame = try source.nextFrame()
            } catch {
                if state.withLock({ $0.stopRequested }) {
                    end = .stopped
                } else {
                    end = .failed(String(describing: error))
                    camera.metrics.sourceErrors.increment()
                    camera.logger.error("the source failed; ending the camera", metadata: ["error": "\(error)"])
                }
                break
            }
            guard let frame else { break }
            camera.metrics.decode.record(since: started)
            var recognize = true
            var areas: [BoundingBox]?
            if var current = gate {
                let gating = ContinuousClock.now
                let live = state.withLock { $0.cameras[index].liveTracks }
                // The scaled picture, when the decoder made one, holds the same picture at a fraction of the pixels.
                let picture = frame.scaled ?? frame.image
                let thumbnail = GreyThumbnail(picture, cell: current.settings.cell(forWidth: picture.width))
                let decision = current.handle(thumbnail, at: frame.mediaTime, liveTracks: live)
                recognize = decision.recognizes
                if recognize {
                    areas = Self.searchAreas(decision, gate: current, thumbnail: thumbnail, of: picture,
                                             full: ImageSize(width: frame.width, height: frame.height), liveTracks: live)
                }
                gate = current
                camera.metrics.gate.record(since: gating)
            }
            if !submit(frame, to: camera, stats: source.stats, policy: policy, recognize: recognize, searchAreas: areas) {
                end = .stopped
                break
            }
        }
        let stats = source.stats
        source.close()
        endSource(camera, end: end, stats: stats)
    }

    /// Where the first pass looks in a frame the gate let through (picture pixels), or nil for everywhere: what
    /// changed in the last `hold` seconds (`MotionGate.changedAreas`) while no track is alive; everywhere while one
    /// is, on the first frames, at the heartbeat (the gate's safety net), and when nothing changed.
    /// Why not the areas while a track is alive, though they would hold it: the windows box a plate a few pixels
    /// differently from the whole picture, so its reads score differently and the event's best frame moved
    /// (`position_sec` of one plate on `quiet-1080.mp4` by 0.64 s against gating off). Searching the whole picture
    /// while a vehicle is in view keeps every frame of its passage as without the gate; the windows save the
    /// frames where something moves and nothing is tracked (a vehicle before its plate is read, people, leaves).
    /// `thumbnail` is of `picture` (the frame's `image`, or its scaled copy); `full` is the frame's size, which the
    /// areas are in (only its size: reading the frame's `image` would convert a picture kept as planes).
    static func searchAreas(_ decision: MotionGate.Decision, gate: MotionGate, thumbnail: GreyThumbnail, of picture: Image,
                            full image: ImageSize, liveTracks: Int) -> [BoundingBox]? {
        // A live track: everywhere, decided before the gate's flood fill runs (the busy camera's every frame).
        guard liveTracks == 0 else { return nil }
        switch decision {
        case .skip, .recognize(.start), .recognize(.heartbeat): return nil
        case .recognize(.change), .recognize(.hold), .recognize(.track): break
        }
        guard let cells = gate.changedAreas(), !cells.isEmpty else { return nil }
        // A cell is `thumbnail.cell` pixels of `picture`.
        let sx = Double(thumbnail.cell * image.width) / Double(picture.width), sy = Double(thumbnail.cell * image.height) / Double(picture.height)
        return cells.map { BoundingBox(x: Double($0.x) * sx, y: Double($0.y) * sy, width: Double($0.width) * sx, height: Double($0.height) * sy) }
    }

    /// `x,y,w,h` in whole pixels, for logs.
    static func describe(_ box: BoundingBox) -> String {
        [box.xmin, box.ymin, box.width, box.height].map { String(Int($0.rounded())) }.joined(separator: ",")
    }

    /// The frames a camera may queue now: more while it has a live track.
    private func queueCapacity(_ slot: CameraSlot) -> Int {
        slot.liveTracks > 0 ? max(queueCapacity, configuration.trackQueueCapacityPerCamera ?? queueCapacity) : queueCapacity
    }

    /// Queues a frame for recognition (counts it as skipped by the gate when `recognize` is false); returns
    /// whether the decoder should go on.
    private func submit(_ frame: Frame, to camera: CameraRuntime, stats: SourceStats, policy: OverflowPolicy,
                        recognize: Bool, searchAreas: [BoundingBox]? = nil) -> Bool {
        let index = camera.index
        let now = configuration.now()
        let queued = QueuedFrame(frame: frame, enqueuedAt: .now, searchAreas: searchAreas)
        let waits = policy == .waitForRoom && recognize
        let outcome = state.withLock(waitingUntil: { state in
            !waits || state.stopRequested || state.cameras[index].pending.count < queueCapacity(state.cameras[index])
        }) { state, waited in
            state.cameras[index].decoded += 1
            state.cameras[index].inputRate.add(at: now)
            state.cameras[index].lastMediaTime = frame.mediaTime
            state.cameras[index].sourceStats = stats
            let newReconnects = max(0, stats.reconnects - state.cameras[index].reportedReconnects)
            state.cameras[index].reportedReconnects = max(stats.reconnects, state.cameras[index].reportedReconnects)
            if waited { state.cameras[index].decoderWaits += 1 }
            guard recognize else {
                state.cameras[index].skipped += 1
                return (dropped: Int?.none, reconnects: newReconnects, stop: state.stopRequested)
            }
            var dropped: Int?
            if state.cameras[index].pending.count >= queueCapacity(state.cameras[index]) {
                // Latest frame wins: the oldest queued frame goes (its image is freed with it).
                state.cameras[index].pending.removeFirst()
                state.cameras[index].dropped += 1
                dropped = state.cameras[index].dropped
            }
            state.cameras[index].pending.append(queued)
            state.cameras[index].noteHeld()
            return (dropped: dropped, reconnects: newReconnects, stop: state.stopRequested)
        }
        camera.metrics.decoded.increment()
        if outcome.reconnects > 0 { camera.metrics.reconnects.increment(by: outcome.reconnects) }
        guard recognize else {
            camera.metrics.skipped.increment()
            return !outcome.stop
        }
        // Wake an idle worker.
        state.broadcast()
        if let dropped = outcome.dropped {
            camera.metrics.dropped.increment()
            if shouldLog(occurrence: dropped) {
                camera.logger.warning("recognition is behind: dropped the oldest queued frame",
                                      metadata: ["dropped": "\(dropped)"])
            }
        }
        return !outcome.stop
    }

    /// The camera's source is done: no frame follows. Flushes the tracker once the frames in flight are
    /// through (now, if there are none).
    private func endSource(_ camera: CameraRuntime, end: CameraEnd, stats: SourceStats?) {
        state.withLock { state in
            state.cameras[camera.index].closer = nil
            state.cameras[camera.index].sourceEnded = true
            state.cameras[camera.index].end = end
            state.cameras[camera.index].phase = .draining
            if case .failed(let message) = end { state.cameras[camera.index].lastError = message }
            if let stats { state.cameras[camera.index].sourceStats = stats }
        }
        camera.logger.info("source ended; draining the camera", metadata: ["end": "\(end)"])
        drain(camera)
    }

    // MARK: - Recognize

    /// A worker thread: waits for a frame it may take (round-robin across cameras), recognizes it,
    /// tracks what is next in order; ends when the pipeline has finished.
    private func workerLoop() {
        while true {
            let job = state.withLock(waitingUntil: { state in
                state.finished || state.hasEligibleWork(maxInFlight: maxInFlight)
            }) { state, _ -> Job? in
                guard let job = state.takeJob(maxInFlight: maxInFlight) else { return nil }
                state.activeWorkers += 1
                state.workersHighWater = max(state.workersHighWater, state.activeWorkers)
                return job
            }
            guard let job else { return }
            // A slot opened in the camera's queue: wake its decoder if it waits for room.
            state.broadcast()
            recognize(job)
            state.withLock { $0.activeWorkers -= 1 }
        }
    }

    private func recognize(_ job: Job) {
        let camera = cameras[job.camera]
        let frame = job.queued.frame
        camera.metrics.queueWait.record(since: job.queued.enqueuedAt)
        var options = camera.configuration.options
        options.searchAreas = job.queued.searchAreas
        if job.degraded {
            options.mode = .fast
            camera.metrics.degraded.increment()
        }
        let started = ContinuousClock.now
        // `frame.image` is read once, inside the closure: a picture kept as the decoder's planes converts here, on the
        // worker, and the packed copy goes when recognition is done (the re-ordering buffer and the best-frame store
        // keep the planes).
        let outcome = Result { try recognizer.recognize(frame.image, scaled: frame.scaled, options: options) }
        camera.metrics.recognize.record(since: started)
        let now = configuration.now()
        let lag = now.timeIntervalSince(frame.wallClock)
        let errors = state.withLock { state -> Int? in
            state.cameras[job.camera].ready[job.sequence] = Completion(frame: frame, outcome: outcome)
            switch outcome {
            case .success:
                state.cameras[job.camera].recognized += 1
                state.cameras[job.camera].recognizedRate.add(at: now)
                state.cameras[job.camera].lag = lag
                state.cameras[job.camera].maxLag = max(state.cameras[job.camera].maxLag ?? lag, lag)
                return nil
            case .failure(let error):
                state.cameras[job.camera].recognitionErrors += 1
                state.cameras[job.camera].lastError = String(describing: error)
                return state.cameras[job.camera].recognitionErrors
            }
        }
        switch outcome {
        case .success(let result):
            camera.metrics.recognized.increment()
            camera.metrics.lag.record(lag)
            // `log_level: trace`: what each frame's first pass searched and what it read, for finding out why a
            // plate was missed.
            camera.logger.trace("frame recognized", metadata: [
                "frame": "\(frame.index)", "time": "\(frame.mediaTime.seconds)",
                "searched": "\(job.queued.searchAreas.map { $0.map { Self.describe($0) }.joined(separator: " ") } ?? "all")",
                "plates": "\(result.plates.map { "\($0.text)@\(Self.describe($0.box)):\(($0.score * 100).rounded() / 100)" }.joined(separator: " "))",
            ])
        case .failure(let error):
            camera.metrics.recognitionErrors.increment()
            if let errors, shouldLog(occurrence: errors) {
                camera.logger.error("recognition failed; the frame is skipped", metadata: [
                    "error": "\(error)", "frame": "\(frame.index)", "errors": "\(errors)",
                ])
            }
        }
        drain(camera)
    }

    // MARK: - Track

    private enum DrainStep {
        case track(Completion)
        case flush(MediaTime?)
        case idle
    }

    /// Runs the camera's tracker over every result that is next in frame order, then flushes it if the
    /// source has ended and nothing is left in flight.
    ///
    /// Called by whichever thread just made progress possible (a worker that finished a frame, or the
    /// decode thread at the end). The `draining` flag, taken under the lock, makes one thread at a time
    /// the camera's tracker thread; a result that arrives meanwhile is picked up by that thread, because
    /// it checks for more work and clears the flag in the same locked step.
    private func drain(_ camera: CameraRuntime) {
        let index = camera.index
        let acquired = state.withLock { state -> Bool in
            guard !state.cameras[index].draining else { return false }
            state.cameras[index].draining = true
            return true
        }
        guard acquired else { return }
        while true {
            let step = state.withLock { state -> DrainStep in
                let next = state.cameras[index].nextTrackSeq
                if let completion = state.cameras[index].ready.removeValue(forKey: next) {
                    state.cameras[index].nextTrackSeq += 1
                    return .track(completion)
                }
                let slot = state.cameras[index]
                if slot.sourceEnded && !slot.flushed && slot.pending.isEmpty && slot.inFlight == 0 {
                    state.cameras[index].flushed = true
                    return .flush(slot.lastMediaTime)
                }
                state.cameras[index].draining = false
                return .idle
            }
            switch step {
            case .track(let completion):
                let result = camera.track(completion)
                fanOut(result.deliveries)
                let live = camera.liveTracks
                state.withLock { state in
                    state.cameras[index].liveTracks = live
                    state.cameras[index].trackedCount += 1
                    state.cameras[index].events += result.deliveries.count
                    state.cameras[index].suppressed += result.suppressed
                    camera.noteRetention(in: &state.cameras[index])
                }
                // A slot under maxInFlight opened: a camera that was held back may have work again.
                state.broadcast()
                if !result.deliveries.isEmpty { camera.metrics.events.increment(by: result.deliveries.count) }
            case .flush(let lastPulled):
                let result = camera.flush(lastPulled: lastPulled)
                fanOut(result.deliveries)
                let (allEnded, health) = state.withLock { state -> (Bool, CameraHealth) in
                    state.cameras[index].events += result.deliveries.count
                    state.cameras[index].suppressed += result.suppressed
                    camera.noteRetention(in: &state.cameras[index])
                    state.cameras[index].phase = .ended
                    state.cameras[index].liveTracks = 0
                    state.endedCameras += 1
                    return (state.endedCameras == cameras.count,
                            camera.health(state.cameras[index], at: configuration.now()))
                }
                if !result.deliveries.isEmpty { camera.metrics.events.increment(by: result.deliveries.count) }
                logHealth(health, message: "camera ended")
                if allEnded { closeSinks() }
            case .idle:
                return
            }
        }
    }

    // MARK: - Sinks

    private func fanOut(_ deliveries: [EventDelivery]) {
        for delivery in deliveries {
            for sink in sinks { sink.enqueue(delivery) }
        }
    }

    /// Every camera has ended: let each sink drain and shut down, then finish (or give up on stuck sinks
    /// after `sinkShutdownTimeout`).
    private func closeSinks() {
        let first = state.withLock { state -> Bool in
            defer { state.sinksClosing = true }
            return !state.sinksClosing
        }
        guard first else { return }
        logger.info("all cameras ended; shutting the sinks down")
        guard !sinks.isEmpty else {
            finish()
            return
        }
        let group = DispatchGroup()
        for sink in sinks {
            group.enter()
            sink.close { group.leave() }
        }
        group.notify(queue: controlQueue) { [self] in finish() }
        let timeout = configuration.sinkShutdownTimeout
        controlQueue.asyncAfter(deadline: .now() + timeout.seconds) { [self] in
            guard !isFinished else { return }
            let stuck = sinks.filter { !$0.health.isShutDown }.map(\.name)
            logger.error("sinks did not shut down in time; giving up on them", metadata: [
                "sinks": "\(stuck)", "timeout_s": "\(timeout.seconds)",
            ])
            finish()
        }
    }

    private func finish() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>]? in
            guard !state.finished else { return nil }
            state.finished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        guard let waiters else { return }
        healthTicker.stop()
        publishGauges(health())
        logger.info("pipeline finished")
        state.broadcast()
        for waiter in waiters { waiter.resume() }
    }
}

/// The per-camera parts that only the camera's current tracker thread touches, plus its immutable setup.
final class CameraRuntime: @unchecked Sendable {
    // Why @unchecked: `tracker`, `store` and `lastTrackedTime` are only used by the thread that holds the
    // camera's `draining` flag (set and cleared under the pipeline's lock, which also orders the
    // accesses of successive holders); everything else is immutable.
    let index: Int
    let configuration: CameraConfiguration
    let metrics: CameraMetrics
    let logger: Logger
    private var tracker: any Tracker
    private var store: BestFrameStore
    private var lastTrackedTime: MediaTime?
    private let vehicleDetector: (any SequentialVehicleDetector)?
    private var vehicleDetectorErrors = 0

    var id: CameraID { configuration.id }
    /// Tracks alive in the camera's tracker (only its tracker thread asks).
    var liveTracks: Int { tracker.activeTrackCount }

    init(index: Int, configuration: CameraConfiguration, imageLimit: Int, metrics: CameraMetrics, logger: Logger) {
        self.index = index
        self.configuration = configuration
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "camera"] = "\(configuration.id)"
        self.logger = logger
        self.tracker = configuration.makeTracker()
        self.store = BestFrameStore(limit: imageLimit)
        do {
            self.vehicleDetector = try configuration.makeVehicleDetector?()
        } catch {
            logger.error("the vehicle detector could not start; vehicles come from the recognizer alone",
                         metadata: ["error": "\(error)"])
            self.vehicleDetector = nil
        }
    }

    /// Gives a recognized frame to the tracker (a failed one is skipped: see `Pipeline`).
    func track(_ completion: Completion) -> (deliveries: [EventDelivery], suppressed: Int) {
        guard case .success(let result) = completion.outcome else { return ([], 0) }
        let started = ContinuousClock.now
        let frame = completion.frame
        // The configured id, not `frame.cameraID`: a source may not know the name its camera has here,
        // and trackers check that observations are theirs.
        var vehicles = result.vehicles
        if vehicles.isEmpty, let vehicleDetector {
            // The camera's own detector sees frames in order here (one tracker thread per camera at a time).
            do {
                vehicles = try vehicleDetector.vehicles(in: frame.image, at: frame.mediaTime)
            } catch {
                vehicleDetectorErrors += 1
                if vehicleDetectorErrors == 1 || vehicleDetectorErrors % 1000 == 0 {
                    logger.error("vehicle detection failed", metadata: ["error": "\(error)", "errors": "\(vehicleDetectorErrors)"])
                }
            }
        }
        let observation = Observation(cameraID: configuration.id, frameIndex: frame.index, mediaTime: frame.mediaTime,
                                      wallClock: frame.wallClock, imageSize: result.imageSize,
                                      plates: result.plates, vehicles: vehicles)
        let outputs = tracker.handle(observation)
        lastTrackedTime = frame.mediaTime
        let applied = store.apply(outputs, frame: frame)
        metrics.track.record(since: started)
        return applied
    }

    /// Flushes the tracker at the later of the last frame pulled and the last frame tracked (a stream's
    /// trailing frames may have been dropped, but the stream did last until them).
    func flush(lastPulled: MediaTime?) -> (deliveries: [EventDelivery], suppressed: Int) {
        let time = [lastPulled, lastTrackedTime].compactMap { $0 }.max() ?? .zero
        let outputs = tracker.flush(at: time)
        let applied = store.apply(outputs, frame: nil)
        store.removeAll()
        return applied
    }

    /// Copies the image store's counters into the camera's slot (called under the pipeline's lock by the
    /// tracker thread).
    func noteRetention(in slot: inout CameraSlot) {
        slot.retained = store.count
        slot.retainedHighWater = store.highWater
        slot.imagesUnavailable = store.unavailable
    }

    func health(_ slot: CameraSlot, at now: Date) -> CameraHealth {
        CameraHealth(cameraID: configuration.id, state: slot.phase, end: slot.end,
                     sourceDescription: slot.sourceDescription, framesDecoded: slot.decoded,
                     framesSkipped: slot.skipped, framesRecognized: slot.recognized, framesDegraded: slot.degraded,
                     framesDropped: slot.dropped,
                     recognitionErrors: slot.recognitionErrors, inputFPS: slot.inputRate.rate(at: now),
                     recognizedFPS: slot.recognizedRate.rate(at: now), lagSeconds: slot.lag, maxLagSeconds: slot.maxLag,
                     reconnects: slot.sourceStats.reconnects, sourceStats: slot.sourceStats,
                     queueDepth: slot.pending.count, queueHighWater: slot.queueHighWater, framesHeld: slot.held,
                     framesHeldHighWater: slot.heldHighWater, decoderWaits: slot.decoderWaits,
                     retainedImages: slot.retained, retainedImagesHighWater: slot.retainedHighWater,
                     imagesUnavailable: slot.imagesUnavailable, liveTracks: slot.liveTracks, events: slot.events, suppressed: slot.suppressed,
                     lastMediaTime: slot.lastMediaTime, lastError: slot.lastError)
    }
}

/// The periodic health timer, confined to its own serial queue.
final class HealthTicker: @unchecked Sendable {
    // Why @unchecked: `timer` and `lastLog` are only touched on `queue`.
    private let queue = DispatchQueue(label: "platestream.health")
    private var timer: (any DispatchSourceTimer)?
    private var lastLog = ContinuousClock.now

    func start(every interval: Duration, _ tick: @escaping @Sendable () -> Void) {
        queue.async { [self] in
            lastLog = .now
            let timer = DispatchSource.makeTimerSource(queue: queue)
            let nanoseconds = max(1, Int(interval.seconds * 1e9))
            timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds))
            timer.setEventHandler(handler: tick)
            timer.resume()
            self.timer = timer
        }
    }

    /// Whether a health line is due; if so, counts it as logged. Called on `queue` (from the tick).
    func logDue(every interval: Duration) -> Bool {
        guard ContinuousClock.now - lastLog >= interval else { return false }
        lastLog = .now
        return true
    }

    func stop() {
        queue.async { [self] in
            timer?.cancel()
            timer = nil
        }
    }
}
