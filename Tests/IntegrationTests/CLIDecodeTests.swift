import Foundation
import Testing
import PlateVision

private typealias H = DecodeHarness

/// The built `platestream probe` and `platestream frames` binaries, run as child processes on
/// generated media.
@Suite struct CLIDecodeTests {
    /// Runs the binary off the cooperative pool.
    private func run(_ arguments: [String]) async throws -> H.ProcessResult {
        let binary = try H.platestreamBinary()
        return try await H.offPool { try H.runProcess(binary, arguments) }
    }

    private func h264() async throws -> String {
        try #require(try await H.media().videos.first { $0.name == "h264.mp4" }).url.path
    }

    private func json(_ line: some StringProtocol) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func probeJSON() async throws {
        let path = try await h264()
        let result = try await run(["probe", "--json", path])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try json(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(report["source"] as? String == path)
        #expect(report["codec"] as? String == "h264")
        #expect(report["width"] as? Int == 320)
        #expect(report["height"] as? Int == 240)
        #expect(report["fps"] as? Double == 25)
        #expect(report["frame_count"] as? Int == 50)
        #expect(report["pixel_format"] as? String == "yuv420p")
        #expect(report["live"] as? Bool == false)
        #expect(abs((report["duration_sec"] as? Double ?? 0) - 2) < 0.05)
        #expect((report["container"] as? String)?.contains("mp4") == true)
    }

    @Test func probeText() async throws {
        let mkv = try #require(try await H.media().videos.first { $0.name == "hevc.mkv" }).url.path
        let result = try await run(["probe", mkv])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("codec:       hevc"))
        #expect(result.stdout.contains("resolution:  320x240"))
        #expect(result.stdout.contains("fps:         25"))
        #expect(result.stdout.contains("duration:    1.200 s"))
    }

    @Test func framesPrintsEachSampledFrameAndASummary() async throws {
        let result = try await run(["frames", "--json", "--sample", "5", try await h264()])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 11)
        let frames = try lines.dropLast().map(json)
        #expect(frames.map { $0["index"] as? Int } == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45])
        for frame in frames {
            let index = try #require(frame["index"] as? Int)
            #expect(abs((frame["position_sec"] as? Double ?? -1) - Double(index) / 25) < 1e-9)
            #expect(frame["width"] as? Int == 320 && frame["height"] as? Int == 240)
        }
        let last = try #require(lines.last)
        let summary = try #require(try json(last)["summary"] as? [String: Any])
        // Frames the sampler throws away are partly not decoded at all (the file's non-reference B-frames).
        let decoded = try #require(summary["decoded"] as? Int), notDecoded = try #require(summary["not_decoded"] as? Int)
        #expect(decoded + notDecoded == 50)
        #expect(notDecoded > 0)
        #expect(summary["delivered"] as? Int == 10)
        #expect(summary["dropped_by_sampling"] as? Int == decoded - 10)
        #expect(summary["corrupt_packets"] as? Int == 0)
    }

    @Test func leavingUnusedFramesUndecodedDeliversTheSameFrames() async throws {
        let file = try await h264()
        let skipping = try await run(["frames", "--json", "--sample", "2", file])
        let all = try await run(["frames", "--json", "--sample", "2", "--decode-all", file])
        #expect(skipping.status == 0 && all.status == 0, "\(skipping.stderr) \(all.stderr)")
        func frames(_ out: String) throws -> [[String: Any]] { try out.split(separator: "\n").map(json) }
        let a = try frames(skipping.stdout), b = try frames(all.stdout)
        // Same frames, same places and times: only the summary differs.
        #expect(a.dropLast().map { "\($0["index"] ?? "") \($0["pts"] ?? "")" } == b.dropLast().map { "\($0["index"] ?? "") \($0["pts"] ?? "")" })
        #expect(a.count == 26)
        let s = try #require(a.last?["summary"] as? [String: Any]), t = try #require(b.last?["summary"] as? [String: Any])
        #expect(t["decoded"] as? Int == 50 && t["not_decoded"] as? Int == 0)
        let notDecoded = try #require(s["not_decoded"] as? Int)
        #expect(notDecoded > 0 && s["decoded"] as? Int == 50 - notDecoded)
    }

    @Test func framesTextWithMaxFPSAndThreads() async throws {
        let result = try await run(["frames", "--max-fps", "5", "--threads", "1", try await h264()])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("frame ") }.count == 10)
        #expect(lines.first?.hasPrefix("frame      0  pts     0.000000 s  320x240") == true)
        #expect(lines.last?.hasPrefix("summary: decoded 50, delivered 10, dropped 40, corrupt 0, reconnects 0") == true)
    }

    @Test func framesSavesJPEGs() async throws {
        let dir = try H.temporaryDirectory("shots")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let result = try await run(["frames", "--quiet", "--max-frames", "7", try await h264(), "--save-every", "3", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == ["frame-000000.jpg", "frame-000003.jpg", "frame-000006.jpg"])
        for name in names {
            let data = try Data(contentsOf: out.appendingPathComponent(name))
            let image = try ImageCodec.decode(data)
            #expect(image.width == 320 && image.height == 240)
        }
        #expect(result.stdout.contains("summary: decoded 7, delivered 7"))
    }

    @Test func framesFromRawInputWithSourceOptions() async throws {
        let raw = try await H.media().rawYUYV.path
        let result = try await run(["frames", "-f", "rawvideo", "--video-size", "100x80", "--pixel-format", "yuyv422",
                              "--framerate", "25", "--output-format", "gray8", raw])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").filter { $0.hasPrefix("frame ") && $0.contains("100x80") }.count == 10)
    }

    @Test func errorsNameTheSourceAndFail() async throws {
        let missing = try await H.media().directory.appendingPathComponent("missing.mp4").path
        let result = try await run(["frames", missing])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(missing): file not found"))

        let port = try H.closedLoopbackPort()
        let refused = try await run(["probe", "rtsp://admin:topsecret@127.0.0.1:\(port)/stream"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("rtsp://admin:***@127.0.0.1:\(port)/stream: connection refused"))
        #expect(!refused.stderr.contains("topsecret") && !refused.stdout.contains("topsecret"))
    }

    @Test func validatesOptions() async throws {
        let path = try await h264()
        for arguments in [["frames", "--sample", "0", path], ["frames", "--max-fps", "-1", path],
                          ["frames", path, "--save-every", "3"], ["probe", "--video-size", "big", path],
                          ["probe", "--connect-timeout", "0", path], ["frames", "--option", "novalue", path],
                          ["frames", "--transport", "sctp", path]] {
            let result = try await run(arguments)
            #expect(result.status != 0, "\(arguments) should fail")
            #expect(result.stderr.contains("Error"), "\(arguments): \(result.stderr)")
        }
    }
}
