public import Foundation

// The event store's model, shared by its backends (SQLite in PlateSinks, PostgreSQL in PlatePostgres) and by
// what reads it (the console, the snapshot API's events), so that neither backend imports the other.

/// Which events a query matches by plate.
public enum PlateMatch: Sendable, Hashable {
    /// The plate equals the text (compared canonically: `ab-123` finds `AB123`).
    case exact(String)
    /// The plate starts with the text.
    case prefix(String)
    /// The plate contains the text.
    case contains(String)
    /// The plate is at most `maxDistance` single-character edits (Levenshtein) from the text:
    /// what an operator types when the OCR may have misread a character or two.
    case fuzzy(String, maxDistance: Int)
    /// The plate folded (`PlateText.folded`: O/0, I/1, B/8 ...) equals the text folded, or is one edit
    /// (substitution, insertion, deletion) from it: the console's search. Answered from an index of the
    /// folded plates with the query's one-edit neighbours, so it stays fast on millions of events.
    case similar(String)
}

/// A query of the event store; every condition given must hold. Results come newest first.
public struct EventQuery: Sendable, Hashable {
    /// Only this camera.
    public var cameraID: CameraID?
    /// Only plates matching this.
    public var plate: PlateMatch?
    /// Only events at or after this time.
    public var from: Date?
    /// Only events before this time.
    public var to: Date?
    /// At most this many events (capped at `EventQuery.maxLimit`).
    public var limit: Int
    /// Skip this many (for paging).
    public var offset: Int

    /// The most events one query returns.
    public static let maxLimit = 10_000

    /// A query; by default the 100 newest events.
    public init(cameraID: CameraID? = nil, plate: PlateMatch? = nil, from: Date? = nil, to: Date? = nil,
                limit: Int = 100, offset: Int = 0) {
        self.cameraID = cameraID
        self.plate = plate
        self.from = from
        self.to = to
        self.limit = limit
        self.offset = offset
    }
}

/// One event as the store keeps it: the queryable fields, and the full Version-2 JSON.
public struct StoredEvent: Sendable, Hashable {
    /// The stable event identifier (`EventIdentifier`).
    public var id: String
    /// The camera.
    public var cameraID: CameraID
    /// The track number within the camera's run.
    public var trackID: TrackID
    /// Wall-clock time of the best frame, to the microsecond.
    public var timestamp: Date
    /// The plate text, canonical (upper case); nil for a vehicle without a plate.
    public var plate: String?
    /// Reading confidence of the plate.
    public var plateScore: Double?
    /// Detection confidence of the plate (`dscore`).
    public var detectionScore: Double?
    /// Region code, e.g. `us-ca`.
    public var region: String?
    /// Region confidence.
    public var regionScore: Double?
    /// Vehicle type as Plate Recognizer names it (`Sedan`).
    public var vehicleType: String?
    /// Vehicle detection confidence.
    public var vehicleScore: Double?
    /// Top vehicle colour.
    public var vehicleColor: String?
    /// Direction of travel in degrees.
    public var direction: Int?
    /// Seconds from the start of the media to the best frame.
    public var positionSeconds: Double
    /// The source, without credentials.
    public var sourceURL: String
    /// The saved frame's file name, if one was saved.
    public var filename: String?
    /// Why the tracker reported it then (`EmissionReason` raw value).
    public var reason: String
    /// The event's Version-2 JSON object, as the JSON Lines sink writes it.
    public var json: String

    /// A stored event as given (for `EventStore.insert`).
    public init(id: String, cameraID: CameraID, trackID: TrackID, timestamp: Date, plate: String?, plateScore: Double?,
                detectionScore: Double?, region: String?, regionScore: Double?, vehicleType: String?, vehicleScore: Double?,
                vehicleColor: String?, direction: Int?, positionSeconds: Double, sourceURL: String, filename: String?,
                reason: String, json: String) {
        self.id = id
        self.cameraID = cameraID
        self.trackID = trackID
        self.timestamp = timestamp
        self.plate = plate
        self.plateScore = plateScore
        self.detectionScore = detectionScore
        self.region = region
        self.regionScore = regionScore
        self.vehicleType = vehicleType
        self.vehicleScore = vehicleScore
        self.vehicleColor = vehicleColor
        self.direction = direction
        self.positionSeconds = positionSeconds
        self.sourceURL = sourceURL
        self.filename = filename
        self.reason = reason
        self.json = json
    }
}

/// One value an event-store backend binds for a column.
public enum EventColumnValue: Sendable, Hashable {
    /// Text, or NULL.
    case text(String?)
    /// A whole number, or NULL.
    case integer(Int64?)
    /// A real number, or NULL.
    case real(Double?)
}

extension StoredEvent {
    /// The `event` table's columns an insert fills, each with how it is read off an event, in one list that
    /// every backend binds from (SQLite's and PostgreSQL's inserts had each their own list of 19 values, in an
    /// order only a comment kept equal).
    public static let storedColumns: [(name: String, value: @Sendable (StoredEvent) -> EventColumnValue)] = [
        ("event_id", { .text($0.id) }),
        ("camera_id", { .text($0.cameraID.rawValue) }),
        ("track_id", { .integer(Int64($0.trackID.rawValue)) }),
        ("timestamp_us", { .integer(Int64(($0.timestamp.timeIntervalSince1970 * 1_000_000).rounded())) }),
        ("plate", { .text($0.plate) }),
        ("plate_folded", { .text($0.plate.map(PlateText.folded)) }),
        ("plate_score", { .real($0.plateScore) }),
        ("detection_score", { .real($0.detectionScore) }),
        ("region", { .text($0.region) }),
        ("region_score", { .real($0.regionScore) }),
        ("vehicle_type", { .text($0.vehicleType) }),
        ("vehicle_score", { .real($0.vehicleScore) }),
        ("vehicle_color", { .text($0.vehicleColor) }),
        ("direction", { .integer($0.direction.map(Int64.init)) }),
        ("position_sec", { .real($0.positionSeconds) }),
        ("source_url", { .text($0.sourceURL) }),
        ("filename", { .text($0.filename) }),
        ("reason", { .text($0.reason) }),
        ("json", { .text($0.json) }),
    ]
}

/// Which picture of an event the store keeps for the console.
public enum StoredImageKind: String, Sendable, CaseIterable {
    /// The plate cut out of the best frame.
    case plate
    /// The vehicle cut out of the best frame (the whole frame when the event has no vehicle box).
    case vehicle
}

