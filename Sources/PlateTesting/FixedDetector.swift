public import PlateCore
import Foundation

/// A `Detector` that finds the same objects in every image (or throws a given error), and counts calls.
public final class FixedDetector: Detector, @unchecked Sendable {
    // Why @unchecked: `detections`, `error` and `name` are immutable; `calls` is guarded by `lock`.

    /// The name given at init.
    public let name: String
    private let detections: [Detection]
    private let error: (any Error)?
    private let lock = NSLock()
    private var calls = 0

    /// A detector returning `detections` for every image, or throwing `error` when given.
    public init(name: String = "fixed", detections: [Detection] = [], error: (any Error)? = nil) {
        self.name = name
        self.detections = detections
        self.error = error
    }

    /// A detector that finds one `label` object in `box` with `score` in every image.
    public convenience init(label: String, box: BoundingBox, score: Double = 0.9, classIndex: Int = 0) {
        self.init(name: "fixed-\(label)", detections: [Detection(box: box, score: score, classIndex: classIndex, label: label)])
    }

    /// The fixed detections, or the error.
    public func detect(in image: Image) throws -> [Detection] {
        lock.withLock { calls += 1 }
        if let error { throw error }
        return detections
    }

    /// Calls to `detect` so far.
    public var callCount: Int { lock.withLock { calls } }
}
