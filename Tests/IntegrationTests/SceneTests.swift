import Foundation
import Testing

private typealias H = DecodeHarness

/// `platestream run` end to end on the rendered traffic scenes in `Samples/scenes/` (`scripts/make-scenes`),
/// with the repository's own models, against the ground truth beside each video: one event per vehicle, the
/// right plate, the direction within 20°, `position_sec` while the plate was in the picture.
@Suite(.serialized) struct SceneTests {
    struct Truth: Decodable {
        struct Vehicle: Decodable {
            let id: Int
            let plate: String?
            let color: String
            let direction_deg: Double?
            let parked: Bool
            let enter_sec: Double
            let leave_sec: Double
            let plate_boxes: [[Double]]?
        }
        let width: Int
        let height: Int
        let fps: Double
        let vehicles: [Vehicle]
    }

    struct Event {
        let plate: String?
        let direction: Double?
        let position: Double
        let color: String?
    }

    static func truth(_ name: String) throws -> Truth {
        let url = H.repositoryRoot.appendingPathComponent("Samples/scenes/\(name).json")
        return try JSONDecoder().decode(Truth.self, from: Data(contentsOf: url))
    }

    static func events(_ video: String, _ extra: [String] = []) async throws -> [Event] {
        var stderr = ""
        return try await events(video, extra, stderr: &stderr)
    }

    static func events(_ video: String, _ extra: [String], stderr: inout String) async throws -> [Event] {
        let binary = try H.platestreamBinary()
        let path = H.repositoryRoot.appendingPathComponent("Samples/scenes/\(video)").path
        let models = H.repositoryRoot.appendingPathComponent("Models").path
        let r = try await H.offPool { try H.runProcess(binary, ["run", path, "--no-progress", "--models", models] + extra, timeout: 600) }
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        stderr = r.stderr
        return try r.stdout.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let result = try #require((object["results"] as? [[String: Any]])?.first)
            let plate = ((result["plate"] as? [String: Any])?["props"] as? [String: Any])?["plate"] as? [[String: Any]]
            let color = (((result["vehicle"] as? [String: Any])?["props"] as? [String: Any])?["color"] as? [[String: Any]])?.first
            return Event(plate: (plate?.first?["value"] as? String)?.uppercased(), direction: (result["direction"] as? NSNumber)?.doubleValue,
                         position: (result["position_sec"] as? NSNumber)?.doubleValue ?? -1, color: color?["value"] as? String)
        }
    }

    /// Seconds during which the whole plate box lies inside the picture, from the ground truth's sampled boxes.
    static func plateInPicture(_ v: Truth.Vehicle, _ t: Truth) -> ClosedRange<Double>? {
        let inside = (v.plate_boxes ?? []).filter { $0[1] > 0 && $0[2] > 0 && $0[3] < Double(t.width) && $0[4] < Double(t.height) }
        guard let first = inside.first?[0], let last = inside.last?[0] else { return nil }
        return (first / t.fps)...(last / t.fps)
    }

    static func angle(_ a: Double, _ b: Double) -> Double {
        let d = abs(a - b).truncatingRemainder(dividingBy: 360)
        return min(d, 360 - d)
    }

    /// Checks every plated vehicle's event; returns the events no plated vehicle claimed.
    static func checkPlated(_ events: [Event], _ truth: Truth, scene: String) -> [Event] {
        var unclaimed = events
        for v in truth.vehicles {
            guard let plate = v.plate else { continue }
            let mine = events.filter { $0.plate == plate }
            #expect(mine.count == 1, "\(scene) vehicle \(v.id) \(plate): \(mine.count) events; all: \(events.map { $0.plate ?? "-" })")
            guard let event = mine.first else { continue }
            unclaimed.removeAll { $0.plate == plate }
            if v.parked {
                #expect(event.direction == nil, "\(scene) parked vehicle \(v.id) got a direction")
            } else if let expected = v.direction_deg {
                let got = event.direction ?? .infinity
                #expect(angle(got, expected) <= 20, "\(scene) vehicle \(v.id): direction \(got), expected \(expected)")
            }
            if let window = plateInPicture(v, truth) {
                #expect(event.position >= window.lowerBound - 0.5 && event.position <= window.upperBound + 0.5,
                        "\(scene) vehicle \(v.id): position_sec \(event.position) outside \(window)")
            }
        }
        return unclaimed
    }

    @Test func streetGivesOneEventPerPlatedVehicle() async throws {
        let truth = try Self.truth("street")
        let events = try await Self.events("street.mp4")
        let extra = Self.checkPlated(events, truth, scene: "street")
        #expect(extra.isEmpty, "events for no vehicle: \(extra.map { "\($0.plate ?? "-") at \($0.position)" })")
        #expect(events.count == truth.vehicles.filter { $0.plate != nil }.count)
    }

    @Test func vehicleModeAlsoReportsTheCarWithoutAPlate() async throws {
        let truth = try Self.truth("street")
        let events = try await Self.events("street.mp4", ["--detection-mode", "vehicle"])
        let extra = Self.checkPlated(events, truth, scene: "street/vehicle")
        let unplated = truth.vehicles.filter { $0.plate == nil }
        #expect(extra.count == unplated.count, "events for no plated vehicle: \(extra.map { "\($0.plate ?? "-") at \($0.position)" })")
        for v in unplated {
            let match = extra.first { $0.plate == nil && $0.position >= v.enter_sec - 0.5 && $0.position <= v.leave_sec + 0.5 }
            let event = try #require(match, "no event for the vehicle without a plate (\(v.id))")
            if let expected = v.direction_deg {
                #expect(Self.angle(event.direction ?? .infinity, expected) <= 20, "direction \(String(describing: event.direction))")
            }
            #expect(event.color == v.color, "colour \(event.color ?? "-"), expected \(v.color)")
        }
        // Moving plated vehicles carry a vehicle colour too.
        for v in truth.vehicles where v.plate != nil && !v.parked {
            #expect(events.first { $0.plate == v.plate }?.color == v.color, "vehicle \(v.id) colour")
        }
    }

    /// Issue 17: vehicles moving in 8 directions, near and slow or far and fast (`directions.mp4`): each gets one
    /// event, its plate, and a direction within 20° of the truth (none null).
    @Test func everyDirectionOfTravelIsReported() async throws {
        let truth = try Self.truth("directions")
        let events = try await Self.events("directions.mp4")
        let extra = Self.checkPlated(events, truth, scene: "directions")
        #expect(extra.isEmpty, "events for no vehicle: \(extra.map { "\($0.plate ?? "-") at \($0.position)" })")
        #expect(Set(truth.vehicles.compactMap(\.direction_deg)).count == 8)
        #expect(events.allSatisfy { $0.direction != nil })
    }

    @Test func nightSceneIsReadToo() async throws {
        let truth = try Self.truth("night")
        let events = try await Self.events("night.mp4")
        let extra = Self.checkPlated(events, truth, scene: "night")
        #expect(extra.isEmpty, "events for no vehicle: \(extra.map { "\($0.plate ?? "-") at \($0.position)" })")
    }

    /// The motion gate (on by default) against no gate, on every scene: the same events (plates, count,
    /// direction within 10°, `position_sec` within one sampled frame), and on the mostly empty scene most frames
    /// are never recognized. Prints the share of sampled frames skipped per scene.
    @Test(arguments: ["street.mp4", "night.mp4", "rain.mp4", "quiet-1080.mp4", "directions.mp4"])
    func theMotionGateChangesNoEvent(video: String) async throws {
        let (gated, skipped, recognized) = try await Self.eventsAndSkips(video, ["--gating", "on"])
        let (ungated, none, _) = try await Self.eventsAndSkips(video, ["--gating", "off"])
        #expect(none == 0)
        print("gate: \(video): \(skipped) of \(skipped + recognized) sampled frames skipped")
        // 77 % of the mostly empty scene's frames show no vehicle; the gate must keep most of them from the models.
        if video.hasPrefix("quiet") { #expect(skipped * 2 >= skipped + recognized, "\(skipped) of \(skipped + recognized)") }
        #expect(gated.count == ungated.count, "\(video): \(gated.map { $0.plate ?? "-" }) vs \(ungated.map { $0.plate ?? "-" })")
        for event in ungated {
            let twin = try #require(gated.first { $0.plate == event.plate }, "\(video): no gated event for \(event.plate ?? "-")")
            #expect(abs(twin.position - event.position) <= 2.0 / 25 + 1e-6, "\(video) \(event.plate ?? "-"): position_sec")
            switch (twin.direction, event.direction) {
            case let (a?, b?): #expect(Self.angle(a, b) <= 10, "\(video) \(event.plate ?? "-"): direction \(a) vs \(b)")
            case (nil, nil): break
            default: Issue.record("\(video) \(event.plate ?? "-"): direction \(String(describing: twin.direction)) vs \(String(describing: event.direction))")
            }
        }
    }

    /// The events of `video`, and from the run's summary the frames the gate skipped and the frames recognized.
    static func eventsAndSkips(_ video: String, _ extra: [String]) async throws -> ([Event], Int, Int) {
        var summary = ""
        let events = try await events(video, extra, stderr: &summary)
        let line = try #require(summary.split(separator: "\n").first { $0.contains("skipped by the gate") }, "\(summary)")
        func number(after label: String) -> Int? {
            guard let range = line.range(of: label + " ") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        return (events, try #require(number(after: "skipped by the gate")), try #require(number(after: "recognized")))
    }

    /// Multi-frame voting against the best single frame, on the rain scene (rain streaks, noise, blur, drops over
    /// characters: single frames are often misread): every second frame is read on its own (`read`), the
    /// highest-scoring read on each vehicle's plate is its "best single frame"; `run` gives the vote.
    @Test func votingIsRightWhereSingleFramesAreNotInTheRain() async throws {
        let truth = try Self.truth("rain")
        let video = H.repositoryRoot.appendingPathComponent("Samples/scenes/rain.mp4")
        let dir = try H.temporaryDirectory("rain-frames")
        defer { try? FileManager.default.removeItem(at: dir) }
        try await H.offPool {
            try H.ffmpeg(["-i", video.path, "-vf", "select=not(mod(n\\,2))", "-vsync", "0", "-q:v", "2",
                          "-start_number", "0", dir.appendingPathComponent("f_%04d.jpg").path])
        }
        let frames = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".jpg") }.sorted()
        let binary = try H.platestreamBinary()
        let models = H.repositoryRoot.appendingPathComponent("Models").path
        let reads = try await H.offPool {
            try H.runProcess(binary, ["read"] + frames.map { dir.appendingPathComponent($0).path }
                             + ["--models", models, "--config", #"{"threshold_o":0}"#], timeout: 600)
        }
        #expect(reads.status == 0)
        // (frame index, plate box centre, text, score) of every read.
        var sightings: [(frame: Int, x: Double, y: Double, text: String, score: Double)] = []
        for line in reads.stdout.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let name = (object["filename"] as? String) ?? ""
            guard let n = Int(name.dropFirst(2).prefix(4)) else { continue }
            for result in (object["results"] as? [[String: Any]]) ?? [] {
                let box = result["box"] as? [String: Double] ?? [:]
                sightings.append((n * 2, ((box["xmin"] ?? 0) + (box["xmax"] ?? 0)) / 2, ((box["ymin"] ?? 0) + (box["ymax"] ?? 0)) / 2,
                                  ((result["plate"] as? String) ?? "").uppercased(), (result["score"] as? Double) ?? 0))
            }
        }
        let events = try await Self.events("rain.mp4")
        var singleRight = 0, votedRight = 0
        for v in truth.vehicles {
            guard let plate = v.plate, let boxes = v.plate_boxes, !boxes.isEmpty else { continue }
            let mine = sightings.filter { s in
                guard let b = boxes.min(by: { abs($0[0] - Double(s.frame)) < abs($1[0] - Double(s.frame)) }),
                      abs(b[0] - Double(s.frame)) <= 5 else { return false }
                return s.x >= b[1] && s.x <= b[3] && s.y >= b[2] && s.y <= b[4]
            }
            let best = mine.max { $0.score < $1.score }
            if best?.text == plate { singleRight += 1 }
            if events.contains(where: { $0.plate == plate }) { votedRight += 1 }
        }
        let plated = truth.vehicles.filter { $0.plate != nil }.count
        #expect(votedRight == plated, "voting read \(votedRight) of \(plated)")
        #expect(events.count == plated, "one event per vehicle: \(events.map { $0.plate ?? "-" })")
        // Never worse than the best single frame. (With the step-3372 reader the best single frame missed one of
        // the three plates; with the step-13999 reader it reads all three, so here the vote ties it.)
        #expect(votedRight >= singleRight, "voting \(votedRight), best single frame \(singleRight) of \(plated)")
    }
}
