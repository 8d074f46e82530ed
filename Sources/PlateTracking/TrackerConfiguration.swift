/// How the tracker associates detections and when it reports. The first four are Plate Recognizer
/// Stream's settings of the same names, with its defaults; the rest are this tracker's own.
public struct TrackerConfiguration: Hashable, Sendable {
    /// What a track must contain to be reported (Stream's `detection_mode`).
    public enum DetectionMode: String, Hashable, Sendable {
        /// Only tracks with a plate read are reported; vehicles without one only keep tracks alive.
        case plate
        /// Vehicles without a readable plate are tracked and reported too (with `plate` null).
        case vehicle
    }

    /// `detection_mode`.
    public var detectionMode: DetectionMode = .plate

    /// `max_prediction_delay`, seconds: a track is reported at the latest this long after it was
    /// first seen, even while it is still in view (a parked car). It is never reported twice.
    public var maxPredictionDelay: Double = 6

    /// `memory_decay`, seconds: a plate reported on this camera is not reported again for this
    /// long, counted from the report (later sightings do not extend it). Texts within
    /// `duplicateEditDistance` of each other count as the same plate.
    public var memoryDecay: Double = 300

    /// `merge_buffer`, seconds (0 = off). Plate Recognizer documents it only as compensating for
    /// "road bumps and other vibrations" on cameras inside moving vehicles; our reading: a track that
    /// disappears is kept open at least this long, and while it is, a read of the same plate
    /// (same text within two edits) anywhere in the image joins it instead of starting a new track,
    /// because a shaking camera makes positions and motion useless for association.
    public var mergeBuffer: Double = 0

    /// Seconds a track may go unseen before it ends.
    public var lostTimeout: Double = 1.5

    /// Observations in a row a track may be missing from before it ends (whichever of this and
    /// `lostTimeout` comes first).
    public var maxMissedFrames: Int = 10

    /// Overlap (IoU) with a track's predicted box that is enough to associate a detection with it.
    public var minimumIoU: Double = 0.1

    /// Distance from a track's predicted centre, in box diagonals, within which a detection may be
    /// associated with it even without overlap (small, fast plates).
    public var maxCenterJump: Double = 1.5

    /// Distance, as a fraction of the image diagonal, within which a read of (nearly) the same text
    /// joins a track although the boxes are far apart: a fast mover seen in only two frames has no
    /// velocity to predict with yet.
    public var textLinkRadius: Double = 0.35

    /// Edit distance within which two plate texts count as the same plate for `memoryDecay`.
    public var duplicateEditDistance: Int = 1

    /// How far, in box diagonals, a track must move before it gets a `direction`.
    public var minimumDisplacement: Double = 0.5

    /// Observations a track without any plate read needs before it is reported (`detection_mode: vehicle`);
    /// such a track made only of unclassified blobs (a motion detector's `unknown` vehicles) must also have
    /// moved (see `minimumDisplacement`): a flicker or a fading background ghost is no vehicle.
    public var minimumVehicleFrames: Int = 3

    /// How many plate candidates an event carries (the consensus first).
    public var maxCandidates: Int = 5

    /// Stream's defaults, with any of Stream's own settings changed.
    public init(detectionMode: DetectionMode = .plate, maxPredictionDelay: Double = 6,
                memoryDecay: Double = 300, mergeBuffer: Double = 0) {
        self.detectionMode = detectionMode
        self.maxPredictionDelay = maxPredictionDelay
        self.memoryDecay = memoryDecay
        self.mergeBuffer = mergeBuffer
    }
}
