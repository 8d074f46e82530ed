/// One detection model: finds objects (plates, vehicles) in an image.
///
/// Safe to call from any thread: an implementation whose model handle is not thread-safe
/// serialises calls on its own queue (STYLE rule 3).
public protocol Detector: AnyObject, Sendable {
    /// A short name for logs and metrics, e.g. `plate-yolo-640`.
    var name: String { get }
    /// The objects found in `image`, boxes in the image's pixels.
    /// Throws only when the model itself fails, never for "nothing found".
    func detect(in image: Image) throws -> [Detection]
}

/// Reads the text of a plate from a crop of the plate.
///
/// Safe to call from any thread, like a `Detector`.
public protocol PlateReader: AnyObject, Sendable {
    /// A short name for logs and metrics.
    var name: String { get }
    /// The top readings of the plate in `crop`, best first, at most `maxCandidates` of them.
    /// An empty list means nothing legible; throws only when the model itself fails.
    func read(_ crop: Image, maxCandidates: Int) throws -> [PlateCandidate]
}

/// Why a plate reading was rejected: a value, never an error (a rejected plate is normal).
///
/// A struct rather than an enum so that filters can add reasons without breaking callers.
public struct RejectionReason: Hashable, Sendable, CustomStringConvertible {
    /// A stable code for metrics, e.g. `no-template-match`.
    public let code: String
    /// Details for logs, e.g. which regions were tried.
    public let detail: String

    /// A reason with a code and details.
    public init(code: String, detail: String = "") {
        self.code = code
        self.detail = detail
    }

    /// Fewer characters than any pattern allows.
    public static let tooShort = RejectionReason(code: "too-short")
    /// More characters than any pattern allows.
    public static let tooLong = RejectionReason(code: "too-long")
    /// The text fits none of the configured regions' patterns (strict region mode).
    public static let noTemplateMatch = RejectionReason(code: "no-template-match")
    /// The reading's confidence is under the threshold.
    public static let lowConfidence = RejectionReason(code: "low-confidence")

    /// `code: detail`, or just the code.
    public var description: String { detail.isEmpty ? code : "\(code): \(detail)" }
}

/// What a plate filter decided about one reading.
public enum PlateVerdict: Hashable, Sendable {
    /// Keep it; `region` is the region whose pattern it matched, nil when it matched none
    /// (allowed outside strict mode, since foreign plates are still plates).
    case accepted(region: RegionGuess?)
    /// Drop it, and say why.
    case rejected(reason: RejectionReason)
}

/// Checks plate readings against region patterns (and thresholds).
public protocol PlateFilter: Sendable {
    /// The verdict on one reading.
    func evaluate(_ candidate: PlateCandidate) -> PlateVerdict
}

/// Turns one camera's observations into track events: a pure state machine, no I/O, no clock
/// (time is the observations' media time).
public protocol Tracker: Sendable {
    /// Takes the next frame's observation (frames in order, empty ones included) and says what happened.
    mutating func handle(_ observation: Observation) -> [TrackerOutput]
    /// The stream ended at `time`: reports every track not yet reported and ends them all.
    mutating func flush(at time: MediaTime) -> [TrackerOutput]
    /// Tracks alive now (reported or not): the pipeline never lets the motion gate skip a frame while one is.
    var activeTrackCount: Int { get }
}

/// Where events go: a file, a database, a webhook.
///
/// The pipeline calls a sink from one thread at a time, not always the same one (hence `Sendable`).
public protocol EventSink: AnyObject, Sendable {
    /// Hands over one event. Throws when the sink's infrastructure fails (disk full, database gone);
    /// a sink that retries by itself (a webhook outbox) queues and returns.
    func deliver(_ event: TrackEvent) throws
    /// Writes out what is buffered and releases resources; no `deliver` follows.
    func shutdown()
}

/// Finds vehicles in one camera's frames, in frame order, keeping state across frames (a background-
/// subtraction motion detector for fixed cameras). One per camera, never shared: the pipeline calls it from
/// the camera's tracker thread, one frame at a time, only with frames it recognized.
public protocol SequentialVehicleDetector: AnyObject {
    /// Updates the detector with `image` and returns the vehicles in it.
    func vehicles(in image: Image, at time: MediaTime) throws -> [VehicleDetection]
}
