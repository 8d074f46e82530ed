import Foundation
import Logging
import PlateCore
import PlatePipeline
import PlateTesting
import Testing

/// What a tracker was given, for assertions (trackers are values; this is shared by reference).
final class ObservationLog: @unchecked Sendable {
    // Why @unchecked: every var is guarded by `lock`.
    private let lock = NSLock()
    private var items: [Observation] = []
    private var flushes: [MediaTime] = []

    func append(_ observation: Observation) { lock.withLock { items.append(observation) } }
    func flushed(at time: MediaTime) { lock.withLock { flushes.append(time) } }
    var observations: [Observation] { lock.withLock { items } }
    var frameIndices: [Int] { observations.map(\.frameIndex) }
    var flushTimes: [MediaTime] { lock.withLock { flushes } }
}

/// A trivial tracker for pipeline tests: one track per plate text, alive while the text is in every
/// frame; best frame = highest score; reported when the text is missing from a frame (`trackEnded`) or
/// at flush (`endOfStream`).
struct TextTracker: Tracker {
    private struct Open {
        var id: TrackID
        var first: Observation
        var last: Observation
        var best: (read: PlateRead, observation: Observation)
        var count: Int
    }

    let cameraID: CameraID
    let log: ObservationLog
    private var open: [String: Open] = [:]
    private var nextID = 1

    init(cameraID: CameraID, log: ObservationLog = ObservationLog()) {
        self.cameraID = cameraID
        self.log = log
    }

    var activeTrackCount: Int { open.count }

    mutating func handle(_ observation: Observation) -> [TrackerOutput] {
        precondition(observation.cameraID == cameraID, "observation of another camera")
        log.append(observation)
        var outputs: [TrackerOutput] = []
        var present = Set<String>()
        for plate in observation.plates where present.insert(plate.text).inserted {
            if var track = open[plate.text] {
                track.last = observation
                track.count += 1
                if plate.score > track.best.read.score {
                    track.best = (plate, observation)
                    outputs.append(.bestFrameChanged(track.id, frameIndex: observation.frameIndex))
                }
                open[plate.text] = track
            } else {
                let id = TrackID(nextID)
                nextID += 1
                open[plate.text] = Open(id: id, first: observation, last: observation, best: (plate, observation), count: 1)
                outputs.append(.started(id, frameIndex: observation.frameIndex))
            }
        }
        for (text, track) in open.sorted(by: { $0.value.id < $1.value.id }) where !present.contains(text) {
            outputs.append(.event(event(track, reason: .trackEnded)))
            outputs.append(.ended(track.id))
            open[text] = nil
        }
        return outputs
    }

    mutating func flush(at time: MediaTime) -> [TrackerOutput] {
        log.flushed(at: time)
        var outputs: [TrackerOutput] = []
        for track in open.values.sorted(by: { $0.id < $1.id }) {
            outputs.append(.event(event(track, reason: .endOfStream)))
            outputs.append(.ended(track.id))
        }
        open.removeAll()
        return outputs
    }

    private func event(_ track: Open, reason: EmissionReason) -> TrackEvent {
        let read = track.best.read
        let consensus = PlateConsensus(text: read.text, score: read.score, candidates: read.candidates, region: nil,
                                       readCount: track.count, bestRead: read)
        return TrackEvent(trackID: track.id, cameraID: cameraID, plate: consensus, vehicle: nil, direction: nil,
                          bestFrameIndex: track.best.observation.frameIndex,
                          bestFrameTime: track.best.observation.mediaTime,
                          timestamp: track.best.observation.wallClock, imageSize: track.best.observation.imageSize,
                          firstSeen: track.first.mediaTime, lastSeen: track.last.mediaTime, frameCount: track.count,
                          reason: reason, sourceURL: "scripted://\(cameraID)")
    }
}

/// A `PipelineSink` recording deliveries (with images); thread-safe.
final class DeliveryRecorder: PipelineSink, @unchecked Sendable {
    // Why @unchecked: every var is guarded by `lock`.
    private let lock = NSLock()
    private var items: [EventDelivery] = []
    private var shutdowns = 0

    func deliver(_ delivery: EventDelivery) throws { lock.withLock { items.append(delivery) } }
    func shutdown() { lock.withLock { shutdowns += 1 } }

    var deliveries: [EventDelivery] { lock.withLock { items } }
    var plates: [String] { deliveries.compactMap { $0.event.plate?.text } }
    var shutdownCount: Int { lock.withLock { shutdowns } }
}

/// Holds a value across `@Sendable` closures in tests.
final class Box<Value: Sendable>: @unchecked Sendable {
    // Why @unchecked: `stored` is guarded by `lock`.
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// A camera playing `source` (created once, handed out by the factory) with a `TextTracker` logging to `log`.
func camera(_ source: ScriptedFrameSource, id: CameraID? = nil, log: ObservationLog = ObservationLog(),
            options: RecognitionOptions = RecognitionOptions(), overflow: OverflowPolicy = .waitForRoom)
    -> CameraConfiguration {
    let id = id ?? source.cameraID
    let box = SendableSource(source)
    return CameraConfiguration(id: id, options: options, overflow: overflow, makeSource: { box.source },
                               makeTracker: { TextTracker(cameraID: id, log: log) })
}

/// Lets a test keep a reference to a source it hands to a `@Sendable` factory.
struct SendableSource: @unchecked Sendable {
    // Why @unchecked: ScriptedFrameSource is thread-safe; FrameSource just does not say so.
    let source: ScriptedFrameSource
    init(_ source: ScriptedFrameSource) { self.source = source }
}

/// Test defaults: no periodic timers, tiny queues, warnings and errors logged.
func testConfiguration(workers: Int = 2, queue: Int = 2, maxInFlight: Int? = nil, images: Int = 32,
                       sinkCapacity: Int = 64, sinkShutdownTimeout: Duration = .seconds(60),
                       now: (@Sendable () -> Date)? = nil) -> PipelineConfiguration {
    var logger = Logger(label: "platestream.pipeline.test")
    logger.logLevel = .warning
    return PipelineConfiguration(workerCount: workers, queueCapacityPerCamera: queue, maxInFlightPerCamera: maxInFlight,
                                 maxRetainedImagesPerCamera: images, defaultSinkCapacity: sinkCapacity,
                                 sinkShutdownTimeout: sinkShutdownTimeout, metricsInterval: nil, healthLogInterval: nil,
                                 logger: logger, now: now ?? { Date() })
}

/// Runs the pipeline in the background; returns whether it finished within `timeout`.
/// (Not a timing assertion: the deadline only stops a broken pipeline from hanging the test run.)
@discardableResult
func runToEnd(_ pipeline: Pipeline, timeout: Duration = .seconds(60)) async -> Bool {
    Task.detached { await pipeline.run() }
    let finished = await eventually(timeout: timeout) { pipeline.isFinished }
    #expect(finished, "the pipeline did not finish within \(timeout)")
    return finished
}

/// `count` frames with `text` read at `scores` (one per frame) starting at `start`.
func plates(_ text: String, from start: Int, scores: [Double]) -> [Int: [PlateRead]] {
    var result: [Int: [PlateRead]] = [:]
    for (offset, score) in scores.enumerated() { result[start + offset] = [FakePlates.read(text, score: score)] }
    return result
}

extension Dictionary where Key == Int, Value == [PlateRead] {
    /// Both scripts' reads, frame by frame.
    func merging(_ other: [Int: [PlateRead]]) -> [Int: [PlateRead]] { merging(other) { $0 + $1 } }
}
