import Foundation
import PlateCore
import PlatePipeline
import PlateTesting
import Testing

@Suite("Pipeline: overload")
struct PipelineOverloadTests {
    @Test("a slow recognizer makes the pipeline drop the oldest frames, with bounded queues")
    func slowRecognizerDropsOldest() async throws {
        let total = 300
        let recognizer = SlowRecognizer(delay: .milliseconds(50))
        let source = ScriptedFrameSource.frames(total, isLive: false)
        let queue = 2, workers = 2
        let pipeline = try Pipeline(configuration: testConfiguration(workers: workers, queue: queue),
                                    cameras: [camera(source, overflow: .dropOldest)], recognizer: recognizer,
                                    sinks: [])
        Task.detached { await pipeline.run() }

        // The decoder is never held by inference: it pulls the whole source while recognition, at 50 ms
        // a frame on two workers (7.5 s for everything), has done only a few.
        try #require(await eventually { source.finishedPulling })
        let recognizedWhenPulled = recognizer.completedCount
        #expect(recognizedWhenPulled < total / 2)
        try #require(await eventually { pipeline.isFinished })

        let health = try #require(pipeline.health().cameras.first)
        #expect(health.framesDecoded == total)
        #expect(source.framesDelivered == total)
        #expect(health.framesDropped > 0)
        #expect(health.framesRecognized < total)
        #expect(health.framesRecognized + health.framesDropped == total, "every frame is recognized or counted")
        #expect(health.queueHighWater <= queue)
        #expect(health.framesHeldHighWater <= queue + workers, "frames held never exceed the bound")
        #expect(pipeline.health().busyWorkersHighWater <= workers)
        #expect(recognizer.maxConcurrentCalls <= workers)
        #expect(health.decoderWaits == 0)
        #expect(health.framesHeld == 0)
    }

    @Test("the decoder never waits on inference, even when recognition is stuck (latest frames win)")
    func decoderNeverWaitsOnInference() async throws {
        let total = 200, queue = 2, workers = 2
        let gate = TestGate()
        let recognizer = ScriptedRecognizer(gate: gate)
        let source = ScriptedFrameSource.frames(total)
        let pipeline = try Pipeline(configuration: testConfiguration(workers: workers, queue: queue),
                                    cameras: [camera(source, overflow: .dropOldest)], recognizer: recognizer,
                                    sinks: [])
        Task.detached { await pipeline.run() }

        // Recognition cannot finish a single frame until the gate opens, so if the decoder ever waited for
        // a worker, it could never pull the whole source: this would time out.
        try #require(await eventually { source.finishedPulling })
        #expect(recognizer.completedCount == 0)
        // Both workers hold a frame and the queue is full: everything else was dropped, oldest first.
        try #require(await eventually {
            recognizer.runningCount == workers && pipeline.health().cameras[0].framesHeld == queue + workers
        })
        var health = try #require(pipeline.health().cameras.first)
        #expect(health.framesDecoded == total)
        #expect(health.framesDropped == total - queue - workers)
        #expect(health.queueDepth == queue)
        gate.open()
        try #require(await eventually { pipeline.isFinished })

        health = try #require(pipeline.health().cameras.first)
        #expect(health.framesRecognized == queue + workers)
        #expect(health.framesDropped == total - queue - workers)
        // Latest frame wins: the frames left in the queue were the last two pulled.
        let recognized = Set(recognizer.calls.compactMap { $0.stamp?.frameIndex })
        #expect(recognized.isSuperset(of: [total - 2, total - 1]))
        #expect(health.framesHeldHighWater <= queue + workers)
    }

    @Test("waitForRoom (files) recognizes every frame instead of dropping")
    func waitForRoomRecognizesEverything() async throws {
        let recognizer = SlowRecognizer(delay: .milliseconds(2))
        let source = ScriptedFrameSource.frames(60)
        let pipeline = try Pipeline(configuration: testConfiguration(workers: 2, queue: 1),
                                    cameras: [camera(source, overflow: .automatic)], recognizer: recognizer,
                                    sinks: [])
        try #require(await runToEnd(pipeline))
        let health = try #require(pipeline.health().cameras.first)
        #expect(health.framesRecognized == 60)
        #expect(health.framesDropped == 0)
        #expect(health.queueHighWater <= 1)
        #expect(health.framesHeldHighWater <= 1 + 2)
    }

    @Test("best-frame images are bounded per camera; tracks beyond the bound get none")
    func retainedImagesAreBounded() async throws {
        // Two plates at once, room for one image.
        let script = plates("ONE111", from: 1, scores: [0.9, 0.9]).merging(plates("TWO222", from: 1, scores: [0.9, 0.9]))
        let source = ScriptedFrameSource.frames(5)
        let sink = DeliveryRecorder()
        let pipeline = try Pipeline(configuration: testConfiguration(images: 1), cameras: [camera(source)],
                                    recognizer: ScriptedRecognizer(platesByFrame: script),
                                    sinks: [SinkRegistration(name: "sink", sink: sink)])
        try #require(await runToEnd(pipeline))
        #expect(sink.plates == ["ONE111", "TWO222"])
        #expect(sink.deliveries.map { $0.bestFrame != nil } == [true, false])
        let health = try #require(pipeline.health().cameras.first)
        #expect(health.retainedImagesHighWater == 1)
        #expect(health.imagesUnavailable == 1)
        #expect(health.retainedImages == 0)
    }
}
