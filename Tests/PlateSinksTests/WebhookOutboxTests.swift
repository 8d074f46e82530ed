import Foundation
import PlateCore
import PlateSinks
import PlateTesting
import Testing

/// Live tests: a real Hummingbird receiver on loopback, a real outbox file, real HTTP.
/// No timing assertions: every wait polls a condition with a generous deadline, and backoffs are short.
@Suite struct WebhookOutboxTests {
    struct Envelope: Decodable {
        struct Hook: Decodable {
            var target: String
            var id: String
            var event: String
            var filename: String?
        }
        var hook: Hook
        var data: StreamEventV2
    }

    static let fastRetry = WebhookRetryPolicy(initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(200),
                                              jitter: 0.5, maxRejections: 2)

    static func configuration(_ targets: [String], _ directory: TemporaryDirectory, format: WebhookFormat = .stream,
                              image: WebhookImageType? = nil, maxQueued: Int = 100_000,
                              overflow: WebhookOverflowPolicy = .dropOldest) throws -> WebhookConfiguration {
        WebhookConfiguration(targets: targets, headers: [try WebhookHeader(parsing: "Authorization: Token xyz")],
                             format: format, image: image, requestTimeout: .seconds(30), connectTimeout: .seconds(2), jsonFormat: Fixture.utcFormat,
                             retry: fastRetry, maxQueuedPerTarget: maxQueued, overflowPolicy: overflow,
                             databasePath: directory.file("state/outbox.sqlite"))
    }

    /// Runs the outbox's worker around `body`, then cancels it and waits for it to stop.
    static func running<T>(_ outbox: WebhookOutbox, _ body: () async throws -> T) async throws -> T {
        let worker = Task { try await outbox.run() }
        do {
            let result = try await body()
            worker.cancel()
            _ = await worker.result
            return result
        } catch {
            worker.cancel()
            _ = await worker.result
            throw error
        }
    }

    static func stats(_ outbox: WebhookOutbox, _ target: String) throws -> WebhookTargetStatistics {
        try #require(try outbox.statistics().first { $0.target == target })
    }

    /// Waits until the outbox itself has recorded `count` deliveries to `target`: the receiver has a request
    /// a moment before the worker records the answer, and stopping the worker in between would (rightly)
    /// leave the message pending for the next run.
    static func recorded(_ outbox: WebhookOutbox, _ target: String, delivered count: Int) async throws -> Bool {
        try await poll { try stats(outbox, target).delivered >= count }
    }

    static let fakeJPEG: JPEGEncoder = { image in Data("FAKEJPEG \(image.width)x\(image.height)".utf8) }

    @Test func streamFormatArrivesAsAJsonFormField() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receiver = WebhookReceiver()
        let server = try await RunningReceiver.start(receiver)
        defer { Task { await server.stop() } }
        let outbox = try WebhookOutbox(configuration: Self.configuration([server.url], directory))
        let events = Fixture.events(3)

        try await Self.running(outbox) { () async throws -> Void in
            try outbox.deliver(events[0], images: EventImages(filename: "camera-1_screenshots/1.jpg"))
            try outbox.deliver(events[1])
            try outbox.deliver(events[2])
            #expect(await poll { await receiver.accepted.count >= 3 })
            #expect(try await Self.recorded(outbox, server.url, delivered: 3))
        }

        let accepted = await receiver.accepted
        #expect(accepted.map(\.idempotencyKey) == events.map(EventIdentifier.make(for:)))
        for (request, event) in zip(accepted, events) {
            #expect(request.contentType == "application/x-www-form-urlencoded")
            #expect(request.headers["authorization"] == "Token xyz")
            let envelope = try JSONDecoder().decode(Envelope.self, from: request.envelopeJSON())
            #expect(envelope.hook.target == server.url)
            #expect(envelope.hook.id == "camera-1")
            #expect(envelope.hook.event == "recognition")
            let filename = event == events[0] ? "camera-1_screenshots/1.jpg" : nil
            #expect(envelope.hook.filename == filename)
            #expect(envelope.data == StreamEventV2(event: event, filename: filename, timeZone: TimeZone(identifier: "UTC")!))
        }
        let stats = try Self.stats(outbox, server.url)
        #expect(stats.delivered == 3 && stats.pending == 0 && stats.deadLettered == 0)
    }

    @Test func snapshotFormatArrivesAsAJSONBody() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receiver = WebhookReceiver()
        let server = try await RunningReceiver.start(receiver)
        defer { Task { await server.stop() } }
        let outbox = try WebhookOutbox(configuration: Self.configuration([server.url], directory, format: .snapshot))
        let data = JSONValue.object([
            ("processing_time", .number(0.186)), ("timestamp", .string("2019-08-31T14:22:06.983Z")),
            ("results", .array([.object([("plate", .string("765410")), ("score", .number(0.913))])])),
            ("filename", .string("14_22_test.jpeg")), ("version", .integer(1)), ("camera_id", .null),
        ])

        try await Self.running(outbox) { () async throws -> Void in
            #expect(try outbox.enqueue(WebhookMessage(idempotencyKey: "snap-1", hookID: .integer(2), hookEvent: "image.done", data: data)))
            #expect(await poll { await receiver.accepted.count >= 1 })
        }

        let request = try #require(await receiver.accepted.first)
        #expect(request.contentType == "application/json")
        #expect(request.idempotencyKey == "snap-1")
        let json = try #require(try JSONSerialization.jsonObject(with: request.envelopeJSON()) as? [String: Any])
        let hook = try #require(json["hook"] as? [String: Any])
        #expect(hook["target"] as? String == server.url)
        #expect(hook["id"] as? Int == 2)
        #expect(hook["event"] as? String == "image.done")
        let body = try #require(json["data"] as? [String: Any])
        #expect(body["filename"] as? String == "14_22_test.jpeg")
        #expect(((body["results"] as? [[String: Any]])?.first?["plate"]) as? String == "765410")
        #expect(body["camera_id"] is NSNull)
    }

    @Test func webhookWithImageUploadsTheVehicleCropAsMultipart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receiver = WebhookReceiver()
        let server = try await RunningReceiver.start(receiver)
        defer { Task { await server.stop() } }
        let outbox = try WebhookOutbox(configuration: Self.configuration([server.url], directory, image: .vehicle),
                                       encodeJPEG: Self.fakeJPEG)
        let frame = SyntheticImage.make(width: 640, height: 600)
        let withVehicle = Fixture.event(track: 1)
        let withoutVehicle = Fixture.event(plate: "NOVEH1", track: 2, vehicle: false)
        let images1 = EventImages(frame: frame, event: withVehicle)
        let images2 = EventImages(frame: frame, event: withoutVehicle)

        try await Self.running(outbox) { () async throws -> Void in
            try outbox.deliver(withVehicle, images: images1)
            try outbox.deliver(withoutVehicle, images: images2)
            #expect(await poll { await receiver.accepted.count >= 2 })
        }

        let accepted = await receiver.accepted
        let expectedUploads = [try Self.fakeJPEG(try #require(images1.vehicleCrop)), try Self.fakeJPEG(frame)]
        for (request, expected) in zip(accepted, expectedUploads) {
            let parts = try MultipartReader.parse(request.body, contentType: request.contentType)
            #expect(parts.map(\.name) == ["json", "upload"])
            #expect(parts[1].headers["content-type"] == "image/jpeg")
            #expect(parts[1].body == Array(expected))
            let envelope = try JSONDecoder().decode(Envelope.self, from: Data(parts[0].body))
            #expect(envelope.hook.event == "recognition")
        }
        // The crop is the vehicle box grown by 10 %, not the whole frame.
        #expect(String(decoding: accepted[0].body, as: UTF8.self).contains("FAKEJPEG 319x453"))
    }

    @Test func aTargetThatIsDownGetsEveryEventOnceItIsUpAndOthersAreNotHeldBack() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let down = LockedBool(true)
        let flaky = WebhookReceiver { _ in down.value ? 503 : 200 }
        let healthy = WebhookReceiver()
        let flakyServer = try await RunningReceiver.start(flaky)
        let healthyServer = try await RunningReceiver.start(healthy)
        defer { Task { await flakyServer.stop(); await healthyServer.stop() } }
        let outbox = try WebhookOutbox(configuration: Self.configuration([flakyServer.url, healthyServer.url], directory))
        let events = Fixture.events(10)
        let keys = events.map(EventIdentifier.make(for:))

        try await Self.running(outbox) { () async throws -> Void in
            for event in events { try outbox.deliver(event) }
            // The healthy target has everything while the other is still failing.
            #expect(await poll { await healthy.accepted.count >= 10 })
            #expect(await poll { await flaky.attempts.count >= 3 })
            #expect(try Self.stats(outbox, flakyServer.url).pending == 10)
            #expect(await flaky.accepted.isEmpty)
            down.value = false
            #expect(await poll { Set(await flaky.acceptedKeys).count >= 10 })
            #expect(try await Self.recorded(outbox, flakyServer.url, delivered: 10))
            #expect(try await Self.recorded(outbox, healthyServer.url, delivered: 10))
        }

        #expect(await healthy.acceptedKeys == keys)
        // Every event arrived, in order; a duplicate could only repeat a key, never bring a new one.
        let acceptedKeys = await flaky.acceptedKeys
        #expect(Set(acceptedKeys) == Set(keys))
        var firstSeen: [String] = []
        for key in acceptedKeys where !firstSeen.contains(key) { firstSeen.append(key) }
        #expect(firstSeen == keys)
        // Each event travelled under one key on every attempt, and each key carried one event.
        var keyOfPlate: [String: Set<String>] = [:]
        var plateOfKey: [String: Set<String>] = [:]
        for request in await flaky.attempts {
            let envelope = try JSONDecoder().decode(Envelope.self, from: request.envelopeJSON())
            let plate = envelope.data.results[0].plate!.props.plate[0].value
            let key = try #require(request.idempotencyKey)
            keyOfPlate[plate, default: []].insert(key)
            plateOfKey[key, default: []].insert(plate)
        }
        #expect(keyOfPlate.values.allSatisfy { $0.count == 1 })
        #expect(plateOfKey.values.allSatisfy { $0.count == 1 })
        let stats = try Self.stats(outbox, flakyServer.url)
        #expect(stats.delivered == 10 && stats.pending == 0)
        #expect(stats.failedAttempts >= 1)
    }

    @Test func queuedEventsSurviveAKilledOutboxAndARestart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let reserved = try ReservedPort()   // connections refused: the receiver is down
        let configuration = try Self.configuration([reserved.url], directory)
        let events = Fixture.events(5)

        var first: WebhookOutbox? = try WebhookOutbox(configuration: configuration)
        let firstWorker = Task { [first] in try await first!.run() }
        for event in events { try first!.deliver(event) }
        #expect(try await poll { try Self.stats(first!, reserved.url).failedAttempts >= 1 })
        // The "kill": the worker stops mid-retry and the object goes, with nothing flushed or closed by us.
        firstWorker.cancel()
        _ = await firstWorker.result
        first = nil

        // A new PlateStream on the same file finds the queue as it was, and starts retrying the
        // still-down target; then the receiver comes up.
        let second = try WebhookOutbox(configuration: configuration)
        #expect(try Self.stats(second, reserved.url).pending == 5)
        let receiver = WebhookReceiver()
        let server: RunningReceiver = try await Self.running(second) { () async throws -> RunningReceiver in
            let failedBefore = try Self.stats(second, reserved.url).failedAttempts
            #expect(try await poll { try Self.stats(second, reserved.url).failedAttempts > failedBefore })
            reserved.release()
            let server = try await RunningReceiver.start(receiver, port: reserved.port)
            #expect(await poll { Set(await receiver.acceptedKeys).count >= 5 })
            #expect(try await Self.recorded(second, reserved.url, delivered: 5))
            return server
        }
        defer { Task { await server.stop() } }
        #expect(await receiver.acceptedKeys == events.map(EventIdentifier.make(for:)))
        let stats = try Self.stats(second, reserved.url)
        #expect(stats.pending == 0 && stats.delivered == 5)
    }

    @Test func aFullQueueDropsTheOldestAndCountsIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receiver = WebhookReceiver()
        let server = try await RunningReceiver.start(receiver)
        defer { Task { await server.stop() } }
        let outbox = try WebhookOutbox(configuration: Self.configuration([server.url], directory, maxQueued: 3))
        let events = Fixture.events(5)
        for event in events { try outbox.deliver(event) }   // worker not running yet: all queue up
        var stats = try Self.stats(outbox, server.url)
        #expect(stats.pending == 3 && stats.dropped == 2)

        try await Self.running(outbox) { () async throws -> Void in
            #expect(await poll { await receiver.accepted.count >= 3 })
            #expect(try await Self.recorded(outbox, server.url, delivered: 3))
        }
        #expect(await receiver.acceptedKeys == events.suffix(3).map(EventIdentifier.make(for:)))
        stats = try Self.stats(outbox, server.url)
        #expect(stats.delivered == 3 && stats.dropped == 2 && stats.pending == 0)
    }

    @Test func aFullQueueCanRefuseNewEventsInstead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let target = "http://127.0.0.1:9/hook"
        let outbox = try WebhookOutbox(configuration: Self.configuration([target], directory, maxQueued: 2, overflow: .refuseNew))
        let events = Fixture.events(3)
        try outbox.deliver(events[0])
        try outbox.deliver(events[1])
        do {
            try outbox.deliver(events[2])
            Issue.record("expected outboxFull")
        } catch let error as SinkError {
            #expect(error.isOutboxFull)
        }
        let stats = try Self.stats(outbox, target)
        #expect(stats.pending == 2 && stats.refused == 1 && stats.dropped == 0)
    }

    @Test func aMessageTheTargetKeepsRefusingIsDeadLetteredThenRequeued() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let events = Fixture.events(3)
        let poison = EventIdentifier.make(for: events[1])
        let refusePoison = LockedBool(true)
        let receiver = WebhookReceiver { request in refusePoison.value && request.idempotencyKey == poison ? 400 : 200 }
        let server = try await RunningReceiver.start(receiver)
        defer { Task { await server.stop() } }
        let outbox = try WebhookOutbox(configuration: Self.configuration([server.url], directory))

        try await Self.running(outbox) { () async throws -> Void in
            for event in events { try outbox.deliver(event) }
            // The refused one does not block the one behind it.
            #expect(await poll { await receiver.accepted.count >= 2 })
            #expect(try await poll { try Self.stats(outbox, server.url).deadLettered == 1 })
            #expect(await receiver.acceptedKeys == [events[0], events[2]].map(EventIdentifier.make(for:)))
            refusePoison.value = false
            #expect(try outbox.requeueDeadLetters() == 1)
            #expect(await poll { await receiver.accepted.count >= 3 })
            #expect(try await Self.recorded(outbox, server.url, delivered: 3))
        }
        #expect(await receiver.acceptedKeys.last == poison)
        let stats = try Self.stats(outbox, server.url)
        #expect(stats.deadLettered == 0 && stats.pending == 0 && stats.delivered == 3)
    }

    @Test func theSameKeyIsQueuedOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let target = "http://127.0.0.1:9/hook"
        let outbox = try WebhookOutbox(configuration: Self.configuration([target], directory))
        let message = WebhookMessage(idempotencyKey: "same", hookID: .string("c"), hookEvent: "recognition", data: .object([]))
        #expect(try outbox.enqueue(message))
        #expect(try !outbox.enqueue(message))
        try outbox.deliver(Fixture.event())
        try outbox.deliver(Fixture.event())
        #expect(try Self.stats(outbox, target).pending == 2)
    }

    @Test func runsOnlyOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outbox = try WebhookOutbox(configuration: Self.configuration(["http://127.0.0.1:9/hook"], directory))
        let first = Task { try await outbox.run() }
        first.cancel()
        _ = await first.result
        await #expect(throws: SinkError.self) { try await outbox.run() }
    }
}

/// A Bool shared between a test and a receiver's request handler.
final class LockedBool: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Bool

    init(_ value: Bool) { stored = value }

    var value: Bool {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
