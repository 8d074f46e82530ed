import Foundation
import Testing

private typealias H = DecodeHarness

/// The whole `platestream run` daemon against real neighbours on loopback: an RTSP camera that drops and
/// comes back, and a webhook target that is down while the daemon is killed with SIGKILL.
@Suite(.serialized) struct StreamDeliveryTests {
    static var models: String { H.repositoryRoot.appendingPathComponent("Models").path }
    static var street: URL { H.repositoryRoot.appendingPathComponent("Samples/scenes/street.mp4") }

    static func writeConfig(_ object: [String: Any], in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]).write(to: url)
        return url
    }

    static func text(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

    /// Polls `condition` every 100 ms for up to `seconds` (a bound, so a broken daemon fails instead of hanging).
    static func wait(seconds: Double, _ condition: @escaping @Sendable () -> Bool) async throws -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }

    static func stop(_ process: Process, signal: Int32 = SIGTERM) async throws -> Int32 {
        kill(process.processIdentifier, signal)
        _ = try await wait(seconds: 240) { !process.isRunning }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func anRTSPCameraThatDropsIsReconnectedAndKeepsReporting() async throws {
        let dir = try H.temporaryDirectory("stream-rtsp")
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try await H.offPool { try H.startRTSPServer(file: Self.street) }
        let port = server.port
        let events = dir.appendingPathComponent("events.jsonl")
        // memory_decay 1 s: the restarted stream shows the same cars again, and they are to be reported again.
        let config = try Self.writeConfig([
            "cameras": [["id": "gate", "url": "rtsp://127.0.0.1:\(port)/stream", "jsonlines_file": "events.jsonl",
                         "memory_decay": 1]],
            "recognizer": ["models": Self.models],
        ], in: dir)
        let err = dir.appendingPathComponent("stderr")
        let process = try RunCommandTests.startRun(config: config, stderr: err)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) }; process.waitUntilExit() }

        let first = try await Self.wait(seconds: 180) { Self.text(events).contains("\"123ys\"") }
        #expect(first, "no event before the drop: \(Self.text(err).suffix(1500))")
        server.stop()                                                      // the camera drops (SIGKILL)
        try await Task.sleep(for: .seconds(1))
        let again = try await H.offPool { try H.startRTSPServer(file: Self.street, port: port) }
        defer { again.stop() }
        let second = try await Self.wait(seconds: 240) {
            Self.text(events).components(separatedBy: "\"123ys\"").count - 1 >= 2
        }
        #expect(second, "no event after the reconnect: \(Self.text(err).suffix(1500))")
        let status = try await Self.stop(process)
        #expect(status == 0)
        let log = Self.text(err)
        let reconnects = log.range(of: #"reconnects (\d+)"#, options: .regularExpression)
            .flatMap { Int(log[$0].split(separator: " ").last ?? "") } ?? 0
        #expect(reconnects >= 1, "\(log.suffix(1500))")
        for line in Self.text(events).split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["camera_id"] as? String == "gate")
            let result = (object?["results"] as? [[String: Any]])?.first
            #expect(result?["source_url"] as? String == "rtsp://127.0.0.1:\(port)/stream")
        }
    }

    /// The envelope of a Stream-format webhook body (`json=<form-encoded JSON>`).
    static func envelope(_ body: Data) -> [String: Any]? {
        guard let text = String(data: body, encoding: .utf8), text.hasPrefix("json="),
              let json = String(text.dropFirst(5)).replacingOccurrences(of: "+", with: " ").removingPercentEncoding else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    }

    @Test func eventsPendingWhenTheDaemonIsKilledAreDeliveredAfterARestart() async throws {
        let dir = try H.temporaryDirectory("stream-kill")
        defer { try? FileManager.default.removeItem(at: dir) }
        let hookPort = try H.closedLoopbackPort()                          // the target is down at first
        let config = try Self.writeConfig([
            "cameras": [["id": "gate", "url": Self.street.path, "webhook_targets": ["http://127.0.0.1:\(hookPort)/hook"]]],
            "recognizer": ["models": Self.models],
            "database": "p.db",
        ], in: dir)
        let plates = try SceneTests.truth("street").vehicles.compactMap(\.plate).map { $0.lowercased() }

        // Run 1: the file is processed, every event is committed to the outbox, the target is still down,
        // and the daemon is killed while it waits to deliver them.
        let err1 = dir.appendingPathComponent("stderr1")
        let first = try RunCommandTests.startRun(config: config, stderr: err1)
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) }; first.waitUntilExit() }
        let draining = try await Self.wait(seconds: 300) { Self.text(err1).contains("waiting for webhook deliveries") }
        #expect(draining, "\(Self.text(err1).suffix(1500))")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)

        // Run 2: the target is up (refusing its first request); the events of run 1 go out, and run 2's own.
        let log = dir.appendingPathComponent("received.jsonl")
        let receiver = try H.ServerProcess(script: "webhook-receiver.py",
                                           arguments: ["--port", String(hookPort), "--log", log.path, "--fail", "1"])
        defer { receiver.stop() }
        let err2 = dir.appendingPathComponent("stderr2")
        let second = try RunCommandTests.startRun(config: config, stderr: err2)
        defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) }; second.waitUntilExit() }
        let finished = try await Self.wait(seconds: 300) { !second.isRunning }
        #expect(finished)
        second.waitUntilExit()
        #expect(second.terminationStatus == 0, "\(Self.text(err2).suffix(1500))")

        let all = SnapshotWebhookCLITests.received(log)
        let accepted = all.filter { $0["status"] as? Int == 200 }
        let keys = accepted.compactMap { ($0["headers"] as? [String: String])?["idempotency-key"] }
        #expect(keys.count == accepted.count, "a delivery without its key")
        let refusedKeys = all.filter { $0["status"] as? Int == 503 }.compactMap { ($0["headers"] as? [String: String])?["idempotency-key"] }
        #expect(refusedKeys.count == 1 && Set(refusedKeys).isSubset(of: Set(keys)), "the refused request was not retried with its key")
        var perPlate: [String: Int] = [:], keysPerPlate: [String: Set<String>] = [:]
        for request in accepted {
            let body = Data(base64Encoded: request["body_b64"] as? String ?? "") ?? Data()
            let envelope = try #require(Self.envelope(body), "not a Stream webhook body")
            #expect((envelope["hook"] as? [String: Any])?["event"] as? String == "recognition")
            let result = ((envelope["data"] as? [String: Any])?["results"] as? [[String: Any]])?.first
            let props = (result?["plate"] as? [String: Any])?["props"] as? [String: Any]
            if let text = (props?["plate"] as? [[String: Any]])?.first?["value"] as? String {
                perPlate[text, default: 0] += 1
                keysPerPlate[text, default: []].insert((request["headers"] as? [String: String])?["idempotency-key"] ?? "")
            }
        }
        // Run 2 reads the same file again: its events are run 1's events (a file's events are keyed by the file,
        // so a restarted node stores nothing twice), with the same Idempotency-Key. One still waiting in the outbox
        // is not queued again; one already delivered may go out again under its key, for the receiver to drop.
        for plate in plates {
            #expect((1...2).contains(perPlate[plate] ?? 0), "\(plate): \(perPlate[plate] ?? 0) deliveries; all: \(perPlate)")
            #expect(keysPerPlate[plate]?.count == 1, "\(plate): the same event went out under \(keysPerPlate[plate]?.count ?? 0) keys")
        }
    }
}
