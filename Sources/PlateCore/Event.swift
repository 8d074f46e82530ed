public import Foundation

/// Identifies one track (one vehicle's passage) within one camera's tracker; numbers count up from 1.
public struct TrackID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The track number.
    public let rawValue: Int
    /// Wraps a track number.
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    /// Orders by number, i.e. by when the tracks started.
    public static func < (lhs: TrackID, rhs: TrackID) -> Bool { lhs.rawValue < rhs.rawValue }
    /// `#7`.
    public var description: String { "#\(rawValue)" }
}

/// The plate of a track: the text the reads along the track agree on, with the alternatives.
public struct PlateConsensus: Hashable, Sendable {
    /// The agreed text, canonical (upper case).
    public var text: String
    /// Confidence of the agreed text, 0...1.
    public var score: Double
    /// The agreed text first, then the strongest alternatives, each with its score.
    public var candidates: [PlateCandidate]
    /// The region most reads pointed to, if any.
    public var region: RegionGuess?
    /// The region an event reports: `region`, else `RegionGuess.unknown` (never none, as in Plate Recognizer).
    public var reportedRegion: RegionGuess { region ?? .unknown }
    /// How many reads the vote was taken over.
    public var readCount: Int
    /// The single best read of the track: its frame is the event's frame (`bestFrameIndex`).
    public var bestRead: PlateRead

    /// Creates a consensus.
    public init(text: String, score: Double, candidates: [PlateCandidate], region: RegionGuess?,
                readCount: Int, bestRead: PlateRead) {
        self.text = text
        self.score = score
        self.candidates = candidates
        self.region = region
        self.readCount = readCount
        self.bestRead = bestRead
    }
}

/// Why the tracker reported an event when it did.
public enum EmissionReason: String, Hashable, Sendable {
    /// The track lasted `max_prediction_delay` seconds; it goes on but is not reported again.
    case maxPredictionDelay
    /// The track was not seen for long enough and ended.
    case trackEnded
    /// The stream ended (`flush(at:)`).
    case endOfStream
}

/// One vehicle's passage, as reported to sinks and the HTTP API.
public struct TrackEvent: Hashable, Sendable {
    /// The track this event reports.
    public var trackID: TrackID
    /// The camera.
    public var cameraID: CameraID
    /// The plate; nil for a vehicle without a readable plate (`detection_mode = vehicle`).
    public var plate: PlateConsensus?
    /// The vehicle: type and properties voted over the track, box from the best frame
    /// (or the frame nearest to it that had a vehicle); nil when no vehicle was detected.
    public var vehicle: VehicleDetection?
    /// Direction of motion in the image in degrees, counter-clockwise from "moving right"
    /// (90 = up the image), 0...359; nil when the track did not move enough to tell.
    public var direction: Int?
    /// Index of the best frame: the frame whose image goes with the event.
    public var bestFrameIndex: Int
    /// Media time of the best frame.
    public var bestFrameTime: MediaTime
    /// Wall-clock time of the best frame (Plate Recognizer's `timestamp`).
    public var timestamp: Date
    /// Size of the frames the boxes refer to.
    public var imageSize: ImageSize
    /// Media time the track was first seen.
    public var firstSeen: MediaTime
    /// Media time the track was last seen before the event was made.
    public var lastSeen: MediaTime
    /// Frames in which the track was seen before the event was made.
    public var frameCount: Int
    /// Why the event was reported when it was.
    public var reason: EmissionReason
    /// The source, without credentials (see `SourceURL.withoutCredentials`).
    public var sourceURL: String

    /// Creates an event.
    public init(trackID: TrackID, cameraID: CameraID, plate: PlateConsensus?, vehicle: VehicleDetection?,
                direction: Int?, bestFrameIndex: Int, bestFrameTime: MediaTime, timestamp: Date,
                imageSize: ImageSize, firstSeen: MediaTime, lastSeen: MediaTime, frameCount: Int,
                reason: EmissionReason, sourceURL: String) {
        self.trackID = trackID
        self.cameraID = cameraID
        self.plate = plate
        self.vehicle = vehicle
        self.direction = direction
        self.bestFrameIndex = bestFrameIndex
        self.bestFrameTime = bestFrameTime
        self.timestamp = timestamp
        self.imageSize = imageSize
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.frameCount = frameCount
        self.reason = reason
        self.sourceURL = sourceURL
    }

    /// Seconds from the start of the media to the best frame (Plate Recognizer's `position_sec`).
    public var positionSeconds: Double { bestFrameTime.seconds }

    /// Box of the best plate read, in the best frame; nil without a plate.
    public var plateBox: BoundingBox? { plate?.bestRead.box }
}

/// What a tracker tells the pipeline after each observation.
public enum TrackerOutput: Hashable, Sendable {
    /// A track started; its first frame is its best frame so far (keep that frame's image).
    case started(TrackID, frameIndex: Int)
    /// A track's best frame is now this one; the image of its previous best frame can go.
    /// Only for tracks not reported yet: after its event, a track's images are no longer needed.
    case bestFrameChanged(TrackID, frameIndex: Int)
    /// Report this event.
    case event(TrackEvent)
    /// The track's plate was reported less than `memory_decay` seconds ago: not reported again.
    case suppressed(TrackID, plate: String)
    /// The track is over; nothing about it will follow, and its retained image can go.
    case ended(TrackID)
}
