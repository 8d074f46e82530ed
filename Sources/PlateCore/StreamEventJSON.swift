public import Foundation

/// Pieces shared by the Plate Recognizer JSON shapes, and the helpers that format values like it does.
public enum PlateRecognizerJSON {
    /// A `box` object: corners in whole pixels.
    public struct Box: Codable, Hashable, Sendable {
        /// Left edge.
        public var xmin: Int
        /// Top edge.
        public var ymin: Int
        /// Right edge.
        public var xmax: Int
        /// Bottom edge.
        public var ymax: Int

        /// A box from its corners.
        public init(xmin: Int, ymin: Int, xmax: Int, ymax: Int) {
            self.xmin = xmin
            self.ymin = ymin
            self.xmax = xmax
            self.ymax = ymax
        }

        /// A box rounded to whole pixels.
        public init(_ box: BoundingBox) {
            self.init(xmin: Int(box.xmin.rounded()), ymin: Int(box.ymin.rounded()),
                      xmax: Int(box.xmax.rounded()), ymax: Int(box.ymax.rounded()))
        }

        /// The ordered object: `xmin`, `ymin`, `xmax`, `ymax`.
        public var jsonValue: JSONValue {
            .object([("xmin", .integer(xmin)), ("ymin", .integer(ymin)), ("xmax", .integer(xmax)), ("ymax", .integer(ymax))])
        }
    }

    /// A `make_model` entry: `make`, `model`, `score`.
    public struct MakeModel: Codable, Hashable, Sendable {
        /// Manufacturer.
        public var make: String
        /// Model.
        public var model: String
        /// Confidence.
        public var score: Double

        /// A make-and-model entry.
        public init(make: String, model: String, score: Double) {
            self.make = make
            self.model = model
            self.score = score
        }

        /// The ordered object.
        public var jsonValue: JSONValue {
            .object([("make", .string(make)), ("model", .string(model)), ("score", .number(score))])
        }
    }

    /// A number rounded to 3 decimals, as Plate Recognizer prints scores and `position_sec`.
    public static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    /// `2021-07-31T13:53:36.169692Z`: UTC, microseconds, `T` and `Z` (the `timestamp` field).
    public static func utcTimestamp(_ date: Date) -> String {
        let (seconds, micros) = splitMicroseconds(date)
        return civil(seconds) + "T" + clock(seconds) + "." + pad(micros, 6) + "Z"
    }

    /// `2021-07-31 09:53:36.169692-04:00`: local time of `timeZone`, microseconds, a space,
    /// and the UTC offset with a colon (the `timestamp_local` field).
    public static func localTimestamp(_ date: Date, timeZone: TimeZone) -> String {
        let (seconds, micros) = splitMicroseconds(date)
        let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
        let local = seconds + Int64(offset)
        let sign = offset < 0 ? "-" : "+"
        let hours = abs(offset) / 3600, minutes = abs(offset) % 3600 / 60
        return civil(local) + " " + clock(local) + "." + pad(micros, 6) + sign + pad(Int64(hours), 2) + ":" + pad(Int64(minutes), 2)
    }

    /// Whole seconds since 1970 (floored) and the microseconds past them (0...999_999).
    private static func splitMicroseconds(_ date: Date) -> (Int64, Int64) {
        // Round to the microsecond first: a Date near 2021 carries ~0.2 µs of binary noise.
        let total = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = total / 1_000_000, micros = total % 1_000_000
        if micros < 0 { micros += 1_000_000; seconds -= 1 }
        return (seconds, micros)
    }

    /// `YYYY-MM-DD` of a count of seconds since 1970 (proleptic Gregorian, Hinnant's civil_from_days).
    private static func civil(_ seconds: Int64) -> String {
        var days = seconds / 86_400
        if seconds % 86_400 < 0 { days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    }

    /// `HH:MM:SS` of a count of seconds since 1970.
    private static func clock(_ seconds: Int64) -> String {
        var second = seconds % 86_400
        if second < 0 { second += 86_400 }
        return pad(second / 3600, 2) + ":" + pad(second % 3600 / 60, 2) + ":" + pad(second % 60, 2)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// A Stream event in Plate Recognizer's "Version 2" JSON (the "Vehicle Without Plates" shape):
/// each result holds an optional `plate` and an optional `vehicle`.
///
/// A `Codable` mirror of the documented shape, field for field. Decode with `JSONDecoder`; encode
/// with `jsonValue.serialized()`, which keeps the documented key order (`JSONEncoder` would not).
public struct StreamEventV2: Codable, Hashable, Sendable {
    /// `camera_id`.
    public var cameraID: String
    /// `filename`: the saved image of the event's frame, when one is saved.
    public var filename: String?
    /// `timestamp`: UTC, microseconds (`2021-07-31T13:53:36.169692Z`).
    public var timestamp: String
    /// `timestamp_local`: the camera's time zone, with offset (`2021-07-31 09:53:36.169692-04:00`).
    public var timestampLocal: String
    /// `results`: one per event.
    public var results: [Item]

    private enum CodingKeys: String, CodingKey {
        case cameraID = "camera_id", filename, timestamp, timestampLocal = "timestamp_local", results
    }

    /// One entry of `results`.
    public struct Item: Codable, Hashable, Sendable {
        /// `plate`; nil (JSON `null`) for a vehicle without a readable plate.
        public var plate: Plate?
        /// `vehicle`; nil (JSON `null`) when no vehicle was detected around the plate.
        public var vehicle: Vehicle?
        /// `direction` in degrees (0 = moving right, counter-clockwise); nil when unknown.
        public var direction: Int?
        /// `source_url`.
        public var sourceURL: String
        /// `position_sec`: seconds from the start of the media to the event's frame.
        public var positionSec: Double

        private enum CodingKeys: String, CodingKey {
            case plate, vehicle, direction, sourceURL = "source_url", positionSec = "position_sec"
        }

        /// Creates an item.
        public init(plate: Plate?, vehicle: Vehicle?, direction: Int?, sourceURL: String, positionSec: Double) {
            self.plate = plate
            self.vehicle = vehicle
            self.direction = direction
            self.sourceURL = sourceURL
            self.positionSec = positionSec
        }

        /// Writes absent values as explicit `null`s, as the documented shape has them
        /// (the synthesized encoder would leave the keys out).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(plate, forKey: .plate)
            try container.encode(vehicle, forKey: .vehicle)
            try container.encode(direction, forKey: .direction)
            try container.encode(sourceURL, forKey: .sourceURL)
            try container.encode(positionSec, forKey: .positionSec)
        }

        /// The ordered object.
        public var jsonValue: JSONValue {
            .object([
                ("plate", plate?.jsonValue ?? .null),
                ("vehicle", vehicle?.jsonValue ?? .null),
                ("direction", direction.map { .integer($0) } ?? .null),
                ("source_url", .string(sourceURL)),
                ("position_sec", .number(positionSec)),
            ])
        }
    }

    /// A `{value, score}` entry of a `props` list.
    public struct ScoredValue: Codable, Hashable, Sendable {
        /// The value (plate text in lower case, region code, colour, orientation).
        public var value: String
        /// Confidence.
        public var score: Double

        /// An entry.
        public init(value: String, score: Double) {
            self.value = value
            self.score = score
        }

        /// The ordered object.
        public var jsonValue: JSONValue { .object([("value", .string(value)), ("score", .number(score))]) }
    }

    /// The `plate` object.
    public struct Plate: Codable, Hashable, Sendable {
        /// `type`, e.g. `Plate`.
        public var type: String
        /// `score`: confidence of the plate detection.
        public var score: Double
        /// `box`: the plate in the event's frame.
        public var box: PlateRecognizerJSON.Box
        /// `props`.
        public var props: PlateProps

        /// Creates a plate object.
        public init(type: String, score: Double, box: PlateRecognizerJSON.Box, props: PlateProps) {
            self.type = type
            self.score = score
            self.box = box
            self.props = props
        }

        /// The ordered object.
        public var jsonValue: JSONValue {
            .object([("type", .string(type)), ("score", .number(score)), ("box", box.jsonValue), ("props", props.jsonValue)])
        }
    }

    /// `plate.props`.
    public struct PlateProps: Codable, Hashable, Sendable {
        /// `plate`: readings, the top prediction first.
        public var plate: [ScoredValue]
        /// `region`: region guesses, best first.
        public var region: [ScoredValue]

        /// Creates plate properties.
        public init(plate: [ScoredValue], region: [ScoredValue]) {
            self.plate = plate
            self.region = region
        }

        /// The ordered object.
        public var jsonValue: JSONValue {
            .object([("plate", .array(plate.map(\.jsonValue))), ("region", .array(region.map(\.jsonValue)))])
        }
    }

    /// The `vehicle` object.
    public struct Vehicle: Codable, Hashable, Sendable {
        /// `type`, e.g. `Sedan`.
        public var type: String
        /// `score`: confidence of the vehicle detection.
        public var score: Double
        /// `box`: the vehicle in the event's frame.
        public var box: PlateRecognizerJSON.Box
        /// `props`.
        public var props: VehicleProps

        /// Creates a vehicle object.
        public init(type: String, score: Double, box: PlateRecognizerJSON.Box, props: VehicleProps) {
            self.type = type
            self.score = score
            self.box = box
            self.props = props
        }

        /// The ordered object.
        public var jsonValue: JSONValue {
            .object([("type", .string(type)), ("score", .number(score)), ("box", box.jsonValue), ("props", props.jsonValue)])
        }
    }

    /// `vehicle.props`: each list holds at most the top 3 predictions and is empty when not estimated.
    public struct VehicleProps: Codable, Hashable, Sendable {
        /// `make_model`.
        public var makeModel: [PlateRecognizerJSON.MakeModel]
        /// `orientation`.
        public var orientation: [ScoredValue]
        /// `color`.
        public var color: [ScoredValue]

        private enum CodingKeys: String, CodingKey {
            case makeModel = "make_model", orientation, color
        }

        /// Creates vehicle properties.
        public init(makeModel: [PlateRecognizerJSON.MakeModel], orientation: [ScoredValue], color: [ScoredValue]) {
            self.makeModel = makeModel
            self.orientation = orientation
            self.color = color
        }

        /// The ordered object.
        public var jsonValue: JSONValue {
            .object([
                ("make_model", .array(makeModel.map(\.jsonValue))),
                ("orientation", .array(orientation.map(\.jsonValue))),
                ("color", .array(color.map(\.jsonValue))),
            ])
        }
    }

    /// Creates an event from its fields.
    public init(cameraID: String, filename: String?, timestamp: String, timestampLocal: String, results: [Item]) {
        self.cameraID = cameraID
        self.filename = filename
        self.timestamp = timestamp
        self.timestampLocal = timestampLocal
        self.results = results
    }

    /// The JSON of a track event. `filename` is the saved image, if any; `timeZone` is the camera's,
    /// for `timestamp_local`. Plate text is written in lower case and scores to 3 decimals, as the reference does.
    public init(event: TrackEvent, filename: String?, timeZone: TimeZone) {
        let rounded = PlateRecognizerJSON.rounded
        let plate = event.plate.map { consensus in
            Plate(
                type: consensus.bestRead.plateType ?? "Plate",
                score: rounded(consensus.bestRead.detectionScore),
                box: PlateRecognizerJSON.Box(consensus.bestRead.box),
                props: PlateProps(
                    plate: consensus.candidates.map { ScoredValue(value: $0.text.lowercased(), score: rounded($0.score)) },
                    region: [ScoredValue(value: consensus.reportedRegion.code, score: rounded(consensus.reportedRegion.score))]))
        }
        let vehicle = event.vehicle.map { vehicle in
            Vehicle(
                type: vehicle.type.plateRecognizerName,
                score: rounded(vehicle.score),
                box: PlateRecognizerJSON.Box(vehicle.box),
                props: VehicleProps(
                    makeModel: vehicle.makeModel.prefix(3).map {
                        PlateRecognizerJSON.MakeModel(make: $0.make, model: $0.model, score: rounded($0.score))
                    },
                    orientation: vehicle.orientation.prefix(3).map { ScoredValue(value: $0.label, score: rounded($0.score)) },
                    color: vehicle.color.prefix(3).map { ScoredValue(value: $0.label, score: rounded($0.score)) }))
        }
        self.init(
            cameraID: event.cameraID.rawValue,
            filename: filename,
            timestamp: PlateRecognizerJSON.utcTimestamp(event.timestamp),
            timestampLocal: PlateRecognizerJSON.localTimestamp(event.timestamp, timeZone: timeZone),
            results: [Item(plate: plate, vehicle: vehicle, direction: event.direction,
                           sourceURL: event.sourceURL, positionSec: rounded(event.positionSeconds))])
    }

    /// Writes a nil `filename` as an explicit `null`, like the ordered writer.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cameraID, forKey: .cameraID)
        try container.encode(filename, forKey: .filename)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encode(timestampLocal, forKey: .timestampLocal)
        try container.encode(results, forKey: .results)
    }

    /// The ordered object: `camera_id`, `filename`, `timestamp`, `timestamp_local`, `results`.
    public var jsonValue: JSONValue {
        .object([
            ("camera_id", .string(cameraID)),
            ("filename", .string(filename)),
            ("timestamp", .string(timestamp)),
            ("timestamp_local", .string(timestampLocal)),
            ("results", .array(results.map(\.jsonValue))),
        ])
    }
}

/// A Stream event in Plate Recognizer's "Version 1" (flat) JSON: each result is shaped like a
/// snapshot API result (`box`, `plate`, `region`, `vehicle`, `score`, `candidates`, `dscore`, and the
/// MMC lists when estimated) followed by Stream's `direction`, `source_url`, `position_sec`; the
/// envelope is the same as Version 2's.
///
/// Version 1 cannot express a vehicle without a plate, so `init?(event:...)` is nil for one.
public struct StreamEventV1: Codable, Hashable, Sendable {
    /// `camera_id`.
    public var cameraID: String
    /// `filename`.
    public var filename: String?
    /// `timestamp` (UTC).
    public var timestamp: String
    /// `timestamp_local`.
    public var timestampLocal: String
    /// `results`.
    public var results: [Item]

    private enum CodingKeys: String, CodingKey {
        case cameraID = "camera_id", filename, timestamp, timestampLocal = "timestamp_local", results
    }

    /// `region`: `{code, score}`.
    public struct Region: Codable, Hashable, Sendable {
        /// Region code, e.g. `gb`.
        public var code: String
        /// Confidence.
        public var score: Double

        /// A region.
        public init(code: String, score: Double) {
            self.code = code
            self.score = score
        }

        /// The ordered object.
        public var jsonValue: JSONValue { .object([("code", .string(code)), ("score", .number(score))]) }
    }

    /// `vehicle`: `{score, type, box}`.
    public struct Vehicle: Codable, Hashable, Sendable {
        /// Confidence.
        public var score: Double
        /// Type, e.g. `Sedan`.
        public var type: String
        /// The vehicle.
        public var box: PlateRecognizerJSON.Box

        /// A vehicle.
        public init(score: Double, type: String, box: PlateRecognizerJSON.Box) {
            self.score = score
            self.type = type
            self.box = box
        }

        /// What the flat shape holds when no vehicle was found: type `Unknown`, score 0, an empty box
        /// (the flat shape has no way to say "no vehicle", and its consumers expect the object).
        public static let none = Vehicle(score: 0, type: "Unknown", box: PlateRecognizerJSON.Box(xmin: 0, ymin: 0, xmax: 0, ymax: 0))

        /// The ordered object.
        public var jsonValue: JSONValue {
            .object([("score", .number(score)), ("type", .string(type)), ("box", box.jsonValue)])
        }
    }

    /// A `candidates` entry: `{score, plate}`.
    public struct Candidate: Codable, Hashable, Sendable {
        /// Confidence.
        public var score: Double
        /// Plate text, lower case.
        public var plate: String

        /// A candidate.
        public init(score: Double, plate: String) {
            self.score = score
            self.plate = plate
        }

        /// The ordered object.
        public var jsonValue: JSONValue { .object([("score", .number(score)), ("plate", .string(plate))]) }
    }

    /// A `color` entry: `{color, score}`.
    public struct Color: Codable, Hashable, Sendable {
        /// Colour name.
        public var color: String
        /// Confidence.
        public var score: Double

        /// A colour entry.
        public init(color: String, score: Double) {
            self.color = color
            self.score = score
        }

        /// The ordered object.
        public var jsonValue: JSONValue { .object([("color", .string(color)), ("score", .number(score))]) }
    }

    /// An `orientation` entry: `{orientation, score}`.
    public struct Orientation: Codable, Hashable, Sendable {
        /// `Front`, `Rear` or `Unknown`.
        public var orientation: String
        /// Confidence.
        public var score: Double

        /// An orientation entry.
        public init(orientation: String, score: Double) {
            self.orientation = orientation
            self.score = score
        }

        /// The ordered object.
        public var jsonValue: JSONValue { .object([("orientation", .string(orientation)), ("score", .number(score))]) }
    }

    /// One entry of `results`.
    public struct Item: Codable, Hashable, Sendable {
        /// `box`: the plate.
        public var box: PlateRecognizerJSON.Box
        /// `plate`: text, lower case.
        public var plate: String
        /// `region`; always written from a track event (`RegionGuess.unknown` when no read guessed one); nil (`null`)
        /// only in a decoded document that had none.
        public var region: Region?
        /// `vehicle`.
        public var vehicle: Vehicle
        /// `score`: reading confidence.
        public var score: Double
        /// `candidates`, the top prediction first.
        public var candidates: [Candidate]
        /// `dscore`: detection confidence.
        public var dscore: Double
        /// `model_make`; nil (key left out) when not estimated.
        public var modelMake: [PlateRecognizerJSON.MakeModel]?
        /// `color`; nil (key left out) when not estimated.
        public var color: [Color]?
        /// `orientation`; nil (key left out) when not estimated.
        public var orientation: [Orientation]?
        /// `direction` in degrees; nil (`null`) when unknown.
        public var direction: Int?
        /// `source_url`.
        public var sourceURL: String
        /// `position_sec`.
        public var positionSec: Double

        private enum CodingKeys: String, CodingKey {
            case box, plate, region, vehicle, score, candidates, dscore
            case modelMake = "model_make", color, orientation, direction
            case sourceURL = "source_url", positionSec = "position_sec"
        }

        /// Creates an item.
        public init(box: PlateRecognizerJSON.Box, plate: String, region: Region?, vehicle: Vehicle, score: Double,
                    candidates: [Candidate], dscore: Double, modelMake: [PlateRecognizerJSON.MakeModel]?,
                    color: [Color]?, orientation: [Orientation]?, direction: Int?, sourceURL: String, positionSec: Double) {
            self.box = box
            self.plate = plate
            self.region = region
            self.vehicle = vehicle
            self.score = score
            self.candidates = candidates
            self.dscore = dscore
            self.modelMake = modelMake
            self.color = color
            self.orientation = orientation
            self.direction = direction
            self.sourceURL = sourceURL
            self.positionSec = positionSec
        }

        /// Writes `region` and `direction` as explicit `null`s and leaves absent MMC lists out, like the ordered writer.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(box, forKey: .box)
            try container.encode(plate, forKey: .plate)
            try container.encode(region, forKey: .region)
            try container.encode(vehicle, forKey: .vehicle)
            try container.encode(score, forKey: .score)
            try container.encode(candidates, forKey: .candidates)
            try container.encode(dscore, forKey: .dscore)
            try container.encodeIfPresent(modelMake, forKey: .modelMake)
            try container.encodeIfPresent(color, forKey: .color)
            try container.encodeIfPresent(orientation, forKey: .orientation)
            try container.encode(direction, forKey: .direction)
            try container.encode(sourceURL, forKey: .sourceURL)
            try container.encode(positionSec, forKey: .positionSec)
        }

        /// The ordered object; the MMC lists only when present, as the snapshot API does without `mmc`.
        public var jsonValue: JSONValue {
            var members: [(key: String, value: JSONValue)] = [
                ("box", box.jsonValue),
                ("plate", .string(plate)),
                ("region", region?.jsonValue ?? .null),
                ("vehicle", vehicle.jsonValue),
                ("score", .number(score)),
                ("candidates", .array(candidates.map(\.jsonValue))),
                ("dscore", .number(dscore)),
            ]
            if let modelMake { members.append(("model_make", .array(modelMake.map(\.jsonValue)))) }
            if let color { members.append(("color", .array(color.map(\.jsonValue)))) }
            if let orientation { members.append(("orientation", .array(orientation.map(\.jsonValue)))) }
            members += [
                ("direction", direction.map { .integer($0) } ?? .null),
                ("source_url", .string(sourceURL)),
                ("position_sec", .number(positionSec)),
            ]
            return .object(members)
        }
    }

    /// Creates an event from its fields.
    public init(cameraID: String, filename: String?, timestamp: String, timestampLocal: String, results: [Item]) {
        self.cameraID = cameraID
        self.filename = filename
        self.timestamp = timestamp
        self.timestampLocal = timestampLocal
        self.results = results
    }

    /// The flat JSON of a track event; nil for a vehicle without a plate, which this shape cannot express.
    public init?(event: TrackEvent, filename: String?, timeZone: TimeZone) {
        guard let consensus = event.plate else { return nil }
        let rounded = PlateRecognizerJSON.rounded
        let vehicle = event.vehicle
        func nonEmpty<T>(_ list: [T]) -> [T]? { list.isEmpty ? nil : Array(list.prefix(3)) }
        let item = Item(
            box: PlateRecognizerJSON.Box(consensus.bestRead.box),
            plate: consensus.text.lowercased(),
            region: Region(code: consensus.reportedRegion.code, score: rounded(consensus.reportedRegion.score)),
            vehicle: vehicle.map {
                Vehicle(score: rounded($0.score), type: $0.type.plateRecognizerName, box: PlateRecognizerJSON.Box($0.box))
            } ?? .none,
            score: rounded(consensus.score),
            candidates: consensus.candidates.map { Candidate(score: rounded($0.score), plate: $0.text.lowercased()) },
            dscore: rounded(consensus.bestRead.detectionScore),
            modelMake: vehicle.flatMap { nonEmpty($0.makeModel) }?.map {
                PlateRecognizerJSON.MakeModel(make: $0.make, model: $0.model, score: rounded($0.score))
            },
            color: vehicle.flatMap { nonEmpty($0.color) }?.map { Color(color: $0.label, score: rounded($0.score)) },
            orientation: vehicle.flatMap { nonEmpty($0.orientation) }?.map {
                Orientation(orientation: $0.label, score: rounded($0.score))
            },
            direction: event.direction,
            sourceURL: event.sourceURL,
            positionSec: rounded(event.positionSeconds))
        self.init(
            cameraID: event.cameraID.rawValue,
            filename: filename,
            timestamp: PlateRecognizerJSON.utcTimestamp(event.timestamp),
            timestampLocal: PlateRecognizerJSON.localTimestamp(event.timestamp, timeZone: timeZone),
            results: [item])
    }

    /// Writes a nil `filename` as an explicit `null`, like the ordered writer.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cameraID, forKey: .cameraID)
        try container.encode(filename, forKey: .filename)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encode(timestampLocal, forKey: .timestampLocal)
        try container.encode(results, forKey: .results)
    }

    /// The ordered object: `camera_id`, `filename`, `timestamp`, `timestamp_local`, `results`.
    public var jsonValue: JSONValue {
        .object([
            ("camera_id", .string(cameraID)),
            ("filename", .string(filename)),
            ("timestamp", .string(timestamp)),
            ("timestamp_local", .string(timestampLocal)),
            ("results", .array(results.map(\.jsonValue))),
        ])
    }
}
