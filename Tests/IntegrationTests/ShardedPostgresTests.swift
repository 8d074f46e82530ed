import Foundation
import PlateTesting
import Testing

private typealias H = DecodeHarness

/// Issue 14, part 3: three `platestream run --shard K/3` nodes writing one real PostgreSQL server (Debian's,
/// started here on 127.0.0.1), one of them SIGKILLed mid-run and started again.
///
/// The six cameras are files, two scenes three times each (camera i plays scene i / 3), so shard K runs
/// cameras K and K+3: one of each scene. Files make the events countable: a file processed again yields the
/// same passages with the same identifiers, and cameras playing the same scene must end with the same
/// passages. So the killed node's cameras, replayed from the start after the restart, must hold exactly what
/// the other nodes' cameras of the same scene hold: nothing lost, nothing twice. A seventh camera, an RTSP
/// address where nothing listens, falls to shard 0 (index 6) and keeps node 0, the one with the console, up
/// (reconnecting) after its files end.
@Suite(.serialized) struct ShardedPostgresTests {
    static let scenes = ["street.mp4", "night.mp4"]

    @Test func threeShardsStoreEveryEventOnceAcrossASIGKILLAndOneConsoleShowsThemAll() async throws {
        let server = try await H.offPool { try TestPostgresServer() }
        defer { server.stop() }
        try server.createDatabase("cluster")
        let dir = try H.temporaryDirectory("shards")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try H.closedLoopbackPort()
        let nowhere = try H.closedLoopbackPort()
        let sceneDir = H.repositoryRoot.appendingPathComponent("Samples/scenes")
        var cameras: [[String: Any]] = (0..<6).map { index in
            ["id": "cam-\(index)", "url": sceneDir.appendingPathComponent(Self.scenes[index / 3]).path]
        }
        cameras.append(["id": "door", "url": "rtsp://127.0.0.1:\(nowhere)/stream"])
        var config: [String: Any] = [
            "defaults": ["sample": 2],
            "cameras": cameras,
            "recognizer": ["models": H.repositoryRoot.appendingPathComponent("Models").path, "workers": 1],
            "database": server.url(database: "cluster"),
            "log_level": "info",
        ]
        // Shards 1 and 2 have no console: one configuration for them, one with `http` for shard 0.
        let plain = dir.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: config).write(to: plain)
        config["http"] = ["port": port]
        let withConsole = dir.appendingPathComponent("config-console.json")
        try JSONSerialization.data(withJSONObject: config).write(to: withConsole)

        @Sendable func start(_ shard: Int, run: Int = 1) throws -> Process {
            let err = dir.appendingPathComponent("node-\(shard)-\(run).log")
            _ = FileManager.default.createFile(atPath: err.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try H.platestreamBinary())
            process.arguments = ["run", "--config", (shard == 0 ? withConsole : plain).path, "--shard", "\(shard)/3"]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: err)
            try H.launch(process)
            return process
        }
        @Sendable func log(_ shard: Int, run: Int = 1) -> String {
            (try? String(contentsOf: dir.appendingPathComponent("node-\(shard)-\(run).log"), encoding: .utf8)) ?? ""
        }
        @Sendable func sql(_ text: String) throws -> String {
            try server.psql(text, database: "cluster").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        @Sendable func count(_ cameras: String) -> Int {
            Int((try? sql("SELECT COUNT(*) FROM event WHERE camera_id IN (\(cameras))")) ?? "") ?? 0
        }

        let node0 = try start(0), first1 = try start(1), node2 = try start(2)
        var node1 = first1
        defer {
            for node in [node0, first1, node1, node2] where node.isRunning { kill(node.processIdentifier, SIGKILL) }
        }

        // Node 1 is SIGKILLed as soon as it has stored an event of its own, mid-file.
        let stored = try await H.offPool {
            let deadline = Date(timeIntervalSinceNow: 300)
            while count("'cam-1','cam-4'") == 0, first1.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            let running = first1.isRunning
            kill(first1.processIdentifier, SIGKILL)
            first1.waitUntilExit()
            return running ? count("'cam-1','cam-4'") : -1
        }
        #expect(stored > 0, "node 1 stored nothing before it ended or the deadline:\n\(log(1))")
        #expect(first1.terminationReason == .uncaughtSignal)

        // Its heartbeat stops: node 0's console shows its cameras stale (after three missed beats).
        let stale = try await H.offPool { () -> String in
            let deadline = Date(timeIntervalSinceNow: 120)
            var last = ""
            while Date() < deadline {
                last = (try? H.runProcess("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/api/cameras"], timeout: 30).stdout) ?? ""
                if let cameras = try? Self.cameras(last), cameras["cam-1"]?["status"] as? String == "stale" { return last }
                Thread.sleep(forTimeInterval: 0.5)
            }
            return last
        }
        let staleCameras = try Self.cameras(stale)
        #expect(staleCameras["cam-1"]?["status"] as? String == "stale", "\(stale)\n\(log(0))")
        #expect(staleCameras["cam-1"]?["node"] as? String == "shard-1-of-3", "\(stale)")

        // Started again: it plays its files from the start; what it stored before is not stored twice.
        node1 = try start(1, run: 2)
        for (shard, node) in [(1, node1), (2, node2)] {
            try await H.offPool {
                let deadline = Date(timeIntervalSinceNow: 600)
                while node.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            }
            #expect(!node.isRunning, "node \(shard) did not finish:\n\(log(shard, run: shard == 1 ? 2 : 1))")
            if !node.isRunning {
                #expect(node.terminationStatus == 0, "\(log(shard, run: shard == 1 ? 2 : 1))")
            }
        }
        // Node 0's files end too (its RTSP camera keeps it up): wait until its cameras report ended.
        let ended = try await H.offPool { () -> Bool in
            let deadline = Date(timeIntervalSinceNow: 600)
            while Date() < deadline, node0.isRunning {
                let rows = (try? sql("SELECT COUNT(*) FROM camera_health WHERE camera_id IN ('cam-0','cam-3') AND status = 'ended'")) ?? ""
                if rows == "2" { return true }
                Thread.sleep(forTimeInterval: 0.25)
            }
            return false
        }
        #expect(ended, "node 0's files did not end:\n\(log(0))")

        // Exactly once: every scene's three cameras (one per node) hold the same passages, each once.
        let rows = try sql("""
            SELECT camera_id, track_id, COALESCE(plate, '-'), position_sec FROM event
            WHERE camera_id LIKE 'cam-%' ORDER BY camera_id, track_id, position_sec
            """)
        var passages: [String: [String]] = [:]
        for line in rows.split(separator: "\n") {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            passages[fields[0], default: []].append(fields.dropFirst().joined(separator: "|"))
        }
        for scene in 0..<2 {
            let ids = (0..<3).map { "cam-\(scene * 3 + $0)" }
            let reference = passages[ids[0]] ?? []
            #expect(!reference.isEmpty, "scene \(Self.scenes[scene]) stored no event")
            for id in ids.dropFirst() {
                #expect(passages[id] ?? [] == reference, "\(id) differs from \(ids[0]): \(passages[id] ?? []) vs \(reference)")
            }
        }
        #expect(try sql("SELECT COUNT(*) - COUNT(DISTINCT event_id) FROM event") == "0")
        let total = passages.values.map(\.count).reduce(0, +)
        print("sharded postgres test: \(total) events over 6 cameras (\(passages.mapValues(\.count))), node 1 killed after storing \(stored)")

        // Node 0's console lists node 2's events and health (node 2 has exited: its last beat says ended).
        let events = try await H.offPool {
            try H.runProcess("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/api/events?camera=cam-2&limit=500"], timeout: 30).stdout
        }
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(events.utf8)) as? [String: Any])["events"] as? [[String: Any]]
        #expect(listed?.count == passages["cam-2"]?.count, "\(events.prefix(2000))")
        let health = try await H.offPool {
            try H.runProcess("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/api/cameras"], timeout: 30).stdout
        }
        let byCamera = try Self.cameras(health)
        for id in ["cam-2", "cam-5"] {
            #expect(byCamera[id]?["node"] as? String == "shard-2-of-3", "\(health)")
            #expect(byCamera[id]?["status"] as? String == "ended", "\(health)")
        }
        #expect(byCamera["cam-1"]?["status"] as? String == "ended", "\(health)")
        #expect(byCamera["door"]?["node"] as? String == "shard-0-of-3", "\(health)")
        #expect(Set(byCamera.keys) == Set((0..<6).map { "cam-\($0)" } + ["door"]), "\(health)")

        kill(node0.processIdentifier, SIGTERM)
        try await H.offPool {
            let deadline = Date(timeIntervalSinceNow: 60)
            while node0.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(!node0.isRunning && node0.terminationStatus == 0, "\(log(0))")
    }

    /// `/api/cameras`' cameras by id.
    static func cameras(_ json: String) throws -> [String: [String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let list = object?["cameras"] as? [[String: Any]] ?? []
        return Dictionary(list.compactMap { c in (c["id"] as? String).map { ($0, c) } }, uniquingKeysWith: { a, _ in a })
    }
}
