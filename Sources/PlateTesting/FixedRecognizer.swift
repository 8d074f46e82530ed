public import Foundation
public import PlateCore

/// A `PlateRecognizer` that returns scripted results and records every call: for testing the
/// snapshot APIs and anything else that takes a recognizer, without models.
///
/// Why `@unchecked Sendable`: its mutable state is guarded by `lock`.
public final class FixedRecognizer: PlateRecognizer, @unchecked Sendable {
    /// One call the recognizer received.
    public struct Call: Sendable {
        /// Size of the image it was given.
        public var imageSize: ImageSize
        /// The options it was given.
        public var options: RecognitionOptions
    }

    /// A failure a scripted recognizer throws, standing in for a model that fails.
    public struct ScriptedFailure: Error, Equatable {
        /// Why, for messages.
        public var message: String

        /// A failure.
        public init(_ message: String = "scripted recognizer failure") { self.message = message }
    }

    private let script: @Sendable (Image, RecognitionOptions, Int) throws -> RecognitionResult
    private let lock = NSLock()
    private var recorded: [Call] = []
    private var running = 0
    private var mostRunning = 0
    private let delay: TimeInterval
    private let meeting: Int

    /// A recognizer whose result for the n-th call (from 0) is `script(image, options, n)`;
    /// `delay` seconds of sleep stand in for model time. With `meeting` above 1, calls hold (at most
    /// ten seconds) until that many have run at once: a test of a concurrency bound then sees the bound
    /// reached however slowly a loaded machine delivers the requests, not only when they happen to overlap.
    public init(delay: TimeInterval = 0, meeting: Int = 1,
                script: @escaping @Sendable (_ image: Image, _ options: RecognitionOptions, _ call: Int) throws -> RecognitionResult) {
        self.script = script
        self.delay = delay
        self.meeting = meeting
    }

    /// A recognizer that finds `plates` and `vehicles` in every image (the result's size is the image's).
    public convenience init(plates: [PlateRead], vehicles: [VehicleDetection] = [], delay: TimeInterval = 0, meeting: Int = 1,
                            detectMilliseconds: Double = 12.5, readMilliseconds: Double = 7.25) {
        self.init(delay: delay, meeting: meeting) { image, _, _ in
            RecognitionResult(imageSize: ImageSize(width: image.width, height: image.height), plates: plates, vehicles: vehicles,
                              detectMilliseconds: detectMilliseconds, readMilliseconds: readMilliseconds)
        }
    }

    /// A recognizer that fails every call, like a broken model.
    public static func failing(_ message: String = "scripted recognizer failure") -> FixedRecognizer {
        FixedRecognizer { _, _, _ in throw ScriptedFailure(message) }
    }

    /// Every call so far, in order.
    public var calls: [Call] { lock.withLock { recorded } }

    /// How many calls so far.
    public var callCount: Int { lock.withLock { recorded.count } }

    /// The most calls that ran at the same time.
    public var maxConcurrentCalls: Int { lock.withLock { mostRunning } }

    /// Records the call and returns the scripted result.
    public func recognize(_ image: Image, options: RecognitionOptions) throws -> RecognitionResult {
        let index = lock.withLock {
            recorded.append(Call(imageSize: ImageSize(width: image.width, height: image.height), options: options))
            running += 1
            mostRunning = max(mostRunning, running)
            return recorded.count - 1
        }
        defer { lock.withLock { running -= 1 } }
        let giveUp = Date().addingTimeInterval(10)
        while lock.withLock({ mostRunning < meeting }), Date() < giveUp { Thread.sleep(forTimeInterval: 0.005) }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        return try script(image, options, index)
    }

    /// A plate read for tests: text, scores and box, candidates derived from the text.
    public static func plate(_ text: String, score: Double = 0.904, detectionScore: Double = 0.99,
                             box: BoundingBox = BoundingBox(xmin: 143, ymin: 481, xmax: 282, ymax: 575),
                             region: RegionGuess? = RegionGuess(code: "gb", score: 0.747), matchesTemplate: Bool = true,
                             alternatives: [PlateCandidate] = [], corners: Quad? = nil, color: String? = nil) -> PlateRead {
        PlateRead(text: text, score: score, candidates: [PlateCandidate(text: text, score: score)] + alternatives, region: region,
                  matchesTemplate: matchesTemplate, detectionScore: detectionScore, box: box, corners: corners, color: color)
    }
}
