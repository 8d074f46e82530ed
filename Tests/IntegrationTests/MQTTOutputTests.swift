import Foundation
import Logging
import PlateCore
import PlateMQTT
import PlateSinks
import Testing

private typealias M = MQTTHarness

/// The MQTT output against a real Mosquitto broker started here on loopback: PlateSinks' durable outbox
/// delivering through PlateMQTT's libmosquitto connection, as `run --config` wires them. Waits are bounded
/// polls of a condition; nothing asserts on time.
@Suite(.serialized) struct MQTTOutputTests {
    static let users = ["pub": "pub secret", "sub": "sub-secret"]

    /// Events of camera `gate`, plates `MQ0001`, `MQ0002`, ... one second apart.
    static func events(_ range: ClosedRange<Int>) -> [TrackEvent] {
        range.map { index in
            let text = String(format: "MQ%04d", index)
            let box = BoundingBox(xmin: 10, ymin: 10, xmax: 60, ymax: 30)
            let read = PlateRead(text: text, score: 0.9, candidates: [PlateCandidate(text: text, score: 0.9)], region: nil,
                                 detectionScore: 0.9, box: box)
            return TrackEvent(trackID: TrackID(index), cameraID: "gate",
                              plate: PlateConsensus(text: text, score: 0.9, candidates: read.candidates, region: nil,
                                                    readCount: 3, bestRead: read),
                              vehicle: nil, direction: nil, bestFrameIndex: index * 10,
                              bestFrameTime: MediaTime(seconds: Double(index)),
                              timestamp: Date(timeIntervalSince1970: 1_700_000_000 + Double(index)),
                              imageSize: ImageSize(width: 640, height: 480), firstSeen: MediaTime(seconds: Double(index) - 0.5),
                              lastSeen: MediaTime(seconds: Double(index) + 0.5), frameCount: 5, reason: .trackEnded,
                              sourceURL: "rtsp://cam/stream")
        }
    }

    /// The plate of an event message's Version-2 JSON.
    static func plate(ofEvent payload: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
              let result = (object["results"] as? [[String: Any]])?.first,
              let plate = ((result["plate"] as? [String: Any])?["props"] as? [String: Any])?["plate"] as? [[String: Any]]
        else { return nil }
        return plate.first?["value"] as? String
    }

    /// A started broker in a fresh directory; `stop(_:)` ends both.
    static func startBroker(_ name: String, tls: Bool = false) async throws -> MQTTHarness.Broker {
        let broker = try M.Broker(directory: try DecodeHarness.temporaryDirectory(name), users: users, tls: tls)
        do {
            try await broker.start()
        } catch {
            stop(broker)
            throw error
        }
        return broker
    }

    /// Stops the broker and removes its directory.
    static func stop(_ broker: MQTTHarness.Broker) {
        broker.stop()
        try? FileManager.default.removeItem(at: broker.directory)
    }

    /// The retained status of camera `gate`, as a new subscriber sees it.
    static func status(_ broker: MQTTHarness.Broker) -> String? {
        (try? M.retained(port: broker.port, user: "sub", password: users["sub"]!, topics: ["lpr/gate/status"], count: 1))?
            .first?.payload
    }

    // The waits are long because CI runs every suite at once on 2 cores: the outbox's worker and the publish
    // continuations share Swift's cooperative pool with the other suites, and there a 20 s wait once ran out before
    // ten messages had drained, and the whole test took 42 s in a full local run (0.6 s alone, also with the cores
    // kept busy). The waits bound a hang, they time nothing; the other tests here wait up to 60 s for the same reason.
    @Test func everyEventArrivesAcrossABrokerKilledAndRestarted() async throws {
        let broker = try await Self.startBroker("mqtt")
        defer { Self.stop(broker) }
        let dir = broker.directory
        let before = try M.Subscriber(port: broker.port, user: "sub", password: Self.users["sub"]!, clientID: "test-subscriber",
                                      topics: ["lpr/#", "probe"], output: dir.appendingPathComponent("before.txt"))
        defer { before.stop() }
        #expect(await before.subscribed(port: broker.port, user: "sub", password: Self.users["sub"]!, probeTopic: "probe"),
                "\(before.text)")

        // The space in the password checks the percent-decoding of the URL's user info.
        let settings = MQTTSettings(
            broker: try MQTTBrokerURL(parsing: "mqtt://pub:pub%20secret@127.0.0.1:\(broker.port)"), topicPrefix: "lpr",
            clientID: "platestream-test", homeAssistantDiscovery: true, minReconnectDelay: .milliseconds(100),
            maxReconnectDelay: .milliseconds(500), publishTimeout: .seconds(10))
        let topics = MQTTTopics(settings: settings, camera: "gate", cameraName: "Main gate")
        let connection = try MQTTConnection(topics: topics)
        let format = EventJSONFormat(version: .v2, timeZone: TimeZone(identifier: "UTC")!)
        let outbox = try MessageOutbox(
            configuration: MessageOutboxConfiguration(
                databasePath: dir.appendingPathComponent("outbox.sqlite").path, jsonFormat: format,
                retry: WebhookRetryPolicy(initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(300))),
            router: MQTTEventRouter(topics: [topics]))
        connection.start()
        let worker = Task { try await outbox.run(publishers: ["gate": connection]) }

        // 1. Broker up: ten events arrive, each as the exact Version-2 JSON the file sinks write.
        let first = Self.events(1...10), second = Self.events(11...20)
        for event in first { try outbox.deliver(event) }
        #expect(await M.eventually(timeout: 180) { (try? outbox.pendingCount()) == 0 })
        let eventTopic = "lpr/gate/event"
        #expect(await M.eventually(timeout: 180) { before.messages.filter { $0.topic == eventTopic }.count >= 10 })
        let firstPayloads = before.messages.filter { $0.topic == eventTopic }.map(\.payload)
        #expect(firstPayloads.first == format.jsonValue(for: first[0], filename: nil)?.serialized())

        // The subscriber's session is on disk: it survives the broker's death.
        #expect(await M.eventually(timeout: 180) { broker.hasSaved(clientID: "test-subscriber", subscription: "lpr/#") })

        // 2. The broker dies. Ten more events are committed and wait: no row leaves the outbox without a PUBACK.
        broker.kill9()
        before.stop()
        #expect(await M.eventually(timeout: 180) { !connection.isConnected })
        for event in second { try outbox.deliver(event) }
        #expect(await M.eventually(timeout: 180) { ((try? outbox.statistics(channel: "gate").failedAttempts) ?? 0) > 0 })
        #expect(try outbox.pendingCount() == 20) // an event and its last_plate each

        // 3. The broker restarts on the same port. The connection comes back by itself and the outbox drains;
        //    what it publishes waits in the broker for the subscriber's session, which then reconnects.
        try await broker.start()
        #expect(await M.eventually(timeout: 180) { (try? outbox.pendingCount()) == 0 }, "\(broker.log)")
        let after = try M.Subscriber(port: broker.port, user: "sub", password: Self.users["sub"]!, clientID: "test-subscriber",
                                     topics: ["lpr/#", "probe"], output: dir.appendingPathComponent("after.txt"))
        defer { after.stop() }
        #expect(await M.eventually(timeout: 180) {
            Set(after.messages.filter { $0.topic == eventTopic }.compactMap { Self.plate(ofEvent: $0.payload) }).count >= 10
        }, "\(after.text)")

        // None lost, in order of first arrival; duplicates (a PUBACK lost with the broker) are allowed and counted.
        let received = (firstPayloads + after.messages.filter { $0.topic == eventTopic }.map(\.payload)).compactMap(Self.plate(ofEvent:))
        var firstSeen: [String] = []
        for plate in received where !firstSeen.contains(plate) { firstSeen.append(plate) }
        // The Version-2 JSON writes plates in lower case, as Plate Recognizer does.
        #expect(firstSeen == (first + second).map { $0.plate!.text.lowercased() })
        let duplicates = received.count - firstSeen.count
        print("mqtt: \(received.count) event messages received for 20 events, \(duplicates) duplicate(s)")
        #expect(duplicates <= 2, "at most the message in flight at the kill, and its state message's turn")

        // The state a subscriber that comes now sees: the last plate, online, Home Assistant's sensor.
        let stateTopics = ["lpr/gate/last_plate", "lpr/gate/status", topics.discoveryTopic]
        let retained = try M.retained(port: broker.port, user: "sub", password: Self.users["sub"]!, topics: stateTopics, count: 3)
        let byTopic = Dictionary(retained.map { ($0.topic, $0.payload) }, uniquingKeysWith: { $1 })
        #expect(retained.allSatisfy { $0.retained })
        let lastPlate = try #require(byTopic["lpr/gate/last_plate"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect(lastPlate["plate"] as? String == "MQ0020", "last_plate keeps the plate as read")
        #expect(byTopic["lpr/gate/status"] == "online")
        let discovery = try #require(byTopic[topics.discoveryTopic].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect(discovery["state_topic"] as? String == "lpr/gate/last_plate")
        #expect(discovery["unique_id"] as? String == "platestream_gate_last_plate")

        // A clean stop says offline (the will covers the unclean ones).
        worker.cancel()
        _ = await worker.result
        await connection.stop()
        #expect(Self.status(broker) == "offline")
    }

    @Test func runConfigPublishesEveryEventOfASampleVideoAsTheJSONLinesSinkWritesIt() async throws {
        let broker = try await Self.startBroker("mqtt-run")
        defer { Self.stop(broker) }
        let dir = broker.directory
        let subscriber = try M.Subscriber(port: broker.port, user: "sub", password: Self.users["sub"]!, clientID: "test-run",
                                          topics: ["lpr/#", "homeassistant/#", "probe"], output: dir.appendingPathComponent("sub.txt"))
        defer { subscriber.stop() }
        #expect(await subscriber.subscribed(port: broker.port, user: "sub", password: Self.users["sub"]!, probeTopic: "probe"))
        let root = DecodeHarness.repositoryRoot
        let config: [String: Any] = [
            "cameras": [[
                "id": "street", "name": "Street", "url": root.appendingPathComponent("Samples/scenes/street.mp4").path,
                "jsonlines_file": "events.jsonl",
                "mqtt": ["url": "mqtt://pub:pub%20secret@127.0.0.1:\(broker.port)", "topic_prefix": "lpr",
                         "homeassistant_discovery": true],
            ]],
            "recognizer": ["models": root.appendingPathComponent("Models").path],
            "database": "db/events.db",
        ]
        let configURL = dir.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let binary = try DecodeHarness.platestreamBinary()
        let result = try await DecodeHarness.offPool { try DecodeHarness.runProcess(binary, ["run", "--config", configURL.path], timeout: 600) }
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        #expect(result.stderr.contains("sink mqtt: delivered"), "\(result.stderr.suffix(2000))")
        #expect(!result.stderr.contains("pub secret") && !result.stderr.contains("pub%20secret"))

        // The run drains the outbox before it exits, so every event is at the broker by now.
        let lines = try String(contentsOf: dir.appendingPathComponent("events.jsonl"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(!lines.isEmpty, "the street scene has plated vehicles")
        #expect(await M.eventually(timeout: 60) { subscriber.messages.filter { $0.topic == "lpr/street/event" }.count >= lines.count })
        let published = subscriber.messages.filter { $0.topic == "lpr/street/event" }.map(\.payload)
        #expect(Set(published) == Set(lines))
        #expect(published.count == lines.count, "no duplicate without a broker failure")
        #expect(subscriber.messages.filter { $0.topic == "lpr/street/last_plate" }.count == lines.count)
        #expect(subscriber.messages.contains { $0.topic == "homeassistant/sensor/platestream_street/last_plate/config" })
        #expect(subscriber.messages.last { $0.topic == "lpr/street/status" }?.payload == "offline")
    }

    @Test func theLastWillMarksACameraOfflineWhenItsConnectionDies() async throws {
        // The connection's will, set at connect, is what the broker publishes when the client vanishes: here
        // the broker is told so by a second client taking the same client id, which makes it drop the first
        // without a DISCONNECT (as a crash would).
        let broker = try await Self.startBroker("mqtt-will")
        defer { Self.stop(broker) }
        let settings = MQTTSettings(broker: try MQTTBrokerURL(parsing: "mqtt://pub:pub%20secret@127.0.0.1:\(broker.port)"),
                                    topicPrefix: "lpr", clientID: "will-test", minReconnectDelay: .seconds(30),
                                    maxReconnectDelay: .seconds(30))
        let connection = try MQTTConnection(topics: MQTTTopics(settings: settings, camera: "gate"))
        connection.start()
        #expect(await M.eventually(timeout: 60) { connection.isConnected })
        #expect(await M.eventually(timeout: 60) { Self.status(broker) == "online" })
        // Same client id: the broker takes the newcomer and drops the old session, sending its will.
        let usurper = try DecodeHarness.runProcess(try M.tool("mosquitto_pub"), [
            "-h", "127.0.0.1", "-p", String(broker.port), "-u", "pub", "-P", Self.users["pub"]!, "-i", "will-test-gate",
            "-t", "lpr/other", "-m", "x",
        ], timeout: 30)
        #expect(usurper.status == 0, "\(usurper.stderr)")
        #expect(await M.eventually(timeout: 60) { Self.status(broker) == "offline" })
        await connection.stop()
    }

    @Test func aWrongPasswordIsRefusedAndLoggedWithoutThePassword() async throws {
        let broker = try await Self.startBroker("mqtt-auth")
        defer { Self.stop(broker) }
        let settings = MQTTSettings(broker: try MQTTBrokerURL(parsing: "mqtt://pub:wrong-hunter2@127.0.0.1:\(broker.port)"),
                                    topicPrefix: "lpr", minReconnectDelay: .milliseconds(100), maxReconnectDelay: .milliseconds(200))
        let log = CapturedLog()
        let connection = try MQTTConnection(topics: MQTTTopics(settings: settings, camera: "gate"),
                                            logger: Logger(label: "test") { _ in CapturingLogHandler(log: log) })
        connection.start()
        #expect(await M.eventually(timeout: 60) { log.lines.joined(separator: "\n").contains("refused") })
        #expect(!connection.isConnected)
        await #expect(throws: MQTTError.self) {
            try await connection.publish(OutboundMessage(topic: "lpr/x", payload: "x", qos: 1, retain: false))
        }
        let text = log.lines.joined(separator: "\n")
        #expect(text.contains("not authorised"), "\(text)")
        #expect(!text.contains("hunter2"))
        await connection.stop()
    }

    /// A process holding more than select(2)'s 1024 descriptors (a server with many clients) still publishes:
    /// libmosquitto's own loop refuses such a socket, so the connection serves it with poll(2). The descriptors are
    /// taken before the connection opens its socket, which the kernel then numbers above them.
    @Test(arguments: [false, true])
    func publishesWhenItsSocketIsNumberedPastSelectsLimit(tls: Bool) async throws {
        let broker = try await Self.startBroker(tls ? "mqtt-fd-tls" : "mqtt-fd", tls: tls)
        defer { Self.stop(broker) }
        let held = try Self.holdDescriptorsPastSelectsLimit()
        defer { held.forEach { close($0) } }
        let url = try MQTTBrokerURL(parsing: "\(tls ? "mqtts" : "mqtt")://pub:pub%20secret@127.0.0.1:\(broker.port)")
        let settings = MQTTSettings(broker: url, topicPrefix: "lpr", caFile: tls ? broker.caFile : nil,
                                    minReconnectDelay: .milliseconds(100), maxReconnectDelay: .milliseconds(200))
        let log = CapturedLog()
        let connection = try MQTTConnection(topics: MQTTTopics(settings: settings, camera: "gate"),
                                            logger: Logger(label: "test") { _ in CapturingLogHandler(log: log) })
        connection.start()
        #expect(await M.eventually(timeout: 60) { connection.isConnected }, "\(log.lines)")
        for i in 0..<5 {
            try await connection.publish(OutboundMessage(topic: "lpr/gate/last_plate", payload: "{\"plate\":\"FD\(i)\"}", qos: 1, retain: true))
        }
        let seen = try M.retained(port: broker.port, user: "sub", password: Self.users["sub"]!, topics: ["lpr/gate/last_plate"],
                                  count: 1, caFile: tls ? broker.caFile : nil)
        #expect(seen.map(\.payload) == ["{\"plate\":\"FD4\"}"])
        #expect(!log.lines.contains { $0.contains("retrying") }, "\(log.lines)")
        await connection.stop()
    }

    /// Descriptors on /dev/null until the next one is numbered past select(2)'s limit (the soft limit raised to
    /// 4096 where it is lower); the caller closes them.
    static func holdDescriptorsPastSelectsLimit() throws -> [Int32] {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 4096 {
            limit.rlim_cur = min(4096, limit.rlim_max)
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        var held: [Int32] = []
        while held.count < 1100, case let fd = open("/dev/null", O_RDONLY), fd >= 0 {
            held.append(fd)
            if fd > Int32(FD_SETSIZE) + 8 { break }
        }
        try #require((held.last ?? 0) > Int32(FD_SETSIZE), "could not open descriptors past \(FD_SETSIZE)")
        return held
    }

    /// A connection made while the process held many descriptors has its library's wake-up pipe numbered past
    /// select(2)'s limit, and keeps it after they are closed, while its socket, opened later, is numbered low:
    /// libmosquitto's own loop refuses it all the same (MOSQ_ERR_INVAL, "Invalid function arguments provided" at every
    /// retry; a CI run's mqtts test got its connection made while the test above held its descriptors). It is served
    /// with poll(2) too.
    @Test func publishesWhenOnlyItsWakeUpPipeIsNumberedPastSelectsLimit() async throws {
        let broker = try await Self.startBroker("mqtt-pipe", tls: false)
        defer { Self.stop(broker) }
        let url = try MQTTBrokerURL(parsing: "mqtt://pub:pub%20secret@127.0.0.1:\(broker.port)")
        let settings = MQTTSettings(broker: url, topicPrefix: "lpr", minReconnectDelay: .milliseconds(100),
                                    maxReconnectDelay: .milliseconds(200))
        let log = CapturedLog()
        let held = try Self.holdDescriptorsPastSelectsLimit()
        let connection = try MQTTConnection(topics: MQTTTopics(settings: settings, camera: "gate"),
                                            logger: Logger(label: "test") { _ in CapturingLogHandler(log: log) })
        held.forEach { close($0) }
        connection.start()
        #expect(await M.eventually(timeout: 60) { connection.isConnected }, "\(log.lines)")
        try await connection.publish(OutboundMessage(topic: "lpr/gate/last_plate", payload: "{\"plate\":\"PIPE1\"}", qos: 1, retain: true))
        let seen = try M.retained(port: broker.port, user: "sub", password: Self.users["sub"]!, topics: ["lpr/gate/last_plate"],
                                  count: 1)
        #expect(seen.map(\.payload) == ["{\"plate\":\"PIPE1\"}"])
        #expect(!log.lines.contains { $0.contains("retrying") }, "\(log.lines)")
        await connection.stop()
    }

    @Test func mqttsChecksTheBrokerWithTheConfiguredCA() async throws {
        let broker = try await Self.startBroker("mqtt-tls", tls: true)
        defer { Self.stop(broker) }
        let url = try MQTTBrokerURL(parsing: "mqtts://pub:pub%20secret@127.0.0.1:\(broker.port)")
        var settings = MQTTSettings(broker: url, topicPrefix: "lpr", caFile: broker.caFile,
                                    minReconnectDelay: .milliseconds(100), maxReconnectDelay: .milliseconds(200))
        let connection = try MQTTConnection(topics: MQTTTopics(settings: settings, camera: "gate"))
        connection.start()
        #expect(await M.eventually(timeout: 60) { connection.isConnected })
        try await connection.publish(OutboundMessage(topic: "lpr/gate/last_plate", payload: "{\"plate\":\"TLS1\"}", qos: 1, retain: true))
        let seen = try M.retained(port: broker.port, user: "sub", password: Self.users["sub"]!, topics: ["lpr/gate/last_plate"],
                                  count: 1, caFile: broker.caFile)
        #expect(seen.map(\.payload) == ["{\"plate\":\"TLS1\"}"])
        await connection.stop()

        // Without the CA, the system's do not know this broker: the TLS handshake fails, nothing is sent.
        settings.caFile = nil
        let log = CapturedLog()
        let untrusting = try MQTTConnection(topics: MQTTTopics(settings: settings, camera: "yard"),
                                            logger: Logger(label: "test") { _ in CapturingLogHandler(log: log) })
        untrusting.start()
        #expect(await M.eventually(timeout: 60) { log.lines.contains { $0.contains("retrying") } }, "\(log.lines)")
        #expect(!untrusting.isConnected)
        await #expect(throws: MQTTError.self) {
            try await untrusting.publish(OutboundMessage(topic: "lpr/yard/event", payload: "x", qos: 1, retain: false))
        }
        await untrusting.stop()
    }
}
