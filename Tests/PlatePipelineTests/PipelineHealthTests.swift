import CoreMetrics
import Foundation
import PlateCore
@testable import PlatePipeline
import PlateTesting
import Testing

@Suite("Pipeline: health and metrics")
struct PipelineHealthTests {
    @Test("lag is the wall clock at recognition minus the frame's wall clock; reconnects come from the source")
    func lagAndReconnects() async throws {
        let clock = ManualClock()
        let captured = clock.now
        var script: [ScriptedFrameSource.Step] = [.reconnect]
        for _ in 0..<5 { script.append(.frame(.init(wallClock: captured))) }
        script.append(.reconnect)
        script.append(.frame(.init(wallClock: captured)))
        let source = ScriptedFrameSource(script: script)
        clock.advance(by: 2.5)
        let pipeline = try Pipeline(configuration: testConfiguration(now: clock.reader), cameras: [camera(source)],
                                    recognizer: ScriptedRecognizer(), sinks: [])
        try #require(await runToEnd(pipeline))
        let health = try #require(pipeline.health().cameras.first)
        #expect(health.lagSeconds == 2.5)
        #expect(health.maxLagSeconds == 2.5)
        #expect(health.reconnects == 2)
        #expect(health.sourceStats.delivered == 6)
        #expect(health.sourceDescription == "scripted://camera-1")
        #expect(health.lastMediaTime == MediaTime(value: 5, timescale: 25))
    }

    @Test("a frame whose recognition throws is skipped (not shown to the tracker) and counted")
    func recognitionErrorsSkipFrames() async throws {
        let source = ScriptedFrameSource.frames(10)
        let log = ObservationLog()
        let pipeline = try Pipeline(configuration: testConfiguration(), cameras: [camera(source, log: log)],
                                    recognizer: ScriptedRecognizer(failingFrames: [3, 7]), sinks: [])
        try #require(await runToEnd(pipeline))
        #expect(log.frameIndices == [0, 1, 2, 4, 5, 6, 8, 9])
        let health = try #require(pipeline.health().cameras.first)
        #expect(health.recognitionErrors == 2)
        #expect(health.framesRecognized == 8)
        #expect(health.lastError != nil)
        #expect(health.state == .ended)
    }

    @Test("metrics carry a camera dimension and match the health snapshot")
    func metricsExported() async throws {
        let metrics = RecordingMetrics()
        let source = ScriptedFrameSource.frames(100)
        var configuration = testConfiguration(workers: 1, queue: 1)
        configuration.metricsFactory = metrics
        // Exercise the periodic gauge update and health log too.
        configuration.metricsInterval = .milliseconds(10)
        configuration.healthLogInterval = .milliseconds(10)
        let gate = TestGate()
        let recognizer = ScriptedRecognizer(gate: gate)
        let pipeline = try Pipeline(configuration: configuration,
                                    cameras: [camera(source, id: "gate-7", overflow: .dropOldest)],
                                    recognizer: recognizer, sinks: [SinkRegistration(name: "s", eventSink: RecordingEventSink())])
        Task.detached { await pipeline.run() }
        try #require(await eventually { source.finishedPulling })
        gate.open()
        try #require(await eventually { pipeline.isFinished })
        let health = try #require(pipeline.health().cameras.first)
        let camera = [("camera", "gate-7")]
        #expect(metrics.counter("platestream_frames_decoded_total", camera) == 100)
        #expect(metrics.counter("platestream_frames_dropped_total", camera) == Int64(health.framesDropped))
        #expect(metrics.counter("platestream_frames_recognized_total", camera) == Int64(health.framesRecognized))
        #expect(health.framesDropped > 0)
        #expect(metrics.timerCount("platestream_stage_duration", camera + [("stage", "recognize")]) == health.framesRecognized)
        #expect(metrics.timerCount("platestream_stage_duration", camera + [("stage", "decode")]) == 100)
        #expect(metrics.timerCount("platestream_stage_duration", camera + [("stage", "queue")]) == health.framesRecognized)
        #expect(metrics.recorded("platestream_lag_seconds", camera) != nil)
        #expect(metrics.recorded("platestream_queue_depth", camera) == 0)
        #expect(metrics.recorded("platestream_input_fps", camera) != nil)
        #expect(metrics.counter("platestream_sink_delivered_total", [("sink", "s")]) == 0)
    }

    @Test("rates count whole seconds over a short window")
    func rateWindow() {
        var window = RateWindow()
        let start = Date(timeIntervalSince1970: 1_000)
        #expect(window.rate(at: start) == 0)
        for tick in 0..<50 { window.add(at: start.addingTimeInterval(Double(tick) * 0.1)) }  // 10/s for 5 s
        #expect(window.rate(at: start.addingTimeInterval(5.0)) == 10)
        #expect(window.rate(at: start.addingTimeInterval(2.0)) == 10)  // 2 complete seconds so far
        #expect(window.rate(at: start.addingTimeInterval(7.0)) == 6)   // seconds 2...6: 30 in 5 s
        #expect(window.rate(at: start.addingTimeInterval(60)) == 0)
    }

    @Test("the best-frame store keeps one image per live track and releases it at the end")
    func bestFrameStore() {
        var store = BestFrameStore(limit: 2)
        func frame(_ index: Int) -> Frame {
            Frame(cameraID: "c", index: index, mediaTime: MediaTime(value: Int64(index), timescale: 10), wallClock: Date(),
                  image: SyntheticImage.make(width: 8, height: 2, stamp: ImageStamp(frameIndex: index)))
        }
        let one = TrackID(1), two = TrackID(2), three = TrackID(3)
        _ = store.apply([.started(one, frameIndex: 0), .started(two, frameIndex: 0)], frame: frame(0))
        _ = store.apply([.bestFrameChanged(one, frameIndex: 1), .started(three, frameIndex: 1)], frame: frame(1))
        #expect(store.count == 2)
        #expect(store.unavailable == 1)  // track 3: no room
        // A tracker naming a frame other than the current one: that image is not available.
        _ = store.apply([.bestFrameChanged(two, frameIndex: 0)], frame: frame(2))
        #expect(store.count == 1)
        #expect(store.unavailable == 2)
        let event = TrackEvent(trackID: one, cameraID: "c", plate: nil, vehicle: nil, direction: nil, bestFrameIndex: 1,
                               bestFrameTime: MediaTime(value: 1, timescale: 10), timestamp: Date(),
                               imageSize: ImageSize(width: 8, height: 2), firstSeen: .zero, lastSeen: .zero, frameCount: 2,
                               reason: .trackEnded, sourceURL: "")
        let (deliveries, _) = store.apply([.event(event), .ended(one)], frame: frame(3))
        #expect(deliveries.count == 1)
        #expect(deliveries.first?.bestFrame.flatMap { ImageStamp(reading: $0)?.frameIndex } == 1)
        #expect(store.count == 0)
        #expect(store.highWater == 2)
    }

    @Test("the best-frame store keeps a frame held as planes as planes: nothing converts until a sink reads it")
    func bestFrameStoreKeepsPlanes() {
        let conversions = Locked(0)
        func frame(_ index: Int) -> Frame {
            let image = SyntheticImage.make(width: 8, height: 2, stamp: ImageStamp(frameIndex: index))
            let picture = FramePicture(width: 8, height: 2, planes: PixelBuffer(count: 24)) { _ in
                conversions.withLock { $0 += 1 }
                return image
            }
            return Frame(cameraID: "c", index: index, mediaTime: MediaTime(value: Int64(index), timescale: 10), wallClock: Date(),
                         picture: picture)
        }
        var store = BestFrameStore(limit: 2)
        let one = TrackID(1)
        _ = store.apply([.started(one, frameIndex: 0)], frame: frame(0))
        _ = store.apply([.bestFrameChanged(one, frameIndex: 1)], frame: frame(1))
        let event = TrackEvent(trackID: one, cameraID: "c", plate: nil, vehicle: nil, direction: nil, bestFrameIndex: 1,
                               bestFrameTime: MediaTime(value: 1, timescale: 10), timestamp: Date(),
                               imageSize: ImageSize(width: 8, height: 2), firstSeen: .zero, lastSeen: .zero, frameCount: 2,
                               reason: .trackEnded, sourceURL: "")
        let (deliveries, _) = store.apply([.event(event), .ended(one)], frame: frame(2))
        #expect(conversions.withLock { $0 } == 0)
        let delivery = deliveries.first
        #expect(delivery?.bestPicture?.isDeferred == true)
        #expect(delivery?.bestPicture?.heldBytes == 24)
        #expect(delivery?.bestFrame.flatMap { ImageStamp(reading: $0)?.frameIndex } == 1)
        #expect(conversions.withLock { $0 } == 1)
    }
}

/// A swift-metrics backend that keeps what it is given, keyed by label and dimensions.
final class RecordingMetrics: MetricsFactory, @unchecked Sendable {
    // Why @unchecked: every var is guarded by `lock`.
    private let lock = NSLock()
    private var counters: [String: Int64] = [:]
    private var recorders: [String: Double] = [:]
    private var timers: [String: Int] = [:]

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + dimensions.sorted { $0.0 < $1.0 }.map { "|\($0.0)=\($0.1)" }.joined()
    }

    func counter(_ label: String, _ dimensions: [(String, String)]) -> Int64 {
        lock.withLock { counters[Self.key(label, dimensions)] ?? 0 }
    }
    func recorded(_ label: String, _ dimensions: [(String, String)]) -> Double? {
        lock.withLock { recorders[Self.key(label, dimensions)] }
    }
    func timerCount(_ label: String, _ dimensions: [(String, String)]) -> Int {
        lock.withLock { timers[Self.key(label, dimensions)] ?? 0 }
    }

    private final class Handler: CounterHandler, RecorderHandler, TimerHandler, @unchecked Sendable {
        // Why @unchecked: it only forwards to the thread-safe factory.
        let key: String
        unowned let owner: RecordingMetrics
        init(key: String, owner: RecordingMetrics) { self.key = key; self.owner = owner }
        func increment(by amount: Int64) { owner.lock.withLock { owner.counters[key, default: 0] += amount } }
        func reset() { owner.lock.withLock { owner.counters[key] = 0 } }
        func record(_ value: Int64) { record(Double(value)) }
        func record(_ value: Double) { owner.lock.withLock { owner.recorders[key] = value } }
        func recordNanoseconds(_ duration: Int64) { owner.lock.withLock { owner.timers[key, default: 0] += 1 } }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handler(key: Self.key(label, dimensions), owner: self)
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(key: Self.key(label, dimensions), owner: self)
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Handler(key: Self.key(label, dimensions), owner: self)
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
