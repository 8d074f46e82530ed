public import Foundation
public import PlateCore

/// Writes each event as one CSV row (config key `csv_file`), RFC 4180: a header row at the top of each new
/// file, fields holding a comma, quote, CR or LF quoted with `"` and their quotes doubled, rows ended by CRLF.
///
/// Paths, rollover, appending and per-event flushing work as in `JSONLinesEventSink`. Values are written
/// as in the Version-2 JSON: plate text in lower case, scores to 3 decimals, Plate Recognizer's vehicle
/// names; an absent value is an empty field.
public final class CSVEventSink: ImageAwareEventSink, @unchecked Sendable {
    /// Configuration of this sink: path template, base directory, JSON format and time zones, fsync.
    public typealias Configuration = FileSinkConfiguration

    /// The stable config key of this sink.
    public static let configKey = "csv_file"

    /// The columns, in order. New columns are only ever added at the end.
    public static let columns = [
        "camera_id", "timestamp", "timestamp_local", "plate", "score", "dscore", "region", "region_score",
        "vehicle_type", "vehicle_score", "vehicle_color", "vehicle_orientation", "vehicle_make", "vehicle_model",
        "direction", "position_sec", "source_url",
        "xmin", "ymin", "xmax", "ymax", "vehicle_xmin", "vehicle_ymin", "vehicle_xmax", "vehicle_ymax",
        "candidates", "filename", "event_id",
    ]

    /// The configuration.
    public let configuration: Configuration
    private let lock = NSLock()
    private let files: RollingFiles
    private var isShutDown = false

    /// A sink; opens nothing until the first event.
    public init(configuration: Configuration) {
        self.configuration = configuration
        self.files = RollingFiles(template: configuration.path, format: configuration.format,
                                  baseDirectory: configuration.baseDirectory)
    }

    /// Appends the event's row (after the header, when the file is new).
    public func deliver(_ event: TrackEvent, images: EventImages) throws {
        let row = Self.row(for: event, filename: images.filename, timeZone: configuration.format.timeZone(for: event.cameraID))
        try lock.withLock {
            guard !isShutDown else { throw SinkError.closed("CSV sink") }
            let (file, _) = try files.file(for: event)
            var text = ""
            // Checked on the file, not on "just opened": a file that existed empty still needs its header,
            // and a reopened non-empty one must not get a second.
            if file.isEmpty { text += Self.line(Self.columns) }
            text += Self.line(row)
            try file.append(Array(text.utf8))
            if configuration.syncEachEvent { try file.sync() }
        }
    }

    /// Closes the files.
    public func shutdown() {
        lock.withLock {
            isShutDown = true
            files.closeAll()
        }
    }

    /// The fields of an event's row, in `columns` order, unquoted.
    public static func row(for event: TrackEvent, filename: String?, timeZone: TimeZone) -> [String] {
        // Three decimals, as the JSON writers print scores.
        func score(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
        func number(_ value: Double?) -> String { value.map { score($0).description } ?? "" }
        func int(_ value: Int?) -> String { value.map(String.init) ?? "" }
        let plate = event.plate
        let plateBox = plate.map { PlateRecognizerJSON.Box($0.bestRead.box) }
        let vehicle = event.vehicle
        let vehicleBox = vehicle.map { PlateRecognizerJSON.Box($0.box) }
        return [
            event.cameraID.rawValue,
            PlateRecognizerJSON.utcTimestamp(event.timestamp),
            PlateRecognizerJSON.localTimestamp(event.timestamp, timeZone: timeZone),
            plate?.text.lowercased() ?? "",
            number(plate?.score),
            number(plate?.bestRead.detectionScore),
            plate?.region?.code ?? "",
            number(plate?.region?.score),
            vehicle?.type.plateRecognizerName ?? "",
            number(vehicle?.score),
            vehicle?.color.first?.label ?? "",
            vehicle?.orientation.first?.label ?? "",
            vehicle?.makeModel.first?.make ?? "",
            vehicle?.makeModel.first?.model ?? "",
            int(event.direction),
            score(event.positionSeconds).description,
            event.sourceURL,
            int(plateBox?.xmin), int(plateBox?.ymin), int(plateBox?.xmax), int(plateBox?.ymax),
            int(vehicleBox?.xmin), int(vehicleBox?.ymin), int(vehicleBox?.xmax), int(vehicleBox?.ymax),
            // The alternatives, `text:score` separated by `|`: one field, so the column count stays fixed.
            plate.map { $0.candidates.map { "\($0.text.lowercased()):\(score($0.score))" }.joined(separator: "|") } ?? "",
            filename ?? "",
            EventIdentifier.make(for: event),
        ]
    }

    /// One CSV record: the fields quoted where RFC 4180 requires it, joined by commas, ended by CRLF.
    public static func line(_ fields: [String]) -> String {
        fields.map(quote).joined(separator: ",") + "\r\n"
    }

    /// A field as RFC 4180 writes it: in double quotes, with its quotes doubled, when it holds a comma,
    /// a quote, CR or LF (or starts or ends with a space, which some readers would trim); as is otherwise.
    public static func quote(_ field: String) -> String {
        let needsQuotes = field.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
            || field.hasPrefix(" ") || field.hasSuffix(" ")
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
