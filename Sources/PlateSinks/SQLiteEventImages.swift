public import Foundation
import GRDB
public import PlateCore

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

    /// Inserts stored events as they are (the store sink's events, an import, or generated events for
    /// `platestream bench-search`), in one transaction; events already stored (same `id`) are skipped.
    @discardableResult
    public func insert(_ events: [StoredEvent]) throws -> Int {
        try database.write { db in
            let before = db.totalChangesCount
            let statement = try db.makeStatement(sql: """
                INSERT INTO event (\(Self.insertColumns)) VALUES (\(Self.insertPlaceholders))
                ON CONFLICT(event_id) DO NOTHING
                """)
            for e in events { try statement.execute(arguments: Self.insertArguments(e)) }
            return db.totalChangesCount - before
        }
    }

    /// Replaces the health rows of the cameras given (one node's heartbeat).
    public func recordHealth(_ cameras: [CameraHeartbeat]) throws {
        try database.write { db in
            for c in cameras {
                let values: [(any DatabaseValueConvertible)?] = [
                    c.node, c.cameraID.rawValue, c.status, c.inputFPS, c.recognizedFPS, c.lagSeconds, c.dropped,
                    c.reconnects, c.events, c.lastError, SQLiteSupport.micros(c.updatedAt),
                ]
                try db.execute(sql: """
                    INSERT OR REPLACE INTO camera_health (node, camera_id, status, input_fps, recognized_fps, lag_seconds,
                        dropped, reconnects, events, last_error, updated_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: StatementArguments(values))
            }
        }
    }

    /// Every node's camera health rows, by node then camera.
    public func cameraHealth() throws -> [CameraHeartbeat] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM camera_health ORDER BY node, camera_id").map { row in
                CameraHeartbeat(node: row["node"], cameraID: CameraID(row["camera_id"] as String), status: row["status"],
                                inputFPS: row["input_fps"], recognizedFPS: row["recognized_fps"], lagSeconds: row["lag_seconds"],
                                dropped: row["dropped"], reconnects: row["reconnects"], events: row["events"],
                                lastError: row["last_error"], updatedAt: SQLiteSupport.date(micros: row["updated_us"]))
            }
        }
    }
}
