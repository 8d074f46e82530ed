import Foundation
import Testing

private typealias H = DecodeHarness

/// `platestream serve` with snapshot webhooks, against a real HTTP receiver on loopback
/// (`scripts/webhook-receiver.py`): every `/v1/plate-reader/` result is posted as `image.done`, and results
/// survive a target that is down and a server that is killed.
@Suite(.serialized) struct SnapshotWebhookCLITests {
    static var models: String { ReadServeCLITests.models }

    /// What the receiver logged: one object per request.
    static func received(_ log: URL) -> [[String: Any]] {
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func startServe(config: URL, port: Int, database: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try H.platestreamBinary())
        process.arguments = ["serve", "--config", config.path, "--port", String(port), "--models", models,
                             "--database", database, "--workers", "1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try H.launch(process)
        return process
    }

    /// POSTs `image` until the server answers (it may still be loading its models); returns the body.
    static func post(_ image: URL, port: Int, fields: [String] = []) async throws -> [String: Any] {
        let form = fields.flatMap { ["-F", $0] }
        for _ in 0..<240 {
            let r = try await H.offPool { try H.runProcess("/usr/bin/curl", ["-s", "-F", "upload=@\(image.path)"] + form
                                                               + ["http://127.0.0.1:\(port)/v1/plate-reader/"], timeout: 60) }
            if r.status == 0, let o = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] { return o }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw H.HarnessError("the server never answered")
    }

    /// Waits until the receiver logged `count` requests answered 200 (bounded, so a broken outbox fails).
    static func waitForDelivered(_ log: URL, count: Int, seconds: Double = 120) async throws -> [[String: Any]] {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            let ok = received(log).filter { $0["status"] as? Int == 200 }
            if ok.count >= count { return ok }
            try await Task.sleep(for: .milliseconds(200))
        }
        return received(log).filter { $0["status"] as? Int == 200 }
    }

    /// The parts of a multipart/form-data body by name.
    static func multipart(_ body: Data, contentType: String) -> [String: Data] {
        guard let range = contentType.range(of: "boundary=") else { return [:] }
        let boundary = Data(("--" + contentType[range.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\""))).utf8)
        var parts: [String: Data] = [:]
        var rest = body[...]
        while let start = rest.range(of: boundary) {
            rest = rest[start.upperBound...]
            guard let end = rest.range(of: boundary) else { break }
            let part = rest[rest.startIndex..<end.lowerBound]
            if let split = part.range(of: Data("\r\n\r\n".utf8)) {
                let head = String(decoding: part[part.startIndex..<split.lowerBound], as: UTF8.self)
                var content = part[split.upperBound...]
                if content.suffix(2) == Data("\r\n".utf8) { content = content.dropLast(2) }
                if let n = head.range(of: "name=\"") {
                    let name = String(head[n.upperBound...].prefix { $0 != "\"" })
                    parts[name] = Data(content)
                }
            }
        }
        return parts
    }

    @Test func everyResultIsPostedAsImageDoneWithTheUpload() async throws {
        let dir = try H.temporaryDirectory("snapshot-hook")
        let log = dir.appendingPathComponent("received.jsonl")
        let receiver = try H.ServerProcess(script: "webhook-receiver.py", arguments: ["--port", "0", "--log", log.path])
        defer { receiver.stop() }
        let target = "http://127.0.0.1:\(receiver.port)/hook"
        let config = dir.appendingPathComponent("config.json")
        try Data(#"{"http": {"webhooks": ["\#(target)"], "webhook_image": true, "webhook_header": "X-Token: abc"}}"#.utf8).write(to: config)
        let port = try H.closedLoopbackPort()
        let server = try Self.startServe(config: config, port: port, database: dir.appendingPathComponent("p.db").path)
        defer { if server.isRunning { server.terminate() }; server.waitUntilExit() }
        let image = dir.appendingPathComponent("car.jpg")
        let bytes = try ReadServeCLITests.plateLikeJPEG()
        try bytes.write(to: image)
        let answer = try await Self.post(image, port: port, fields: ["camera_id=gate-7"])
        #expect(answer["filename"] as? String == "car.jpg")

        let delivered = try await Self.waitForDelivered(log, count: 1)
        try #require(delivered.count == 1)
        let request = delivered[0]
        let headers = try #require(request["headers"] as? [String: String])
        let contentType = try #require(headers["content-type"])
        #expect(contentType.hasPrefix("multipart/form-data"))
        #expect(headers["x-token"] == "abc")
        #expect(!(headers["idempotency-key"] ?? "").isEmpty)
        let body = try #require(Data(base64Encoded: request["body_b64"] as? String ?? ""))
        let parts = Self.multipart(body, contentType: contentType)
        #expect(parts["upload"] == bytes)                                       // the image exactly as uploaded
        let envelope = try #require(try JSONSerialization.jsonObject(with: parts["json"] ?? Data()) as? [String: Any])
        let hook = try #require(envelope["hook"] as? [String: Any])
        #expect(hook["event"] as? String == "image.done")
        #expect(hook["target"] as? String == target)
        #expect(hook["id"] as? Int == 1)
        let data = try #require(envelope["data"] as? [String: Any])
        #expect(data["filename"] as? String == "car.jpg")
        #expect(data["camera_id"] as? String == "gate-7")
        #expect(data["version"] as? Int == 1)
        #expect(data["results"] is [Any] && data["processing_time"] is Double && data["timestamp"] is String)
        #expect(data["usage"] == nil)                                           // the documented payload has none
        #expect(Set(data.keys) == Set(answer.keys).subtracting(["usage"]))      // otherwise the response itself
    }

    @Test func resultsSurviveADownTargetAndAKilledServer() async throws {
        let dir = try H.temporaryDirectory("snapshot-hook-down")
        let log = dir.appendingPathComponent("received.jsonl")
        let hookPort = try H.closedLoopbackPort()                               // nothing listens there yet
        let config = dir.appendingPathComponent("config.json")
        try Data(#"{"http": {"webhooks": ["http://127.0.0.1:\#(hookPort)/hook"]}}"#.utf8).write(to: config)
        let database = dir.appendingPathComponent("p.db").path
        let port = try H.closedLoopbackPort()
        let image = dir.appendingPathComponent("car.jpg")
        try ReadServeCLITests.plateLikeJPEG().write(to: image)

        let first = try Self.startServe(config: config, port: port, database: database)
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) }; first.waitUntilExit() }
        let a = try await Self.post(image, port: port, fields: ["camera_id=a"])
        let b = try await Self.post(image, port: port, fields: ["camera_id=b"])
        #expect(a["results"] != nil && b["results"] != nil)
        kill(first.processIdentifier, SIGKILL)                                  // no chance to flush anything
        first.waitUntilExit()

        // The target comes up and refuses its first request; the restarted server delivers both results.
        let receiver = try H.ServerProcess(script: "webhook-receiver.py",
                                           arguments: ["--port", String(hookPort), "--log", log.path, "--fail", "1"])
        defer { receiver.stop() }
        let second = try Self.startServe(config: config, port: port, database: database)
        defer { if second.isRunning { second.terminate() }; second.waitUntilExit() }
        let delivered = try await Self.waitForDelivered(log, count: 2)
        #expect(delivered.count == 2)
        let cameras = delivered.compactMap { request -> String? in
            guard let body = Data(base64Encoded: request["body_b64"] as? String ?? ""),
                  let envelope = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
            return (envelope["data"] as? [String: Any])?["camera_id"] as? String
        }
        #expect(cameras.sorted() == ["a", "b"])
        let all = Self.received(log)
        #expect(all.contains { $0["status"] as? Int == 503 })                   // the refused attempt was retried
        let keys = delivered.compactMap { ($0["headers"] as? [String: String])?["idempotency-key"] }
        #expect(Set(keys).count == 2)
        // A retried message keeps its key: every key the receiver saw belongs to one of the two results.
        let seen = Set(all.compactMap { ($0["headers"] as? [String: String])?["idempotency-key"] })
        #expect(seen == Set(keys))
    }
}
