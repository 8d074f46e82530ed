import Foundation
import PlateCore
@testable import PlateTracking

/// Builds synthetic observation sequences for one camera at a fixed frame rate.
struct Scenario {
    static let camera: CameraID = "camera-1"
    static let imageSize = ImageSize(width: 1920, height: 1080)
    static let epoch = Date(timeIntervalSince1970: 1_627_739_616)

    var fps = 10
    var configuration = TrackerConfiguration()
    /// Sightings per frame index.
    var plates: [Int: [PlateRead]] = [:]
    private(set) var vehicles: [Int: [VehicleDetection]] = [:]

    init(fps: Int = 10, configuration: TrackerConfiguration = TrackerConfiguration()) {
        self.fps = fps
        self.configuration = configuration
    }

    func time(ofFrame index: Int) -> MediaTime { MediaTime(value: Int64(index), timescale: Int64(fps)) }

    mutating func add(_ plate: PlateRead, atFrame index: Int) { plates[index, default: []].append(plate) }
    mutating func add(_ vehicle: VehicleDetection, atFrame index: Int) { vehicles[index, default: []].append(vehicle) }

    /// Removes every sighting in `frames` (the detector missed them).
    mutating func clear(frames: Range<Int>) {
        for index in frames {
            plates[index] = nil
            vehicles[index] = nil
        }
    }

    /// A plate moving in a straight line: `speed` pixels per second in `degrees` (0 = right,
    /// 90 = up), centred on `middle` halfway through `frames`. `text(i)` and `score(i)` vary per frame.
    mutating func crossing(frames: Range<Int>, middle: Point = Point(x: 960, y: 540), degrees: Double, speed: Double,
                           size: (width: Double, height: Double) = (120, 30),
                           text: (Int) -> String, score: (Int) -> Double = { _ in 0.9 },
                           vehicle: VehicleType? = nil) {
        let mid = Double(frames.lowerBound + frames.upperBound - 1) / 2
        let radians = degrees * .pi / 180
        for index in frames {
            let t = (Double(index) - mid) / Double(fps)
            let center = Point(x: middle.x + cos(radians) * speed * t, y: middle.y - sin(radians) * speed * t)
            let box = BoundingBox(center: center, width: size.width, height: size.height)
            add(PlateRead(text: text(index), score: score(index), detectionScore: 0.95, box: box), atFrame: index)
            if let vehicle {
                let vehicleBox = BoundingBox(center: Point(x: center.x, y: center.y - 80), width: 400, height: 300)
                add(VehicleDetection(type: vehicle, score: 0.8, box: vehicleBox,
                                     color: [ScoredLabel("white", score: 0.9)]), atFrame: index)
            }
        }
    }

    /// Runs frames `0..<frameCount` (empty frames included) through a new tracker, then flushes.
    /// Returns every output with the frame index it came out at (`frameCount` for the flush).
    func run(frameCount: Int) -> [(frame: Int, output: TrackerOutput)] {
        var tracker = PlateTracker(cameraID: Scenario.camera, sourceURL: "/user-data/video.mp4", configuration: configuration)
        var outputs: [(Int, TrackerOutput)] = []
        for index in 0..<frameCount {
            let observation = Observation(
                cameraID: Scenario.camera, frameIndex: index, mediaTime: time(ofFrame: index),
                wallClock: Scenario.epoch.addingTimeInterval(Double(index) / Double(fps)),
                imageSize: Scenario.imageSize, plates: plates[index] ?? [], vehicles: vehicles[index] ?? [])
            outputs += tracker.handle(observation).map { (index, $0) }
        }
        outputs += tracker.flush(at: time(ofFrame: frameCount)).map { (frameCount, $0) }
        return outputs
    }
}

extension Array where Element == (frame: Int, output: TrackerOutput) {
    /// The reported events, in order.
    var events: [TrackEvent] {
        compactMap { if case .event(let event) = $0.output { event } else { nil } }
    }

    /// The plates suppressed as duplicates.
    var suppressed: [String] {
        compactMap { if case .suppressed(_, let plate) = $0.output { plate } else { nil } }
    }

    /// The frame index at which the event of `track` came out.
    func frame(ofEventFor track: TrackID) -> Int? {
        first { if case .event(let event) = $0.output { event.trackID == track } else { false } }?.frame
    }
}

/// Smallest difference between two angles in degrees.
func angularDistance(_ a: Int, _ b: Double) -> Double {
    let d = abs(Double(a) - b).truncatingRemainder(dividingBy: 360)
    return min(d, 360 - d)
}

/// A small deterministic random generator (SplitMix64), so that "random" tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `truth` with the character at one random position replaced by a different random one.
func withOneWrongCharacter(_ truth: String, using rng: inout SeededGenerator) -> String {
    let alphabet = Array("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
    var characters = Array(truth)
    let position = Int.random(in: 0..<characters.count, using: &rng)
    var replacement = alphabet.randomElement(using: &rng)!
    while replacement == characters[position] { replacement = alphabet.randomElement(using: &rng)! }
    characters[position] = replacement
    return String(characters)
}
