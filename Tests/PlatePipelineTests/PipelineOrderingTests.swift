import Foundation
import PlateCore
import PlatePipeline
import PlateTesting
import Testing

@Suite("Pipeline: order and sharing")
struct PipelineOrderingTests {
    @Test("events reach every sink in order, each with its best frame's image")
    func eventsInOrderWithBestFrames() async throws {
        // Three passages; the third is still going when the file ends, so only the flush reports it.
        let script = plates("AAA111", from: 2, scores: [0.5, 0.7, 0.95, 0.8, 0.6])
            .merging(plates("BBB222", from: 10, scores: [0.9, 0.6, 0.7, 0.8, 0.85]))
            .merging(plates("CCC333", from: 20, scores: [0.6, 0.7, 0.8, 0.99, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6]))
        // Uneven recognition times make workers finish out of order: the tracker must still see frames
        // in order.
        let inner = ScriptedRecognizer(platesByFrame: script)
        let recognizer = ScriptedRecognizer { stamp, image, options in
            if let index = stamp?.frameIndex, index % 3 == 0 { Thread.sleep(forTimeInterval: 0.004) }
            return try inner.recognize(image, options: options)
        }
        let source = ScriptedFrameSource.frames(30)
        let log = ObservationLog()
        let images = DeliveryRecorder()
        let plain = RecordingEventSink()
        let pipeline = try Pipeline(configuration: testConfiguration(workers: 2, queue: 2),
                                    cameras: [camera(source, log: log)], recognizer: recognizer,
                                    sinks: [SinkRegistration(name: "images", sink: images),
                                            SinkRegistration(name: "plain", eventSink: plain)])
        try #require(await runToEnd(pipeline))

        // Every frame reached the tracker once, in order (waitForRoom: nothing dropped).
        #expect(log.frameIndices == Array(0..<30))
        #expect(log.flushTimes == [MediaTime(value: 29, timescale: 25)])
        #expect(images.plates == ["AAA111", "BBB222", "CCC333"])
        #expect(images.deliveries.map(\.event.reason) == [.trackEnded, .trackEnded, .endOfStream])
        #expect(plain.events.map(\.trackID) == images.deliveries.map(\.event.trackID))
        #expect(images.deliveries.map(\.event.bestFrameIndex) == [4, 10, 23])
        for delivery in images.deliveries {
            let image = try #require(delivery.bestFrame, "event \(delivery.event.trackID) has no image")
            #expect(ImageStamp(reading: image)?.frameIndex == delivery.event.bestFrameIndex)
        }
        #expect(images.shutdownCount == 1)
        #expect(plain.shutdownCount == 1)
        #expect(plain.maxConcurrentDeliveries == 1)
        #expect(plain.deliveriesAfterShutdown == 0)

        let health = try #require(pipeline.health()[camera: "camera-1"])
        #expect(health.state == .ended)
        #expect(health.end == .endOfStream)
        #expect(health.framesDecoded == 30)
        #expect(health.framesRecognized == 30)
        #expect(health.framesDropped == 0)
        #expect(health.events == 3)
        #expect(health.retainedImages == 0, "every best-frame image is released when its track ends")
        #expect(health.retainedImagesHighWater >= 1)
        #expect(source.closeCount >= 1)
    }

    @Test("cameras share one worker pool, each with its own options and tracker")
    func camerasShareWorkers() async throws {
        let recognizer = ScriptedRecognizer { stamp, image, options in
            // Camera A's frames all carry plate A1; camera B's, plate B1: a mix-up would show in the events.
            let text = stamp?.tag == 1 ? "A1" : "B1"
            return FakePlates.result([FakePlates.read(text)], size: ImageSize(width: image.width, height: image.height))
        }
        let a = ScriptedFrameSource.frames(12, cameraID: "a", tag: 1)
        let b = ScriptedFrameSource.frames(12, cameraID: "b", tag: 2)
        let logA = ObservationLog(), logB = ObservationLog()
        let sink = DeliveryRecorder()
        // One worker for two cameras: if the pool were per camera, one camera would never be served.
        let pipeline = try Pipeline(
            configuration: testConfiguration(workers: 1, queue: 1),
            cameras: [camera(a, log: logA, options: RecognitionOptions(regions: ["us-ca"])),
                      camera(b, log: logB, options: RecognitionOptions(regions: ["br"]))],
            recognizer: recognizer, sinks: [SinkRegistration(name: "sink", sink: sink)])
        try #require(await runToEnd(pipeline))

        let calls = recognizer.calls
        #expect(calls.count == 24)
        #expect(recognizer.maxConcurrentCalls == 1)
        for call in calls {
            #expect(call.options.regions == (call.stamp?.tag == 1 ? ["us-ca"] : ["br"]), "options of the wrong camera")
        }
        #expect(logA.frameIndices == Array(0..<12))
        #expect(logB.frameIndices == Array(0..<12))
        #expect(logA.observations.allSatisfy { $0.cameraID == "a" && $0.plates.map(\.text) == ["A1"] })
        #expect(logB.observations.allSatisfy { $0.cameraID == "b" && $0.plates.map(\.text) == ["B1"] })
        #expect(Set(sink.deliveries.map { "\($0.event.cameraID):\($0.event.plate?.text ?? "")" }) == ["a:A1", "b:B1"])
        let health = pipeline.health()
        #expect(health.busyWorkersHighWater == 1)
        #expect(health.cameras.allSatisfy { $0.framesRecognized == 12 && $0.state == .ended })
    }

    @Test("several workers run one camera's frames in parallel without breaking frame order")
    func parallelWorkersKeepOrder() async throws {
        let gate = TestGate()
        // Frame 0 is held until the others are done: every later result must wait in the re-ordering buffer.
        let recognizer = ScriptedRecognizer { stamp, image, _ in
            if stamp?.frameIndex == 0 { gate.wait(timeout: .seconds(60)) }
            return FakePlates.result([], size: ImageSize(width: image.width, height: image.height))
        }
        let source = ScriptedFrameSource.frames(40)
        let log = ObservationLog()
        let pipeline = try Pipeline(configuration: testConfiguration(workers: 3, queue: 2, maxInFlight: 3),
                                    cameras: [camera(source, log: log)], recognizer: recognizer, sinks: [])
        Task.detached { await pipeline.run() }
        // With frame 0 stuck, at most maxInFlight (3) frames may be out: frame 0 and two finished ones.
        try #require(await eventually { recognizer.completedCount == 2 && pipeline.health().cameras[0].framesHeld == 5 })
        #expect(log.observations.isEmpty, "nothing may pass frame 0")
        #expect(recognizer.runningCount == 1)
        gate.open()
        try #require(await eventually { pipeline.isFinished })
        #expect(log.frameIndices == Array(0..<40))
        let health = try #require(pipeline.health().cameras.first)
        #expect(health.framesHeldHighWater <= 2 + 3)
        #expect(pipeline.health().busyWorkersHighWater <= 3)
    }
}
