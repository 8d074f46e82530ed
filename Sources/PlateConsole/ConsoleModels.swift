public import Foundation
public import PlateCore

/// One event as the console shows it (`/api/events`, the live stream): what an operator reads at a glance.
public struct ConsoleEvent: Sendable, Equatable {
    /// The stable event identifier (the event store's key; `/api/events/{id}/image` takes it).
    public var id: String
    /// The camera.
    public var cameraID: String
    /// Wall-clock time of the best frame.
    public var timestamp: Date
    /// Plate text, canonical; nil for a vehicle without a readable plate.
    public var plate: String?
    /// Reading confidence of the plate, 0...1.
    public var score: Double?
    /// Region code, e.g. `us-ca`.
    public var region: String?
    /// Direction of travel in degrees (0 = right, counter-clockwise, as Plate Recognizer's `direction`).
    public var direction: Int?
    /// Vehicle type (`Sedan`).
    public var vehicleType: String?
    /// Top vehicle colour.
    public var vehicleColor: String?
    /// The pictures stored with the event (`plate`, `vehicle`).
    public var images: [String]
    /// When the pipeline handed the event to the console (live events only), for the latency display.
    public var emittedAt: Date?

    /// An event.
    public init(id: String, cameraID: String, timestamp: Date, plate: String? = nil, score: Double? = nil,
                region: String? = nil, direction: Int? = nil, vehicleType: String? = nil, vehicleColor: String? = nil,
                images: [String] = [], emittedAt: Date? = nil) {
        self.id = id
        self.cameraID = cameraID
        self.timestamp = timestamp
        self.plate = plate
        self.score = score
        self.region = region
        self.direction = direction
        self.vehicleType = vehicleType
        self.vehicleColor = vehicleColor
        self.images = images
        self.emittedAt = emittedAt
    }

    /// The JSON object of the API, with `match` when the event is a search result.
    public func json(match: PlateSearchMatch? = nil) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(id)), ("camera_id", .string(cameraID)), ("timestamp", .string(ConsoleTime.format(timestamp))),
            ("plate", .string(plate)), ("score", score.map { JSONValue.number($0) } ?? .null), ("region", .string(region)),
            ("direction", direction.map { JSONValue.integer($0) } ?? .null), ("vehicle_type", .string(vehicleType)),
            ("vehicle_color", .string(vehicleColor)),
            ("images", .object(images.map { ($0, .string("/api/events/\(id)/image?kind=\($0)")) })),
        ]
        if let emittedAt { members.append(("emitted_at_ms", .number((emittedAt.timeIntervalSince1970 * 1000).rounded()))) }
        if let match { members.append(("match", .string(match.rawValue))) }
        return .object(members)
    }
}

/// How a search result's plate matched the query.
public enum PlateSearchMatch: String, Sendable {
    /// The same text.
    case exact
    /// The same once confusable characters are folded (O/0, I/1, ...).
    case folded
    /// One character off after folding (substituted, inserted or deleted).
    case oneEdit = "one_edit"

    /// How `plate` matches `query`; nil when it does not.
    public static func of(_ plate: String?, query: String) -> PlateSearchMatch? {
        guard let plate else { return nil }
        if PlateText.canonical(plate) == PlateText.canonical(query) { return .exact }
        let a = PlateText.folded(plate), b = PlateText.folded(query)
        if a == b { return .folded }
        return PlateText.editDistance(a, b) <= 1 ? .oneEdit : nil
    }
}

/// A console search: by plate (folded, one edit allowed), camera and time range, newest first.
public struct ConsoleSearch: Sendable, Equatable {
    /// The plate as typed; nil lists every event.
    public var plate: String?
    /// Only this camera.
    public var cameraID: String?
    /// Only events at or after this time.
    public var from: Date?
    /// Only events before this time.
    public var to: Date?
    /// At most this many (1...1000).
    public var limit: Int
    /// Skip this many (paging).
    public var offset: Int

    /// A search; by default the 50 newest events.
    public init(plate: String? = nil, cameraID: String? = nil, from: Date? = nil, to: Date? = nil, limit: Int = 50, offset: Int = 0) {
        self.plate = plate
        self.cameraID = cameraID
        self.from = from
        self.to = to
        self.limit = limit
        self.offset = offset
    }
}

/// Where the console finds stored events and their pictures (the CLI wires the SQLite event store in).
public protocol ConsoleEventSearch: Sendable {
    /// The events matching `search`, newest first.
    func events(matching search: ConsoleSearch) async throws -> [ConsoleEvent]
    /// The JPEG of one picture (`plate` or `vehicle`) of an event; nil when there is none.
    func image(eventID: String, kind: String) async throws -> Data?
}

/// One camera's health as the console shows it.
public struct ConsoleCamera: Sendable, Equatable {
    /// The camera.
    public var id: String
    /// `connected`, `reconnecting`, `starting`, `ended`, `failed`, or `stale` (its node's heartbeat stopped).
    public var status: String
    /// Frames decoded per second.
    public var inputFPS: Double
    /// Frames recognized per second.
    public var recognizedFPS: Double
    /// Seconds behind live of the latest recognized frame.
    public var lagSeconds: Double?
    /// Frames dropped unrecognized (recognition behind).
    public var dropped: Int
    /// Source reconnections.
    public var reconnects: Int
    /// Events emitted.
    public var events: Int
    /// The last source or recognition error.
    public var lastError: String?
    /// The node running the camera, when known (several nodes share one database).
    public var node: String?
    /// When its node last reported it (its heartbeat).
    public var updatedAt: Date?

    /// A camera's health.
    public init(id: String, status: String, inputFPS: Double, recognizedFPS: Double, lagSeconds: Double?, dropped: Int,
                reconnects: Int, events: Int, lastError: String?) {
        self.id = id
        self.status = status
        self.inputFPS = inputFPS
        self.recognizedFPS = recognizedFPS
        self.lagSeconds = lagSeconds
        self.dropped = dropped
        self.reconnects = reconnects
        self.events = events
        self.lastError = lastError
    }

    /// A camera as its node's heartbeat row gives it; a `stale` row (its node stopped reporting) shows as `stale`
    /// with no frame rates, unless the camera had ended.
    public init(heartbeat row: CameraHeartbeat, stale: Bool) {
        self.init(id: row.cameraID.rawValue, status: stale && row.status != "ended" ? "stale" : row.status,
                  inputFPS: stale ? 0 : row.inputFPS, recognizedFPS: stale ? 0 : row.recognizedFPS,
                  lagSeconds: row.lagSeconds, dropped: row.dropped, reconnects: row.reconnects, events: row.events,
                  lastError: row.lastError)
        node = row.node
        updatedAt = row.updatedAt
    }

    /// The JSON object of `/api/cameras`.
    public var json: JSONValue {
        func rounded(_ value: Double) -> JSONValue { .number((value * 100).rounded() / 100) }
        return .object([
            ("id", .string(id)), ("status", .string(status)), ("input_fps", rounded(inputFPS)),
            ("recognized_fps", rounded(recognizedFPS)), ("lag_seconds", lagSeconds.map(rounded) ?? .null),
            ("dropped", .integer(dropped)), ("reconnects", .integer(reconnects)), ("events", .integer(events)),
            ("last_error", .string(lastError)), ("node", .string(node)),
            ("updated_at", updatedAt.map { .string(ConsoleTime.format($0)) } ?? .null),
        ])
    }
}

/// Where the console reads the cameras' health (the CLI wires the pipeline in).
public protocol ConsoleCameraHealth: Sendable {
    /// Every camera, in configuration order.
    func cameras() -> [ConsoleCamera]
}

/// Times in the API: ISO 8601 UTC with milliseconds.
public enum ConsoleTime {
    /// `2026-12-06T23:40:12.345Z`.
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Parses ISO 8601 with or without fractional seconds, or a date `2026-12-06` (midnight UTC); nil otherwise.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        return try? Date.ISO8601FormatStyle().year().month().day().parse(text)
    }
}
