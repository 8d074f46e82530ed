import Foundation
import Testing

private typealias H = DecodeHarness

/// The built `platestream run`, as a child process, on ffmpeg-generated videos with the repository's
/// Models/. The models are still weak and the videos hold no plates, so these tests check the wiring
/// (exit codes, output files and their shape, progress, shutdown), never which plates are read.
@Suite(.serialized) struct RunCommandTests {
    /// The Version-2 event's top-level keys.
    static let v2Keys: Set<String> = ["camera_id", "filename", "timestamp", "timestamp_local", "results"]


    private static var models: String { H.repositoryRoot.appendingPathComponent("Models").path }

    /// Generated videos, made once: 2 s and 60 s of testsrc, 320x240 at 25 fps.
    private struct Videos: Sendable {
        let short: URL
        let long: URL
        static let shared: Result<Videos, any Error> = Result {
            let dir = try H.temporaryDirectory("run-media")
            let short = dir.appendingPathComponent("short.mp4"), long = dir.appendingPathComponent("long.mp4")
            try H.ffmpeg(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2", "-c:v", "libx264",
                          "-preset", "veryfast", "-pix_fmt", "yuv420p", short.path])
            try H.ffmpeg(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=60", "-c:v", "libx264",
                          "-preset", "veryfast", "-pix_fmt", "yuv420p", long.path])
            return Videos(short: short, long: long)
        }
    }

    private func videos() async throws -> Videos {
        try await H.offPool { try Videos.shared.get() }
    }

    private func run(_ arguments: [String], timeout: TimeInterval = 600) async throws -> H.ProcessResult {
        let binary = try H.platestreamBinary()
        return try await H.offPool { try H.runProcess(binary, arguments, timeout: timeout) }
    }

    /// Each line must be a JSON object with the Version-2 keys.
    private func expectEventLines(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(text.isEmpty || text.hasSuffix("\n"), "partial last line", sourceLocation: sourceLocation)
        for line in text.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                                      sourceLocation: sourceLocation)
            #expect(Set(object.keys) == Self.v2Keys, "\(line)", sourceLocation: sourceLocation)
            let results = try #require(object["results"] as? [[String: Any]], sourceLocation: sourceLocation)
            for result in results {
                #expect(Set(result.keys) == ["plate", "vehicle", "direction", "source_url", "position_sec"],
                        sourceLocation: sourceLocation)
            }
        }
    }

    private func writeConfig(_ object: [String: Any], in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]).write(to: url)
        return url
    }

    /// Starts `platestream run --config` in the background, stderr to a file.
    static func startRun(config: URL, stderr err: URL) throws -> Process {
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try H.platestreamBinary())
        process.arguments = ["run", "--config", config.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: err)
        try H.launch(process)
        return process
    }

    @Test func singleFilePrintsEventsAndProgress() async throws {
        let video = try await videos().short
        let dir = try H.temporaryDirectory("run-single")
        defer { try? FileManager.default.removeItem(at: dir) }
        let jsonl = dir.appendingPathComponent("events.jsonl")
        let result = try await run(["run", video.path, "--models", Self.models, "--jsonl", jsonl.path,
                                    "--health-interval", "5"])
        #expect(!result.timedOut)
        #expect(result.status == 0, "\(result.stderr)")
        try expectEventLines(result.stdout)
        // stderr is a file here, not a terminal: plain progress lines, and always a final one.
        #expect(result.stderr.contains("progress: "), "\(result.stderr)")
        #expect(result.stderr.contains("100%"), "\(result.stderr)")
        #expect(result.stderr.contains("summary:"), "\(result.stderr)")
        #expect(result.stderr.contains("end of stream"), "\(result.stderr)")
        // Whatever went to stdout went to the JSON Lines file too (it is created with the first event).
        let fileText = (try? String(contentsOf: jsonl, encoding: .utf8)) ?? ""
        try expectEventLines(fileText)
        #expect(fileText.split(separator: "\n").count == result.stdout.split(separator: "\n").count)
    }

    @Test func missingFileFailsWithAClearMessage() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("platestream-no-such-\(UUID()).mp4").path
        let result = try await run(["run", missing, "--models", Self.models], timeout: 300)
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(missing): file not found"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func configRunsCamerasToTheEndWithEverySink() async throws {
        let video = try await videos().short
        let dir = try H.temporaryDirectory("run-config")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try writeConfig([
            "defaults": ["sample": 2, "csv_file": "out/events.csv"],
            "cameras": [
                ["id": "gate", "url": video.path, "jsonlines_file": "out/$(camera).jsonl", "image_dir": "images",
                 "timezone": "Europe/Paris"],
                ["id": "yard", "url": video.path, "sample": 5, "detection_mode": "vehicle"],
                ["id": "off", "url": "/nonexistent.mp4", "active": false],
            ],
            "recognizer": ["models": Self.models],
            "database": "db/events.db",
        ], in: dir)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("db"), withIntermediateDirectories: true)
        let result = try await run(["run", "--config", config.path])
        #expect(!result.timedOut)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("camera gate:"), "\(result.stderr)")
        #expect(result.stderr.contains("camera yard:"), "\(result.stderr)")
        #expect(!result.stderr.contains("camera off:"), "\(result.stderr)")
        #expect(result.stderr.contains("sink csv:") && result.stderr.contains("sink jsonl:")
                && result.stderr.contains("sink database:"), "\(result.stderr)")
        let csv = dir.appendingPathComponent("out/events.csv")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("db/events.db").path))
        // Sinks open their file with the first event; the models may read nothing in a test pattern.
        if let text = try? String(contentsOf: csv, encoding: .utf8) {
            #expect(text.hasPrefix("camera_id,timestamp,"), "CSV header: \(text.prefix(200))")
            #expect(text.hasSuffix("\r\n"))
        }
        if let text = try? String(contentsOf: dir.appendingPathComponent("out/gate.jsonl"), encoding: .utf8) {
            try expectEventLines(text)
        }
    }

    @Test func badConfigFailsWithTheJSONPath() async throws {
        let dir = try H.temporaryDirectory("run-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try writeConfig(["cameras": [["id": "gate", "url": "x.mp4", "sample": "two"]]], in: dir)
        let result = try await run(["run", "--config", config.path, "--models", Self.models], timeout: 300)
        #expect(result.status != 0)
        #expect(result.stderr.contains("$.cameras[0].sample"), "\(result.stderr)")
    }

    /// A corrupt event store is a clear error naming the file, and the file is left as it was (never replaced
    /// by a new database, which would lose whatever a user could still recover from it).
    @Test func aCorruptDatabaseFailsNamingTheFileAndIsLeftAlone() async throws {
        let dir = try H.temporaryDirectory("run-corrupt-db")
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = dir.appendingPathComponent("events.db")
        var generator = SystemRandomNumberGenerator()
        let garbage = Data((0..<20_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try garbage.write(to: database)
        let video = try await videos().short
        let config = try writeConfig(["cameras": [["id": "gate", "url": video.path]], "database": database.path], in: dir)
        let result = try await run(["run", "--config", config.path, "--models", Self.models], timeout: 300)
        #expect(result.status != 0)
        #expect(result.stderr.contains(database.path) && result.stderr.contains("not a database"), "\(result.stderr)")
        #expect(try Data(contentsOf: database) == garbage)
        #expect(result.stdout.isEmpty)
    }

    @Test func sigtermDrainsAndFlushes() async throws {
        let video = try await videos().long
        let dir = try H.temporaryDirectory("run-sigterm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try writeConfig([
            "cameras": [["id": "live", "url": video.path, "sample": 1, "jsonlines_file": "events.jsonl",
                         "csv_file": "events.csv"]],
            "recognizer": ["models": Self.models],
        ], in: dir)
        let result = try await H.offPool { () throws -> (status: Int32, reason: Process.TerminationReason, stderr: String, waited: Bool) in
            let err = dir.appendingPathComponent("stderr")
            let process = try Self.startRun(config: config, stderr: err)
            // Wait until frames flow (models loaded, pipeline started), then ask it to stop.
            let started = Date()
            while process.isRunning, Date().timeIntervalSince(started) < 300 {
                let text = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
                if text.contains("pipeline starting") { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            Thread.sleep(forTimeInterval: 2)
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date(timeIntervalSinceNow: 240)
            var waited = true
            while process.isRunning {
                if Date() > deadline {
                    waited = false
                    kill(process.processIdentifier, SIGKILL)
                    break
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            process.waitUntilExit()
            return (process.terminationStatus, process.terminationReason,
                    (try? String(contentsOf: err, encoding: .utf8)) ?? "", waited)
        }
        #expect(result.waited, "did not exit after SIGTERM")
        #expect(result.reason == .exit)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("summary:"), "\(result.stderr)")
        #expect(result.stderr.contains("(stopped)"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("platestream.db").path))
        if let text = try? String(contentsOf: dir.appendingPathComponent("events.jsonl"), encoding: .utf8) {
            try expectEventLines(text)
        }
        if let text = try? String(contentsOf: dir.appendingPathComponent("events.csv"), encoding: .utf8) {
            #expect(text.hasSuffix("\r\n"))
        }
    }

    @Test func httpInTheConfigServesTheAPIsAndTheCamerasMetrics() async throws {
        let video = try await videos().long
        let dir = try H.temporaryDirectory("run-http")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try H.closedLoopbackPort()
        let config = try writeConfig([
            "cameras": [["id": "live", "url": video.path, "sample": 1]],
            "recognizer": ["models": Self.models, "workers": 1],
            "http": ["port": port],
            "log_level": "warning",
        ], in: dir)
        let image = dir.appendingPathComponent("car.jpg")
        try ReadServeCLITests.plateLikeJPEG().write(to: image)
        let err = dir.appendingPathComponent("stderr")
        let process = try Self.startRun(config: config, stderr: err)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) }; process.waitUntilExit() }

        // /metrics shows the camera's pipeline counters once frames flow.
        var metrics = ""
        for _ in 0..<600 where process.isRunning {
            let r = try await H.offPool { try H.runProcess("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"], timeout: 30) }
            if r.stdout.contains("platestream_frames_recognized_total{camera=\"live\"}") { metrics = r.stdout; break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(metrics.contains("platestream_frames_decoded_total{camera=\"live\"}"), "\(metrics.prefix(2000))")
        #expect(metrics.contains("platestream_input_fps{camera=\"live\"}"))
        // The snapshot API answers from the same process and recognizer.
        let answer = try await H.offPool { try H.runProcess("/usr/bin/curl", ["-s", "-F", "upload=@\(image.path)",
                                                                            "http://127.0.0.1:\(port)/v1/plate-reader/"], timeout: 60) }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any], "\(answer.stdout)")
        #expect(object["filename"] as? String == "car.jpg" && object["results"] is [Any])

        kill(process.processIdentifier, SIGTERM)
        let exited = try await H.offPool { () -> Bool in
            let deadline = Date(timeIntervalSinceNow: 240)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            return !process.isRunning
        }
        #expect(exited)
        #expect(process.terminationStatus == 0)
        // log_level warning: no info lines (the summary is not a log line and still comes).
        let text = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        #expect(!text.contains(" info "), "\(text.prefix(2000))")
        #expect(text.contains("summary:"))
    }
}
