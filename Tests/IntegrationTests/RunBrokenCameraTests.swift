import Foundation
import Testing

private typealias H = DecodeHarness

/// `platestream run --config` with one good camera and one that sends garbage after a few frames: the broken
/// one reconnects again and again, the good one never notices, and the process stays up until SIGTERM.
@Suite(.serialized) struct RunBrokenCameraTests {
    /// The value of `name{camera="camera"}` in Prometheus text, or nil.
    static func metric(_ text: String, _ name: String, camera: String) -> Double? {
        let prefix = "\(name){camera=\"\(camera)\"} "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    @Test func aBrokenCameraReconnectsAndTheGoodOneIsUntouched() async throws {
        let good = try await H.offPool { try H.startMJPEGServer() }
        defer { good.stop() }
        let broken = try await H.offPool { try H.startMJPEGServer(["--garbage-after", "3"]) }
        defer { broken.stop() }
        let dir = try H.temporaryDirectory("run-broken")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try H.closedLoopbackPort()
        let config = dir.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: [
            "cameras": [["id": "good", "url": "http://127.0.0.1:\(good.port)/video.mjpg"],
                        ["id": "broken", "url": "http://127.0.0.1:\(broken.port)/video.mjpg"]],
            "recognizer": ["models": H.repositoryRoot.appendingPathComponent("Models").path, "workers": 1],
            "http": ["port": port],
            "log_level": "warning",
        ] as [String: Any]).write(to: config)
        let err = dir.appendingPathComponent("stderr")
        let process = try RunCommandTests.startRun(config: config, stderr: err)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) }; process.waitUntilExit() }

        // Until the broken camera has come back twice, while the good one goes on decoding.
        var metrics = ""
        for _ in 0..<1_200 where process.isRunning {
            let r = try await H.offPool { try H.runProcess("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"], timeout: 30) }
            if (Self.metric(r.stdout, "platestream_source_reconnects_total", camera: "broken") ?? 0) >= 2,
               (Self.metric(r.stdout, "platestream_frames_decoded_total", camera: "good") ?? 0) >= 50 {
                metrics = r.stdout
                break
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(process.isRunning, "the process stays up: \((try? String(contentsOf: err, encoding: .utf8)) ?? "")")
        #expect(!metrics.isEmpty, "the broken camera did not reconnect twice")
        #expect(Self.metric(metrics, "platestream_source_reconnects_total", camera: "good") ?? 0 == 0, "\(metrics.prefix(3000))")
        #expect(Self.metric(metrics, "platestream_source_errors_total", camera: "good") ?? 0 == 0, "\(metrics.prefix(3000))")

        kill(process.processIdentifier, SIGTERM)
        try await H.offPool {
            let deadline = Date(timeIntervalSinceNow: 240)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(!process.isRunning, "did not exit after SIGTERM")
        process.waitUntilExit()
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(stderr.contains("camera good:") && stderr.contains("camera broken:"), "\(stderr)")
    }
}
