import Foundation
import PlateCore
import PlateSinks

/// Track events for sink tests: realistic values, everything that matters chosen by the test.
enum Fixture {
    /// 2021-07-31T13:53:36.169692Z, the reference's example time.
    static let referenceDate = Date(timeIntervalSince1970: 1_627_739_616.169692)

    static func event(plate: String? = "HDB167A", camera: CameraID = "camera-1", track: Int = 1,
                      at timestamp: Date = referenceDate, sourceURL: String = "/user-data/video.mp4",
                      vehicle: Bool = true, direction: Int? = 345, position: Double = 11.14) -> TrackEvent {
        let box = BoundingBox(xmin: 49, ymin: 455, xmax: 116, ymax: 491)
        let consensus = plate.map { text in
            let read = PlateRead(text: text, score: 0.908, candidates: [PlateCandidate(text: text, score: 0.908),
                                                                        PlateCandidate(text: text + "X", score: 0.05)],
                                 region: RegionGuess(code: "us-pa", score: 0.079), detectionScore: 0.888, box: box)
            return PlateConsensus(text: read.text, score: 0.908, candidates: read.candidates, region: read.region,
                                  readCount: 5, bestRead: read)
        }
        let vehicleDetection = vehicle ? VehicleDetection(
            type: .car, score: 0.688, box: BoundingBox(xmin: 1, ymin: 171, xmax: 290, ymax: 548),
            color: [ScoredLabel("white", score: 0.887), ScoredLabel("silver", score: 0.027)],
            makeModel: [MakeModelGuess(make: "Chrysler", model: "200", score: 0.037)],
            orientation: [ScoredLabel("Front", score: 0.925)]) : nil
        return TrackEvent(
            trackID: TrackID(track), cameraID: camera, plate: consensus, vehicle: vehicleDetection,
            direction: direction, bestFrameIndex: 100 + track, bestFrameTime: MediaTime(seconds: position),
            timestamp: timestamp, imageSize: ImageSize(width: 640, height: 600),
            firstSeen: MediaTime(seconds: max(0, position - 1)), lastSeen: MediaTime(seconds: position + 1),
            frameCount: 12, reason: .trackEnded, sourceURL: sourceURL)
    }

    /// Events 1...count of one camera, one second apart, plates `P0001`, `P0002`, ...
    static func events(_ count: Int, camera: CameraID = "camera-1", start: Date = referenceDate) -> [TrackEvent] {
        (1...max(1, count)).prefix(count).map { index in
            event(plate: String(format: "P%04d", index), camera: camera, track: index,
                  at: start.addingTimeInterval(Double(index)))
        }
    }

    /// A UTC time from its parts.
    static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Double = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let whole = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
        return whole.addingTimeInterval(second)
    }

    static let utcFormat = EventJSONFormat(version: .v2, timeZone: TimeZone(identifier: "UTC")!)
}

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("platesinks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func read(_ name: String) throws -> String { try String(contentsOfFile: file(name), encoding: .utf8) }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Polls an async, throwing condition until it holds or the deadline passes. Generous by default:
/// the machines running these tests are shared and loaded; a passing test returns as soon as it holds.
func poll(timeout: Duration = .seconds(90), every interval: Duration = .milliseconds(20),
          _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: interval)
    }
}
