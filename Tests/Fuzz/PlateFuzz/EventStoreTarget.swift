import Foundation
import GRDB
import PlateCore
import PlateSinks

/// The event-store reader over rows it did not write: a store file (made once per process) gets one row whose
/// columns take fuzzed values of any SQLite type (as a hand-edited, damaged or older database has), then the
/// console's queries (by camera, plate match of every kind, time window) read it back.
enum EventStoreTarget {
    static let columns = ["event_id", "camera_id", "track_id", "timestamp_us", "plate", "plate_score", "detection_score",
                          "region", "region_score", "vehicle_type", "vehicle_score", "vehicle_color", "direction",
                          "position_sec", "source_url", "filename", "reason", "json", "plate_folded"]

    nonisolated(unsafe) static let (store, writer): (SQLiteEventStore, DatabaseQueue) = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("platestream-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("events.sqlite").path
        let store = try! SQLiteEventStore(configuration: .init(path: path))
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = OFF") }
        let writer = try! DatabaseQueue(path: path, configuration: configuration)
        atexit { try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory
            .appendingPathComponent("platestream-fuzz-\(getpid())")) }
        return (store, writer)
    }()

    static func run(_ bytes: [UInt8]) -> Bool {
        var input = ByteReader(bytes)
        let values = columns.map { _ in input.value() }
        let inserted = (try? writer.write { db -> Bool in
            try db.execute(sql: "DELETE FROM event")
            try db.execute(sql: "INSERT INTO event (\(columns.joined(separator: ","))) VALUES (\(columns.map { _ in "?" }.joined(separator: ",")))",
                           arguments: StatementArguments(values))
            return true
        }) ?? false
        let text = input.text()
        let plate: PlateMatch? = switch input.byte() % 6 {
        case 0: nil
        case 1: .exact(text)
        case 2: .prefix(text)
        case 3: .contains(text)
        case 4: .fuzzy(text, maxDistance: Int(Int8(bitPattern: input.byte())))
        default: .similar(text)
        }
        let camera = input.byte() & 1 == 0 ? nil : CameraID(input.text())
        let from = input.byte() & 1 == 0 ? nil : Date(timeIntervalSince1970: Double(input.int64()) / 1e6)
        let query = EventQuery(cameraID: camera, plate: plate, from: from, to: nil,
                               limit: Int(Int8(bitPattern: input.byte())), offset: Int(Int8(bitPattern: input.byte())))
        let found = (try? store.events(matching: query)) ?? []
        _ = try? store.count(matching: query)
        if case .string(let id)? = values.first.map({ $0.storage }) { _ = try? store.event(id: id) }
        return inserted && !found.isEmpty
    }
}

/// Reads typed values off the fuzzer's bytes; past the end everything is zero.
struct ByteReader {
    var bytes: ArraySlice<UInt8>
    init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    mutating func byte() -> UInt8 { bytes.popFirst() ?? 0 }
    mutating func int64() -> Int64 { (0..<8).reduce(0) { value, _ in value << 8 | Int64(byte()) } }
    mutating func text() -> String {
        let count = min(Int(byte()), bytes.count)
        defer { bytes = bytes.dropFirst(count) }
        return String(decoding: bytes.prefix(count), as: UTF8.self)
    }

    /// NULL, an integer, a real, a text or a blob.
    mutating func value() -> DatabaseValue {
        switch byte() % 5 {
        case 0: return .null
        case 1: return int64().databaseValue
        case 2: return Double(bitPattern: UInt64(bitPattern: int64())).databaseValue
        case 3: return text().databaseValue
        default:
            let count = min(Int(byte()), bytes.count)
            defer { bytes = bytes.dropFirst(count) }
            return Data(bytes.prefix(count)).databaseValue
        }
    }
}
