import Foundation
import Testing
import PlateCore
import PlateVision

private typealias H = DecodeHarness

/// `platestream read` and `platestream serve` run as child processes with the repository's models.
@Suite(.serialized) struct ReadServeCLITests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var models: String { repository.appendingPathComponent("Models").path }


    fileprivate func run(_ arguments: [String]) async throws -> H.ProcessResult {
        let binary = try H.platestreamBinary()
        return try await H.offPool { try H.runProcess(binary, arguments) }
    }

    /// A grey 320x240 JPEG with a white plate-like rectangle and dark bars on it.
    static func plateLikeJPEG() throws -> Data {
        let image = Image(width: 320, height: 240, format: .bgr24)
        memset(image.buffer.bytes, 90, image.buffer.count)
        for y in 150..<180 { memset(image.buffer.bytes + y * image.stride + 100 * 3, 235, 120 * 3) }
        for x in stride(from: 108, to: 210, by: 14) { for y in 155..<175 { memset(image.buffer.bytes + y * image.stride + x * 3, 20, 6 * 3) } }
        return try ImageCodec.encodeJPEG(image)
    }

    @Test func readPrintsOneSnapshotResponsePerImage() async throws {
        let dir = try H.temporaryDirectory("read")
        try Self.plateLikeJPEG().write(to: dir.appendingPathComponent("a.jpg"))
        try Self.plateLikeJPEG().write(to: dir.appendingPathComponent("b.jpg"))
        try Data("not an image".utf8).write(to: dir.appendingPathComponent("notes.txt"))   // skipped: not an image name
        let result = try await run(["read", dir.path, "--models", Self.models, "--regions", "us-ca", "--topn", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        for (line, name) in zip(lines, ["a.jpg", "b.jpg"]) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["filename"] as? String == name)
            #expect(object["processing_time"] is NSNumber)
            #expect(object["version"] as? Int == 1)
            #expect(object.keys.contains("camera_id") && object["timestamp"] is String)
            let results = try #require(object["results"] as? [[String: Any]])
            for r in results {
                for key in ["box", "plate", "region", "score", "candidates", "dscore"] { #expect(r[key] != nil, "\(key)") }
                #expect((r["candidates"] as? [Any])?.count ?? 0 <= 3)
            }
        }
    }

    @Test func readRefusesBadInputsClearly() async throws {
        let dir = try H.temporaryDirectory("read-bad")
        let text = dir.appendingPathComponent("text.jpg")
        try Data("hello".utf8).write(to: text)
        let truncated = dir.appendingPathComponent("cut.jpg")
        let jpeg = try Self.plateLikeJPEG()
        try jpeg.prefix(jpeg.count / 2).write(to: truncated)
        var huge: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        huge += [0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20, 8, 2, 0, 0, 0, 0, 0, 0, 0]     // 20000 x 20000
        let big = dir.appendingPathComponent("huge.png")
        try Data(huge).write(to: big)
        let tiny = dir.appendingPathComponent("tiny.png")
        let one = Image(width: 1, height: 1, format: .bgr24)
        memset(one.buffer.bytes, 0, 3)
        try ImageCodec.encodeJPEG(one).write(to: tiny)

        let r = try await run(["read", text.path, truncated.path, big.path, tiny.path, "--models", Self.models])
        #expect(r.status == 1)
        #expect(r.stderr.contains("text.jpg") && r.stderr.contains("not a JPEG"))
        #expect(r.stderr.contains("cut.jpg") && r.stderr.contains("truncated"))
        #expect(r.stderr.contains("huge.png") && r.stderr.contains("20000x20000"))
        #expect(r.stdout.split(separator: "\n").count == 1)                  // the 1x1 image is read: no plates
        let empty = try H.temporaryDirectory("read-empty")
        let e = try await run(["read", empty.path, "--models", Self.models])
        #expect(e.status != 0 && e.stderr.contains("no images"))
        let m = try await run(["read", tiny.path, "--models", "/nonexistent/models"])
        #expect(m.status != 0 && m.stderr.contains("/nonexistent/models"))
        let corruptModels = try H.temporaryDirectory("models")
        try FileManager.default.createDirectory(at: corruptModels.appendingPathComponent("detector"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: corruptModels.appendingPathComponent("ocr"), withIntermediateDirectories: true)
        for sub in ["detector/plate-detector", "ocr/plate-reader"] {
            try FileManager.default.copyItem(at: URL(fileURLWithPath: Self.models).appendingPathComponent(sub + ".json"),
                                             to: corruptModels.appendingPathComponent(sub + ".json"))
            try Data("garbage".utf8).write(to: corruptModels.appendingPathComponent(sub + ".onnx"))
        }
        let c = try await run(["read", tiny.path, "--models", corruptModels.path])
        #expect(c.status != 0 && c.stderr.contains("cannot load model"))
        let v = try await run(["read", tiny.path, "--topn", "0", "--models", Self.models])
        #expect(v.status != 0 && v.stderr.contains("--topn"))
    }

    @Test func serveAnswersThePlateRecognizerRouteOverRealHTTP() async throws {
        let binary = try H.platestreamBinary()
        let dir = try H.temporaryDirectory("serve")
        let db = dir.appendingPathComponent("usage.db").path
        let port = try H.closedLoopbackPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--port", String(port), "--models", Self.models, "--database", db, "--workers", "1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try H.launch(process)
        defer { if process.isRunning { process.terminate() }; process.waitUntilExit() }
        let image = dir.appendingPathComponent("car.jpg")
        try Self.plateLikeJPEG().write(to: image)
        var body = ""
        for _ in 0..<120 {                                                // wait for the models to load and the port to open
            let r = try await H.offPool { try H.runProcess("/usr/bin/curl", ["-s", "-F", "upload=@\(image.path)", "-F", "regions=us-ca",
                                                                             "http://127.0.0.1:\(port)/v1/plate-reader/"], timeout: 60) }
            if r.status == 0, !r.stdout.isEmpty { body = r.stdout; break }
            try await Task.sleep(for: .milliseconds(500))
        }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "no answer: \(body)")
        #expect(object["filename"] as? String == "car.jpg")
        #expect((object["usage"] as? [String: Any])?["calls"] as? Int == 1)
        #expect(object["results"] is [Any])
        let health = try await H.offPool { try H.runProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}",
                                                                              "http://127.0.0.1:\(port)/healthz"], timeout: 60) }
        #expect(health.stdout == "200")
        let metrics = try await H.offPool { try H.runProcess("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"], timeout: 60) }
        #expect(metrics.stdout.contains("# TYPE"))                       // Prometheus text exposition
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)                         // SIGTERM is a graceful shutdown
        // The call count survived in SQLite.
        let again = Process()
        again.executableURL = URL(fileURLWithPath: binary)
        again.arguments = ["serve", "--port", String(port), "--models", Self.models, "--database", db, "--workers", "1"]
        again.standardOutput = FileHandle.nullDevice
        again.standardError = FileHandle.nullDevice
        try H.launch(again)
        defer { if again.isRunning { again.terminate() }; again.waitUntilExit() }
        var calls: Int?
        for _ in 0..<120 {
            let r = try await H.offPool { try H.runProcess("/usr/bin/curl", ["-s", "-F", "upload=@\(image.path)",
                                                                             "http://127.0.0.1:\(port)/v1/plate-reader/"], timeout: 60) }
            if r.status == 0, let o = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] {
                calls = (o["usage"] as? [String: Any])?["calls"] as? Int
                break
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(calls == 2)
    }
}
