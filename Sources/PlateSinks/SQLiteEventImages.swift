public import Foundation
import GRDB
public import PlateCore

/// Which picture of an event the store keeps for the console.
public enum StoredImageKind: String, Sendable, CaseIterable {
    /// The plate cut out of the best frame.
    case plate
    /// The vehicle cut out of the best frame (the whole frame when the event has no vehicle box).
    case vehicle
}

extension SQLiteEventStore {
    /// Keeps an event's pictures (JPEG) beside it; a second call for the same event and kind replaces them.
    /// `deleteEvents(before:)` removes them with their events.
    public func storeImages(eventID: String, _ images: [StoredImageKind: Data]) throws {
        guard !images.isEmpty else { return }
        try database.write { db in
            for (kind, jpeg) in images {
                try db.execute(sql: "INSERT OR REPLACE INTO event_image (event_id, kind, jpeg) VALUES (?, ?, ?)",
                               arguments: [eventID, kind.rawValue, jpeg])
            }
        }
    }

    /// The JPEG of an event's picture, if stored.
    public func image(eventID: String, kind: StoredImageKind) throws -> Data? {
        try database.read { db in
            try Data.fetchOne(db, sql: "SELECT jpeg FROM event_image WHERE event_id = ? AND kind = ?",
                              arguments: [eventID, kind.rawValue])
        }
    }

    /// The kinds of picture stored for each of `eventIDs`.
    public func imageKinds(eventIDs: [String]) throws -> [String: Set<StoredImageKind>] {
        guard !eventIDs.isEmpty else { return [:] }
        return try database.read { db in
            var kinds: [String: Set<StoredImageKind>] = [:]
            let placeholders = Array(repeating: "?", count: eventIDs.count).joined(separator: ",")
            let rows = try Row.fetchAll(db, sql: "SELECT event_id, kind FROM event_image WHERE event_id IN (\(placeholders))",
                                        arguments: StatementArguments(eventIDs))
            for row in rows {
                if let kind = StoredImageKind(rawValue: row["kind"]) { kinds[row["event_id"], default: []].insert(kind) }
            }
            return kinds
        }
    }

    /// Inserts stored events as they are (an import, or generated events for `platestream bench-search`), in
    /// one transaction; events already stored (same `id`) are skipped.
    public func insert(_ events: [StoredEvent]) throws {
        try database.write { db in
            let statement = try db.makeStatement(sql: """
                INSERT INTO event (\(Self.insertColumns)) VALUES (\(Self.insertPlaceholders))
                ON CONFLICT(event_id) DO NOTHING
                """)
            for e in events {
                let values: [(any DatabaseValueConvertible)?] = [
                    e.id, e.cameraID.rawValue, e.trackID.rawValue, SQLiteSupport.micros(e.timestamp),
                    e.plate, e.plate.map(PlateText.folded), e.plateScore, e.detectionScore, e.region, e.regionScore,
                    e.vehicleType, e.vehicleScore, e.vehicleColor, e.direction, e.positionSeconds, e.sourceURL,
                    e.filename, e.reason, e.json,
                ]
                try statement.execute(arguments: StatementArguments(values))
            }
        }
    }
}
