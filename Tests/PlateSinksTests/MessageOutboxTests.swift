import Foundation
import PlateCore
import PlateSinks
import PlateTesting
import Testing

/// The outbox's ordering, durability and retry, with a scripted publisher. The real broker behind the real
/// publisher (PlateMQTT over a Mosquitto server) is tested in IntegrationTests/MQTTOutputTests.
@Suite struct MessageOutboxTests {
    /// Two messages per event: the event on `t/<camera>/event`, its plate on `t/<camera>/plate` (retained).
    struct TwoTopics: EventMessageRouter {
        func messages(for event: TrackEvent, eventJSON: JSONValue) -> [OutboundMessage] {
            [OutboundMessage(topic: "t/\(event.cameraID)/event", payload: eventJSON.serialized(), qos: 1, retain: false),
             OutboundMessage(topic: "t/\(event.cameraID)/plate", payload: event.plate?.text ?? "", qos: 1, retain: true)]
        }
    }

    /// Fails its first `failures` publishes (like a broker that is down), then takes every message.
    final class ScriptedPublisher: MessagePublisher, @unchecked Sendable {
        // Why unchecked: every var is guarded by `lock`.
        private let lock = NSLock()
        private var failuresLeft: Int
        private var taken: [OutboundMessage] = []
        private(set) var attempts = 0

        init(failures: Int) { failuresLeft = failures }

        struct Down: Error {}

        func publish(_ message: OutboundMessage) async throws {
            try lock.withLock {
                attempts += 1
                if failuresLeft > 0 {
                    failuresLeft -= 1
                    throw Down()
                }
                taken.append(message)
            }
        }

        var messages: [OutboundMessage] { lock.withLock { taken } }
    }

    static let fastRetry = WebhookRetryPolicy(initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50), jitter: 0.5)

    static func outbox(_ directory: TemporaryDirectory, maxQueued: Int = 100_000) throws -> MessageOutbox {
        try MessageOutbox(configuration: MessageOutboxConfiguration(
            databasePath: directory.file("outbox.sqlite"), jsonFormat: Fixture.utcFormat, retry: fastRetry,
            maxQueuedPerChannel: maxQueued), router: TwoTopics())
    }

    @Test func sendsEachCameraInOrderAndDeletesOnlyWhatWasTaken() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outbox = try Self.outbox(directory)
        let events = Fixture.events(4, camera: "gate")
        for event in events { try outbox.deliver(event) }
        #expect(try outbox.pendingCounts() == ["gate": 8])

        let publisher = ScriptedPublisher(failures: 3)
        let worker = Task { try await outbox.run(publishers: ["gate": publisher]) }
        #expect(try await poll { try outbox.pendingCount() == 0 })
        worker.cancel()
        _ = await worker.result

        let expected = events.flatMap { TwoTopics().messages(for: $0, eventJSON: Fixture.utcFormat.jsonValue(for: $0, filename: nil)!) }
        #expect(publisher.messages == expected)
        #expect(publisher.attempts == 8 + 3)
        let stats = try outbox.statistics(channel: "gate")
        #expect(stats.delivered == 8)
        #expect(stats.failedAttempts == 3)
    }

    @Test func keepsMessagesWhileThePublisherFailsAndANewOutboxOnTheFileSendsThem() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let events = Fixture.events(3, camera: "gate")
        do {
            let outbox = try Self.outbox(directory)
            let down = ScriptedPublisher(failures: .max)
            let worker = Task { try await outbox.run(publishers: ["gate": down]) }
            for event in events { try outbox.deliver(event) }
            #expect(try await poll { try outbox.statistics(channel: "gate").failedAttempts >= 3 })
            worker.cancel()
            _ = await worker.result
            #expect(down.messages.isEmpty)
            #expect(try outbox.pendingCount() == 6)
        }
        // The process restarts: the file is all that is left.
        let reopened = try Self.outbox(directory)
        #expect(try reopened.pendingCount() == 6)
        let up = ScriptedPublisher(failures: 0)
        let worker = Task { try await reopened.run(publishers: ["gate": up]) }
        #expect(try await poll { try reopened.pendingCount() == 0 })
        worker.cancel()
        _ = await worker.result
        #expect(up.messages.filter { $0.retain }.map(\.payload) == ["P0001", "P0002", "P0003"])
    }

    @Test func aCameraWithoutAPublisherKeepsItsMessagesAndDoesNotHoldUpTheOthers() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outbox = try Self.outbox(directory)
        try outbox.deliver(Fixture.event(plate: "AAA111", camera: "kept"))
        try outbox.deliver(Fixture.event(plate: "BBB222", camera: "sent"))
        let publisher = ScriptedPublisher(failures: 0)
        let worker = Task { try await outbox.run(publishers: ["sent": publisher]) }
        #expect(try await poll { try outbox.pendingCounts() == ["kept": 2] })
        worker.cancel()
        _ = await worker.result
        #expect(publisher.messages.map(\.topic) == ["t/sent/event", "t/sent/plate"])
    }

    @Test func dropsTheOldestPastTheBound() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outbox = try Self.outbox(directory, maxQueued: 3)
        for event in Fixture.events(3, camera: "gate") { try outbox.deliver(event) }
        #expect(try outbox.pendingCounts() == ["gate": 3])
        #expect(try outbox.statistics(channel: "gate").dropped == 3)
    }

    @Test func aVersion1OutboxSkipsAVehicleWithoutAPlate() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outbox = try MessageOutbox(configuration: MessageOutboxConfiguration(
            databasePath: directory.file("outbox.sqlite"), jsonFormat: EventJSONFormat(version: .v1)), router: TwoTopics())
        try outbox.deliver(Fixture.event(plate: nil, camera: "gate"))
        #expect(try outbox.pendingCount() == 0)
    }

    @Test func refusesANonPositiveBound() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(throws: SinkError.self) { try Self.outbox(directory, maxQueued: 0) }
    }
}
