import Foundation
import PlateCore
import PlatePipeline
import PlateTesting
import Testing

/// The motion gate and the catch-up mode inside the pipeline, with scripted sources and recognizers.
@Suite("Pipeline: gating and catching up")
struct PipelineGatingTests {
    /// A gated camera playing `source` with a `TextTracker` logging to `log`.
    func gated(_ source: ScriptedFrameSource, log: ObservationLog, gate: MotionGate.Settings? = MotionGate.Settings())
        -> CameraConfiguration {
        var configuration = camera(source, log: log)
        configuration.gate = gate
        return configuration
    }

    @Test("frames where nothing changes are skipped before recognition, and the tracker never sees them")
    func unchangedFramesAreSkipped() async throws {
        // 100 identical 640 x 360 frames at 25 fps (4 s): the start and the second after it are recognized.
        let source = ScriptedFrameSource.frames(100, width: 640, height: 360)
        let log = ObservationLog()
        let recognizer = ScriptedRecognizer()
        let pipeline = try Pipeline(configuration: testConfiguration(), cameras: [gated(source, log: log)],
                                    recognizer: recognizer, sinks: [])
        try #require(await runToEnd(pipeline))
        let health = try #require(pipeline.health().cameras.first)
        #expect(health.framesDecoded == 100)
        #expect(health.framesSkipped == 75)
        #expect(health.framesRecognized == 25)
        #expect(recognizer.callCount == 25)
        #expect(log.frameIndices == Array(0..<25), "the tracker saw only the recognized frames")
        #expect(health.framesDropped == 0)
    }

    @Test("without a gate every frame is recognized")
    func noGateRecognizesEverything() async throws {
        let source = ScriptedFrameSource.frames(100, width: 640, height: 360)
        let log = ObservationLog()
        let pipeline = try Pipeline(configuration: testConfiguration(), cameras: [gated(source, log: log, gate: nil)],
                                    recognizer: ScriptedRecognizer(), sinks: [])
        try #require(await runToEnd(pipeline))
        #expect(pipeline.health().cameras.first?.framesSkipped == 0)
        #expect(log.frameIndices == Array(0..<100))
    }

    @Test("a frame in which a track is alive is never skipped, though nothing moves")
    func aLiveTrackKeepsEveryFrame() async throws {
        // A parked car: the same picture throughout, its plate read in frames 0..<80; the track ends after.
        let source = ScriptedFrameSource.frames(150, width: 640, height: 360)
        let log = ObservationLog()
        let recognizer = ScriptedRecognizer(platesByFrame: plates("PARK123", from: 0, scores: Array(repeating: 0.9, count: 80)))
        let pipeline = try Pipeline(configuration: testConfiguration(), cameras: [gated(source, log: log)],
                                    recognizer: recognizer, sinks: [])
        try #require(await runToEnd(pipeline))
        let seen = log.frameIndices
        #expect(Array(seen.prefix(81)) == Array(0...80), "every frame while the track was alive, and the one that ended it")
        // Once the track ended (frame 80), the idle picture is skipped again, but for the second's hold... after it.
        let health = try #require(pipeline.health().cameras.first)
        #expect(health.framesSkipped >= 60)
        #expect(health.framesSkipped + health.framesRecognized == 150)
    }

    @Test("a live camera that is behind recognizes its next frame in fast mode, and counts it")
    func aCameraBehindCatchesUpInFastMode() async throws {
        // 60 live frames 10 ms apart, recognition 40 ms on one worker: the camera is behind most of the time.
        let source = ScriptedFrameSource.frames(60, delay: .milliseconds(10), isLive: true)
        let recognizer = ScriptedRecognizer(delay: .milliseconds(40))
        var configuration = testConfiguration(workers: 1, queue: 3)
        configuration.degradeWhenBehind = true
        let pipeline = try Pipeline(configuration: configuration, cameras: [camera(source, overflow: .dropOldest)],
                                    recognizer: recognizer, sinks: [])
        Task.detached { await pipeline.run() }
        try #require(await eventually { source.finishedPulling && recognizer.runningCount == 0 && pipeline.health().cameras[0].framesHeld == 0 })
        await pipeline.shutdown()
        let health = try #require(pipeline.health().cameras.first)
        let fast = recognizer.calls.filter { $0.options.mode == .fast }.count
        #expect(fast > 0)
        #expect(fast < recognizer.callCount, "the last frame, with nothing behind it, runs in the camera's own mode")
        #expect(health.framesDegraded == fast)
    }

    @Test("catching up is off unless asked for, and never applies to files")
    func noCatchUpForFilesOrByDefault() async throws {
        for (degrade, live) in [(false, true), (true, false)] {
            let source = ScriptedFrameSource.frames(30, delay: live ? .milliseconds(5) : nil, isLive: live)
            let recognizer = ScriptedRecognizer(delay: .milliseconds(20))
            var configuration = testConfiguration(workers: 1, queue: 3)
            configuration.degradeWhenBehind = degrade
            let pipeline = try Pipeline(configuration: configuration,
                                        cameras: [camera(source, overflow: live ? .dropOldest : .waitForRoom)],
                                        recognizer: recognizer, sinks: [])
            Task.detached { await pipeline.run() }
            try #require(await eventually { source.finishedPulling && recognizer.runningCount == 0 && pipeline.health().cameras[0].framesHeld == 0 })
            await pipeline.shutdown()
            #expect(recognizer.calls.allSatisfy { $0.options.mode == .normal }, "degrade \(degrade), live \(live)")
            #expect(pipeline.health().cameras.first?.framesDegraded == 0)
        }
    }

    @Test("a camera with a live track may queue more frames before dropping")
    func aLiveTrackGetsALongerQueue() async throws {
        // A plate is read in frame 0, so the camera has a live track from then on; then recognition is stuck
        // while 39 more frames arrive. The source sends them only once the tracker has seen frame 0.
        let recognitionOpen = TestGate(), tracked = TestGate()
        let first = ScriptedRecognizer(platesByFrame: plates("TRK0001", from: 0, scores: [0.9]))
        let recognizer = ScriptedRecognizer { stamp, image, options in
            if stamp?.frameIndex != 0 { recognitionOpen.wait() }
            return try first.recognize(image, options: options)
        }
        var script: [ScriptedFrameSource.Step] = [.frame(.init()), .wait(tracked)]
        for _ in 1..<40 { script += [.delay(.milliseconds(5)), .frame(.init())] }
        let source = ScriptedFrameSource(isLive: true, script: script + [.stall])
        let log = ObservationLog()
        var configuration = testConfiguration(workers: 1, queue: 1)
        configuration.trackQueueCapacityPerCamera = 4
        let pipeline = try Pipeline(configuration: configuration, cameras: [camera(source, log: log, overflow: .dropOldest)],
                                    recognizer: recognizer, sinks: [])
        Task.detached { await pipeline.run() }
        try #require(await eventually { pipeline.health().cameras[0].liveTracks == 1 })
        tracked.open()
        try #require(await eventually { source.framesDelivered == 40 })
        let reached = await eventually { pipeline.health().cameras[0].queueDepth == 4 }
        #expect(reached, "\(pipeline.health().cameras[0])")
        #expect(pipeline.health().cameras[0].queueHighWater == 4)
        recognitionOpen.open()
        await pipeline.shutdown()
    }
}
