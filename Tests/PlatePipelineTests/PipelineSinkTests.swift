import Foundation
import PlateCore
import PlatePipeline
import PlateTesting
import Testing

@Suite("Pipeline: sinks")
struct PipelineSinkTests {
    /// Four passages, each five frames then five empty ones: TRK1 ends at frame 5, the source then waits
    /// at `pause`, and TRK2..TRK4 end at frames 15, 25, 35.
    private static func fourPassages(pause: TestGate) -> (ScriptedFrameSource, ScriptedRecognizer) {
        var script: [ScriptedFrameSource.Step] = []
        for index in 0..<40 {
            if index == 10 { script.append(.wait(pause)) }
            script.append(.frame(.init()))
        }
        var reads: [Int: [PlateRead]] = [:]
        for (n, start) in [0, 10, 20, 30].enumerated() {
            reads = reads.merging(plates("TRK\(n + 1)", from: start, scores: [0.8, 0.9, 0.7, 0.7, 0.7]))
        }
        return (ScriptedFrameSource(script: script), ScriptedRecognizer(platesByFrame: reads))
    }

    @Test("a sink that blocks holds up neither the other sinks nor the tracker")
    func blockedSinkIsolated() async throws {
        let pause = TestGate(), stuck = TestGate()
        let (source, recognizer) = Self.fourPassages(pause: pause)
        let log = ObservationLog()
        let blocked = RecordingEventSink(behavior: .block(stuck))
        let fast = DeliveryRecorder()
        let pipeline = try Pipeline(configuration: testConfiguration(),
                                    cameras: [camera(source, log: log)], recognizer: recognizer,
                                    sinks: [SinkRegistration(name: "blocked", eventSink: blocked),
                                            SinkRegistration(name: "fast", sink: fast)])
        Task.detached { await pipeline.run() }
        try #require(await eventually { stuck.waiterCount == 1 })
        pause.open()

        // The tracker saw every frame and the fast sink got every event while the blocked sink is still
        // stuck in its first delivery.
        try #require(await eventually { log.observations.count == 40 && fast.plates.count == 4 })
        #expect(fast.plates == ["TRK1", "TRK2", "TRK3", "TRK4"])
        #expect(blocked.deliveryAttempts == 1)
        #expect(blocked.events.isEmpty)
        #expect(pipeline.health()[sink: "blocked"]?.queueDepth == 3)
        #expect(!pipeline.isFinished, "the pipeline waits for the blocked sink to drain")

        stuck.open()
        try #require(await eventually { pipeline.isFinished })
        #expect(blocked.events.compactMap { $0.plate?.text } == ["TRK1", "TRK2", "TRK3", "TRK4"])
        #expect(blocked.shutdownCount == 1)
        #expect(pipeline.health()[sink: "blocked"]?.dropped == 0)
    }

    @Test("a sink that stays behind loses its oldest queued events, counted, and only its own")
    func slowSinkDropsOldest() async throws {
        let pause = TestGate(), stuck = TestGate()
        let (source, recognizer) = Self.fourPassages(pause: pause)
        let blocked = RecordingEventSink(behavior: .block(stuck))
        let fast = DeliveryRecorder()
        let pipeline = try Pipeline(configuration: testConfiguration(),
                                    cameras: [camera(source)], recognizer: recognizer,
                                    sinks: [SinkRegistration(name: "small", capacity: 2, eventSink: blocked),
                                            SinkRegistration(name: "fast", sink: fast)])
        Task.detached { await pipeline.run() }
        // TRK1 is in the blocked sink's hands; TRK2..TRK4 arrive at a queue of two.
        try #require(await eventually { stuck.waiterCount == 1 })
        pause.open()
        try #require(await eventually { fast.plates.count == 4 })
        let small = try #require(pipeline.health()[sink: "small"])
        #expect(small.dropped == 1)
        #expect(small.queueDepth == 2)
        #expect(small.queueHighWater == 2)
        stuck.open()
        try #require(await eventually { pipeline.isFinished })
        #expect(blocked.events.compactMap { $0.plate?.text } == ["TRK1", "TRK3", "TRK4"])
        #expect(fast.plates == ["TRK1", "TRK2", "TRK3", "TRK4"])
        #expect(pipeline.health()[sink: "fast"]?.dropped == 0)
    }

    @Test("a sink that throws is logged and counted, not fatal")
    func throwingSinkCounted() async throws {
        let (source, recognizer) = Self.fourPassages(pause: { let g = TestGate(); g.open(); return g }())
        let failing = RecordingEventSink.failing()
        let good = DeliveryRecorder()
        let pipeline = try Pipeline(configuration: testConfiguration(),
                                    cameras: [camera(source)], recognizer: recognizer,
                                    sinks: [SinkRegistration(name: "failing", eventSink: failing),
                                            SinkRegistration(name: "good", sink: good)])
        try #require(await runToEnd(pipeline))
        #expect(failing.failures == 4)
        #expect(failing.shutdownCount == 1)
        #expect(good.plates == ["TRK1", "TRK2", "TRK3", "TRK4"])
        let health = pipeline.health()
        #expect(health[sink: "failing"]?.failures == 4)
        #expect(health[sink: "failing"]?.delivered == 0)
        #expect(health[sink: "good"]?.delivered == 4)
        #expect(health.cameras.first?.events == 4)
    }

    @Test("a sink that never returns is given up on after the shutdown timeout")
    func stuckSinkTimesOut() async throws {
        let stuck = TestGate()
        defer { stuck.open() }  // let the sink's thread go when the test ends
        let source = ScriptedFrameSource.frames(3)
        let blocked = RecordingEventSink(behavior: .block(stuck))
        let pipeline = try Pipeline(configuration: testConfiguration(sinkShutdownTimeout: .milliseconds(200)),
                                    cameras: [camera(source)],
                                    recognizer: ScriptedRecognizer(platesByFrame: [0: [FakePlates.read("STUCK1")]]),
                                    sinks: [SinkRegistration(name: "stuck", eventSink: blocked)])
        try #require(await runToEnd(pipeline))
        #expect(pipeline.health()[sink: "stuck"]?.isShutDown == false)
        #expect(blocked.shutdownCount == 0)
    }
}
