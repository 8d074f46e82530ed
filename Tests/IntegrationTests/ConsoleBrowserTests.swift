import Foundation
import Testing

private typealias H = DecodeHarness

/// Issue 14, part 1: the live console in a real browser. `platestream run --config` with an `http` section runs
/// over the street scene served by a real RTSP server (live: it plays in real time, and the camera reconnects
/// when it ends), and headless Chromium opens the console on it and checks what an operator would see.
@Suite(.serialized) struct ConsoleBrowserTests {
    struct Truth: Decodable {
        struct Vehicle: Decodable { let plate: String? }
        let vehicles: [Vehicle]
    }

    /// The plate one character off: its last character replaced by one that no folding maps it to.
    static func oneOff(_ plate: String) -> String {
        let last = plate.last!
        return String(plate.dropLast()) + (last == "X" ? "Y" : "X")
    }

    @Test func theConsoleShowsLiveEventsWithPicturesAndFindsPlates() async throws {
        let scenes = H.repositoryRoot.appendingPathComponent("Samples/scenes")
        let truth = try JSONDecoder().decode(Truth.self, from: Data(contentsOf: scenes.appendingPathComponent("street.json")))
        let truthPlates = Set(truth.vehicles.compactMap(\.plate))
        let rtsp = try await H.offPool { try H.startRTSPServer(file: scenes.appendingPathComponent("street.mp4")) }
        defer { rtsp.stop() }
        let dir = try H.temporaryDirectory("console")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try H.closedLoopbackPort()
        let config: [String: Any] = [
            "cameras": [["id": "street", "url": "rtsp://127.0.0.1:\(rtsp.port)/stream"]],
            // Each pass of the looping scene reports its plates again (the default 300 s would hold them back): on a
            // loaded machine the page may open only after the first pass's events, and it waits for live ones.
            "defaults": ["memory_decay": 2],
            "recognizer": ["models": H.repositoryRoot.appendingPathComponent("Models").path],
            "database": dir.appendingPathComponent("events.db").path,
            "http": ["port": port],
        ]
        let configURL = dir.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let stderr = dir.appendingPathComponent("stderr.txt")
        let run = try RunCommandTests.startRun(config: configURL, stderr: stderr)
        defer { if run.isRunning { kill(run.processIdentifier, SIGKILL) } }
        @Sendable func log() -> String { (try? String(contentsOf: stderr, encoding: .utf8)) ?? "" }
        try await H.offPool {
            let deadline = Date(timeIntervalSinceNow: 120)
            while !log().contains("listening on http://127.0.0.1:\(port)") {
                guard run.isRunning, Date() < deadline else { throw H.HarnessError("run did not start listening:\n\(log())") }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }

        // Blocking browser calls run off the cooperative pool; what they saw is checked here afterwards.
        let seen = try await H.offPool { try Self.drive(port: port, truthPlates: truthPlates) }
        #expect(!seen.pictures.isEmpty)
        #expect(seen.pictures.allSatisfy { $0 == "200 image/jpeg" }, "\(seen.pictures)")
        #expect(seen.imagesPerEvent.contains(2), "no event shows both the plate crop and the vehicle: \(seen.imagesPerEvent)")
        #expect(["connected", "reconnecting"].contains(seen.cameraStatus), "camera status \(seen.cameraStatus)")
        #expect(!seen.found.isEmpty && seen.found.values.allSatisfy { $0 > 0 }, "\(seen.found)")
        #expect(seen.found[Self.oneOff(seen.plate)] ?? 0 > 0, "one character off: \(seen.found)")
        let sorted = seen.latencies.sorted()
        // Printed, not asserted (no timed assertions): emission -> shown in the page, live events only.
        print("console browser test: plate \(seen.plate), search results per query \(seen.found); emission-to-display "
              + "latency ms: median \(Int(sorted[sorted.count / 2])), max \(Int(sorted.last!)), all \(sorted.map { Int($0) })")

        // SIGTERM with the page's event stream still open: the run still drains and exits cleanly.
        kill(run.processIdentifier, SIGTERM)
        try await H.offPool {
            let deadline = Date(timeIntervalSinceNow: 60)
            while run.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(!run.isRunning, "run did not exit after SIGTERM:\n\(log())")
        if !run.isRunning { #expect(run.terminationStatus == 0, "\(log())") }
    }

    /// What the browser saw.
    struct Seen: Sendable {
        var plate = ""
        var pictures: [String] = []
        var imagesPerEvent: [Int] = []
        var cameraStatus = ""
        var found: [String: Int] = [:]
        var latencies: [Double] = []
    }

    /// Opens the console and does what an operator would: watch live events, look at their pictures and the
    /// camera's health, search a plate of the scene as read, one character off, and with O for 0 and I for 1.
    static func drive(port: Int, truthPlates: Set<String>) throws -> Seen {
        let browser = try HeadlessChromium(url: "http://127.0.0.1:\(port)/")
        defer { browser.close() }
        var seen = Seen()
        _ = try browser.waitFor("the live stream to open", "document.getElementById('connection').textContent === 'live'")
        // Events that happen while the page is open (not replays) carry the latency.
        _ = try browser.waitFor("a live event with a plate of the scene", """
            window.consoleStats.latencies.length > 0 &&
              [...document.querySelectorAll('#live .event')].some(e => \(jsArray(truthPlates)).includes(e.dataset.plate))
            """, timeout: 120)
        // More live events make a better latency figure and screenshot; the scene has five plated vehicles.
        _ = try? browser.waitFor("three live events", "window.consoleStats.latencies.length >= 3", timeout: 30)
        let plates = try browser.evaluate("[...document.querySelectorAll('#live .event')].map(e => e.dataset.plate)") as? [String] ?? []
        guard let plate = plates.first(where: { truthPlates.contains($0) }) else { throw H.HarnessError("live plates: \(plates)") }
        seen.plate = plate

        // Every picture shown loads, and its URL answers 200 image/jpeg.
        _ = try browser.waitFor("the pictures to load", "[...document.querySelectorAll('#live img')].every(i => i.complete && i.naturalWidth > 0)")
        seen.pictures = try browser.evaluate("""
            Promise.all([...document.querySelectorAll('#live img')].map(i => fetch(i.src).then(r =>
              r.status + ' ' + r.headers.get('content-type'))))
            """) as? [String] ?? []
        seen.imagesPerEvent = try browser.evaluate(
            "[...document.querySelectorAll('#live .event')].map(e => e.querySelectorAll('img').length)") as? [Int] ?? []
        seen.cameraStatus = try browser.waitFor("the camera's health",
            "document.querySelector('.camera-card[data-camera=\"street\"] .status')?.textContent") as? String ?? ""

        let confusable = plate.replacingOccurrences(of: "0", with: "O").replacingOccurrences(of: "1", with: "I")
        for query in [plate, oneOff(plate), confusable] {
            _ = try browser.evaluate("search(\(jsString(query)))")
            let count = try? browser.waitFor("search \(query) to find \(plate)", """
                (() => { const n = [...document.querySelectorAll('#results .event')].filter(e => e.dataset.plate === \(jsString(plate))).length;
                         return document.getElementById('q').value === \(jsString(query)) && n > 0 ? n : false; })()
                """, timeout: 30) as? Int
            seen.found[query] = count ?? 0
        }
        seen.latencies = try browser.evaluate("window.consoleStats.latencies") as? [Double] ?? []
        if let path = ProcessInfo.processInfo.environment["PLATESTREAM_CONSOLE_SCREENSHOT"] {
            _ = try browser.evaluate("search(\(jsString(plate)))")
            Thread.sleep(forTimeInterval: 1)
            try browser.screenshot().write(to: URL(fileURLWithPath: path))
        }
        return seen
    }

    static func jsString(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [text]), as: UTF8.self).dropFirst().dropLast().description
    }

    static func jsArray(_ texts: Set<String>) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: texts.sorted()), as: UTF8.self)
    }
}
