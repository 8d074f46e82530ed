import Foundation
import PlateCore
import PlatePipeline
import PlateTesting
import Testing

@Suite("Pipeline: lifecycle")
struct PipelineLifecycleTests {
    @Test("graceful shutdown of a live camera delivers every frame in flight and shuts the sinks down")
    func shutdownDrainsInFlight() async throws {
        let gate = TestGate()
        // Every frame shows plate LIVE1: the track is open when we stop, so only the flush reports it.
        var script: [Int: [PlateRead]] = [:]
        for index in 0..<50 { script[index] = [FakePlates.read("LIVE1", score: 0.5 + Double(index) / 100)] }
        let recognizer = ScriptedRecognizer(platesByFrame: script, gate: gate)
        let source = ScriptedFrameSource.frames(50, isLive: true)
        let log = ObservationLog()
        let sink = DeliveryRecorder()
        let plain = RecordingEventSink()
        let pipeline = try Pipeline(configuration: testConfiguration(workers: 2, queue: 2),
                                    cameras: [camera(source, log: log, overflow: .dropOldest)], recognizer: recognizer,
                                    sinks: [SinkRegistration(name: "images", sink: sink),
                                            SinkRegistration(name: "plain", eventSink: plain)])
        pipeline.start()
        // The live source has sent everything and now stalls; two frames are with workers, two queued.
        let settled = await eventually { source.finishedPulling && pipeline.health().cameras[0].framesHeld == 4 }
        try #require(settled, "\(pipeline.health()) pulled: \(source.finishedPulling) calls: \(recognizer.calls.count)")

        let done = Box(false)
        Task.detached {
            await pipeline.shutdown()
            done.value = true
        }
        try #require(await eventually { pipeline.health().cameras[0].state == .draining })
        #expect(source.isClosed)
        #expect(!done.value, "shutdown must wait for the frames in flight")
        #expect(sink.deliveries.isEmpty)
        gate.open()
        try #require(await eventually { done.value })

        let health = try #require(pipeline.health().cameras.first)
        #expect(health.end == .stopped)
        #expect(health.state == .ended)
        #expect(health.framesRecognized == 4, "the frames in flight were recognized, not thrown away")
        #expect(log.observations.count == 4)
        #expect(log.flushTimes.count == 1)
        #expect(sink.plates == ["LIVE1"])
        #expect(sink.deliveries.first?.event.reason == .endOfStream)
        #expect(sink.deliveries.first?.event.frameCount == 4)
        #expect(sink.deliveries.first?.bestFrame.flatMap { ImageStamp(reading: $0)?.frameIndex } == 49)
        #expect(plain.events.count == 1)
        #expect(sink.shutdownCount == 1 && plain.shutdownCount == 1)
        #expect(pipeline.isFinished)
    }

    @Test("a source that throws mid-stream ends its camera cleanly; other cameras go on")
    func sourceFailureEndsCamera() async throws {
        // Camera "bad" fails at frame 12 while plate OPEN1 is in view; camera "good" runs to its end.
        let script = plates("OPEN1", from: 8, scores: [0.7, 0.8, 0.9, 0.6])
        let recognizer = ScriptedRecognizer { stamp, image, _ in
            let size = ImageSize(width: image.width, height: image.height)
            guard stamp?.tag == 1, let index = stamp?.frameIndex else { return FakePlates.result([], size: size) }
            return FakePlates.result(script[index] ?? [], size: size)
        }
        let bad = ScriptedFrameSource.frames(20, cameraID: "bad", tag: 1, failAt: 12)
        let good = ScriptedFrameSource.frames(30, cameraID: "good", tag: 2)
        let badLog = ObservationLog()
        let sink = DeliveryRecorder()
        let pipeline = try Pipeline(configuration: testConfiguration(),
                                    cameras: [camera(bad, log: badLog), camera(good)], recognizer: recognizer,
                                    sinks: [SinkRegistration(name: "sink", sink: sink)])
        try #require(await runToEnd(pipeline))

        let health = pipeline.health()
        let badHealth = try #require(health[camera: "bad"])
        #expect(badHealth.end == .failed(String(describing: ScriptedSourceError.injected)))
        #expect(badHealth.lastError == String(describing: ScriptedSourceError.injected))
        #expect(badHealth.state == .ended)
        #expect(badHealth.framesDecoded == 12)
        #expect(badLog.frameIndices == Array(0..<12))
        #expect(badLog.flushTimes == [MediaTime(value: 11, timescale: 25)])
        // The open track was flushed and reported, with its best frame.
        #expect(sink.plates == ["OPEN1"])
        #expect(sink.deliveries.first?.event.reason == .endOfStream)
        #expect(sink.deliveries.first?.event.bestFrameIndex == 10)
        #expect(sink.deliveries.first?.bestFrame.flatMap { ImageStamp(reading: $0) } == ImageStamp(tag: 1, frameIndex: 10))
        let goodHealth = try #require(health[camera: "good"])
        #expect(goodHealth.end == .endOfStream)
        #expect(goodHealth.framesRecognized == 30)
        #expect(sink.shutdownCount == 1)
    }

    @Test("a source that cannot be opened ends its camera as failed without stopping the pipeline")
    func sourceThatCannotOpen() async throws {
        struct OpenFailure: Error {}
        let sink = RecordingEventSink()
        let broken = CameraConfiguration(id: "broken", makeSource: { throw OpenFailure() },
                                         makeTracker: { TextTracker(cameraID: "broken") })
        let fine = ScriptedFrameSource.frames(5, cameraID: "fine")
        let pipeline = try Pipeline(configuration: testConfiguration(), cameras: [broken, camera(fine)],
                                    recognizer: ScriptedRecognizer(), sinks: [SinkRegistration(name: "s", eventSink: sink)])
        try #require(await runToEnd(pipeline))
        let health = pipeline.health()
        guard case .failed = health[camera: "broken"]?.end else {
            Issue.record("expected a failed camera, got \(String(describing: health[camera: "broken"]?.end))")
            return
        }
        #expect(health[camera: "broken"]?.framesDecoded == 0)
        #expect(health[camera: "fine"]?.framesRecognized == 5)
        #expect(sink.shutdownCount == 1)
    }

    @Test("shutdown before start, and a pipeline without cameras, both finish")
    func degenerateLifecycles() async throws {
        let sink = RecordingEventSink()
        let source = ScriptedFrameSource.frames(5, isLive: true)
        let pipeline = try Pipeline(configuration: testConfiguration(), cameras: [camera(source)],
                                    recognizer: ScriptedRecognizer(), sinks: [SinkRegistration(name: "s", eventSink: sink)])
        await pipeline.shutdown()
        #expect(pipeline.isFinished)
        #expect(pipeline.health().cameras.first?.end == .stopped)
        #expect(source.nextFrameCalls == 0, "a pipeline stopped before it started opens nothing")
        #expect(sink.shutdownCount == 1)
        await pipeline.shutdown()  // idempotent
        await pipeline.run()       // returns at once once finished

        let empty = try Pipeline(configuration: testConfiguration(), cameras: [], recognizer: ScriptedRecognizer(),
                                 sinks: [SinkRegistration(name: "s", eventSink: RecordingEventSink())])
        await empty.run()
        #expect(empty.isFinished)
        empty.waitUntilFinished()  // the blocking variant returns at once too
    }

    @Test("cancelling the task running run() shuts the pipeline down gracefully")
    func cancellationRequestsShutdown() async throws {
        let source = ScriptedFrameSource.frames(3, isLive: true)
        let sink = RecordingEventSink()
        let pipeline = try Pipeline(configuration: testConfiguration(), cameras: [camera(source)],
                                    recognizer: ScriptedRecognizer(platesByFrame: [0: [FakePlates.read("CAN1")]]),
                                    sinks: [SinkRegistration(name: "s", eventSink: sink)])
        let task = Task.detached { await pipeline.run() }
        try #require(await eventually { pipeline.health().cameras[0].framesRecognized == 3 })
        task.cancel()
        await task.value
        #expect(pipeline.isFinished)
        #expect(source.isClosed)
        #expect(sink.events.map { $0.plate?.text } == ["CAN1"])
    }

    @Test("configurations that cannot work are refused at construction")
    func invalidConfigurations() throws {
        let source = ScriptedFrameSource.frames(1)
        #expect(throws: PipelineError.duplicateCamera("camera-1")) {
            _ = try Pipeline(configuration: testConfiguration(), cameras: [camera(source), camera(source)],
                             recognizer: ScriptedRecognizer(), sinks: [])
        }
        #expect(throws: PipelineError.duplicateSink("x")) {
            _ = try Pipeline(configuration: testConfiguration(), cameras: [],
                             recognizer: ScriptedRecognizer(),
                             sinks: [SinkRegistration(name: "x", eventSink: RecordingEventSink()),
                                     SinkRegistration(name: "x", eventSink: RecordingEventSink())])
        }
        #expect(throws: PipelineError.self) {
            _ = try Pipeline(configuration: testConfiguration(workers: 0), cameras: [],
                             recognizer: ScriptedRecognizer(), sinks: [])
        }
    }
}
