public import Foundation
public import Logging
public import PlateCore
import PostgresNIO

/// Stores events in PostgreSQL, for several nodes writing one database (`database` set to a `postgres://` URL).
///
/// The same schema and queries as `SQLiteEventStore` (see `PostgresSchema`): one row per event keyed by its
/// `EventIdentifier` (`INSERT ... ON CONFLICT (event_id) DO NOTHING`, so a retry or a replay after a restart
/// never stores an event twice), the folded-plate index behind the console's one-edit search, the pictures
/// table, and one heartbeat row per node and camera.
public final class PostgresEventStore: EventStore, Sendable {
    private let connection: PostgresConnectionBox

    /// Connects to `location` and migrates its schema to the newest version; a server that cannot be
    /// reached, a wrong password or a failed migration throws, naming the server.
    public init(location: PostgresLocation, logger: Logger = Logger(label: "platestream.postgres")) throws {
        connection = try PostgresConnectionBox(location: location, logger: logger)
        try PostgresSchema.migrate(connection)
    }

    /// Closes the connection; the store cannot be used after.
    public func close() { connection.close() }

    /// The newest migration applied.
    public func schemaVersion() throws -> Int { try PostgresSchema.version(connection) }

    /// Re-runs the migrations (nothing to do on an up-to-date database); returns the version.
    @discardableResult
    public func migrate() throws -> Int { try PostgresSchema.migrate(connection) }

    private static let columns = StoredEvent.storedColumns.map(\.name)

    /// Why 2000 rows a statement: 19 binds each stays under the protocol's 65 535, and a 1 M-event import
    /// is 500 round trips, not a million.
    private static let rowsPerStatement = 2000

    /// Stores the events not stored yet (`ON CONFLICT (event_id) DO NOTHING`), 2000 rows a statement.
    @discardableResult
    public func insert(_ events: [StoredEvent]) throws -> Int {
        var inserted = 0
        var start = events.startIndex
        while start < events.endIndex {
            let chunk = events[start..<min(start + Self.rowsPerStatement, events.endIndex)]
            start = chunk.endIndex
            var binds = PostgresBindings(capacity: chunk.count * Self.columns.count)
            var rows: [String] = []
            rows.reserveCapacity(chunk.count)
            for e in chunk {
                let first = binds.count
                rows.append("(" + (1...Self.columns.count).map { "$\(first + $0)" }.joined(separator: ",") + ")")
                for column in StoredEvent.storedColumns {
                    switch column.value(e) {
                    case .text(let text): binds.append(text)
                    case .integer(let number): binds.append(number)
                    case .real(let number): binds.append(number)
                    }
                }
            }
            let result = try connection.query("""
                INSERT INTO event (\(Self.columns.joined(separator: ", "))) VALUES \(rows.joined(separator: ", "))
                ON CONFLICT (event_id) DO NOTHING
                """, binds)
            inserted += result.metadata.rows ?? 0
        }
        // After a bulk import (bench-search's million events), fresh statistics: without them the planner
        // may read the whole table for a search the folded-plate index answers in a few probes.
        if events.count >= 10_000 { try connection.query("ANALYZE event") }
        return inserted
    }

    /// The events matching the query, newest first.
    public func events(matching query: EventQuery) throws -> [StoredEvent] {
        var (whereClause, binds) = Self.filter(query)
        binds.append(Int64(max(0, min(query.limit, EventQuery.maxLimit))))
        binds.append(Int64(max(0, query.offset)))
        let page = "ORDER BY timestamp_us DESC, seq DESC LIMIT $\(binds.count - 1) OFFSET $\(binds.count)"
        let sql: String
        if case .similar = query.plate {
            // Why a materialized CTE: with a LIMIT and an ORDER BY time, PostgreSQL's planner (15) prefers to walk
            // `event_by_time` backwards filtering every row by the ~450 neighbours, expecting a match soon; for a
            // rare or absent plate that reads the whole table (700 ms at 1 M events). Materialized, the matches are
            // found first through `event_by_folded` (a few index probes), then sorted: as SQLite answers it.
            sql = "WITH found AS MATERIALIZED (SELECT * FROM event \(whereClause)) SELECT * FROM found \(page)"
        } else {
            sql = "SELECT * FROM event \(whereClause) \(page)"
        }
        let rows = try connection.query(sql, binds)
        return try rows.map(Self.storedEvent)
    }

    /// How many events match the query, ignoring its limit and offset.
    public func count(matching query: EventQuery) throws -> Int {
        let (whereClause, binds) = Self.filter(query)
        return try connection.query("SELECT COUNT(*) FROM event \(whereClause)", binds).first?.decode(Int.self) ?? 0
    }

    /// The event with this identifier, if stored.
    public func event(id: String) throws -> StoredEvent? {
        var binds = PostgresBindings()
        binds.append(id)
        return try connection.query("SELECT * FROM event WHERE event_id = $1", binds).first.map(Self.storedEvent)
    }

    /// Deletes the events older than `date` and their pictures; returns how many events went.
    @discardableResult
    public func deleteEvents(before date: Date) throws -> Int {
        var binds = PostgresBindings()
        binds.append(Micros.of(date))
        // One statement, so the pictures and their events go together.
        let result = try connection.query("""
            WITH gone AS (DELETE FROM event WHERE timestamp_us < $1 RETURNING event_id),
                 pictures AS (DELETE FROM event_image WHERE event_id IN (SELECT event_id FROM gone))
            SELECT COUNT(*) FROM gone
            """, binds)
        return try result.first?.decode(Int.self) ?? 0
    }

    /// Keeps an event's pictures; a second call for the same event and kind replaces them.
    public func storeImages(eventID: String, _ images: [StoredImageKind: Data]) throws {
        for (kind, jpeg) in images.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            var binds = PostgresBindings()
            binds.append(eventID)
            binds.append(kind.rawValue)
            try binds.append(jpeg)
            try connection.query("""
                INSERT INTO event_image (event_id, kind, jpeg) VALUES ($1, $2, $3)
                ON CONFLICT (event_id, kind) DO UPDATE SET jpeg = EXCLUDED.jpeg
                """, binds)
        }
    }

    /// The JPEG of an event's picture, if stored.
    public func image(eventID: String, kind: StoredImageKind) throws -> Data? {
        var binds = PostgresBindings()
        binds.append(eventID)
        binds.append(kind.rawValue)
        return try connection.query("SELECT jpeg FROM event_image WHERE event_id = $1 AND kind = $2", binds)
            .first?.decode(Data.self)
    }

    /// The kinds of picture stored for each of `eventIDs`.
    public func imageKinds(eventIDs: [String]) throws -> [String: Set<StoredImageKind>] {
        guard !eventIDs.isEmpty else { return [:] }
        var binds = PostgresBindings()
        try binds.append(eventIDs)
        var kinds: [String: Set<StoredImageKind>] = [:]
        for row in try connection.query("SELECT event_id, kind FROM event_image WHERE event_id = ANY($1)", binds) {
            let (id, name) = try row.decode((String, String).self)
            if let kind = StoredImageKind(rawValue: name) { kinds[id, default: []].insert(kind) }
        }
        return kinds
    }

    /// Writes (replaces) the heartbeat rows of the cameras given.
    public func recordHealth(_ cameras: [CameraHeartbeat]) throws {
        for c in cameras {
            var binds = PostgresBindings()
            binds.append(c.node)
            binds.append(c.cameraID.rawValue)
            binds.append(c.status)
            binds.append(c.inputFPS)
            binds.append(c.recognizedFPS)
            binds.append(c.lagSeconds)
            binds.append(Int64(c.dropped))
            binds.append(Int64(c.reconnects))
            binds.append(Int64(c.events))
            binds.append(c.lastError)
            binds.append(Micros.of(c.updatedAt))
            try connection.query("""
                INSERT INTO camera_health (node, camera_id, status, input_fps, recognized_fps, lag_seconds, dropped,
                    reconnects, events, last_error, updated_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                ON CONFLICT (node, camera_id) DO UPDATE SET status = EXCLUDED.status, input_fps = EXCLUDED.input_fps,
                    recognized_fps = EXCLUDED.recognized_fps, lag_seconds = EXCLUDED.lag_seconds,
                    dropped = EXCLUDED.dropped, reconnects = EXCLUDED.reconnects, events = EXCLUDED.events,
                    last_error = EXCLUDED.last_error, updated_us = EXCLUDED.updated_us
                """, binds)
        }
    }

    /// Every node's camera health rows, by node then camera.
    public func cameraHealth() throws -> [CameraHeartbeat] {
        try connection.query("SELECT * FROM camera_health ORDER BY node, camera_id").map { row in
            let r = row.makeRandomAccess()
            return CameraHeartbeat(
                node: try r["node"].decode(String.self), cameraID: CameraID(try r["camera_id"].decode(String.self)),
                status: try r["status"].decode(String.self), inputFPS: try r["input_fps"].decode(Double.self),
                recognizedFPS: try r["recognized_fps"].decode(Double.self), lagSeconds: try r["lag_seconds"].decode(Double?.self),
                dropped: try r["dropped"].decode(Int.self), reconnects: try r["reconnects"].decode(Int.self),
                events: try r["events"].decode(Int.self), lastError: try r["last_error"].decode(String?.self),
                updatedAt: Micros.date(try r["updated_us"].decode(Int64.self)))
        }
    }

    /// The WHERE clause of a query and its binds ($1 ...): the same conditions as `SQLiteEventStore`'s.
    static func filter(_ query: EventQuery) -> (String, PostgresBindings) {
        var conditions: [String] = []
        var binds = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        if let camera = query.cameraID { conditions.append("camera_id = \(bind(camera.rawValue))") }
        if let from = query.from { conditions.append("timestamp_us >= \(bind(Micros.of(from)))") }
        if let to = query.to { conditions.append("timestamp_us < \(bind(Micros.of(to)))") }
        switch query.plate {
        case nil: break
        case .exact(let text):
            conditions.append("plate = \(bind(PlateText.canonical(text)))")
        // Canonical text is letters and digits only, so it holds none of LIKE's `%_\` and needs no escaping.
        case .prefix(let text):
            conditions.append("plate LIKE \(bind(PlateText.canonical(text) + "%"))")
        case .contains(let text):
            conditions.append("strpos(plate, \(bind(PlateText.canonical(text)))) > 0")
        case .fuzzy(let text, let maxDistance):
            let canonical = PlateText.canonical(text)
            let distance = max(0, maxDistance)
            // The length bound is a cheap pre-filter: more edits than the length difference are needed.
            conditions.append("""
                length(plate) BETWEEN \(bind(Int64(canonical.count - distance))) AND \(bind(Int64(canonical.count + distance))) \
                AND platestream_edit_distance(plate, \(bind(canonical))) <= \(bind(Int64(distance)))
                """)
        case .similar(let text):
            // As on SQLite: the query's one-edit neighbours, each one probe of `event_by_folded` (= ANY of an
            // array is answered by a bitmap scan of the index), never a distance computed per row.
            let neighbours = PlateText.oneEditNeighbours(ofFolded: PlateText.folded(text)).sorted()
            conditions.append("plate_folded = ANY(\(bind(neighbours)))")
        }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), binds)
    }

    private static func storedEvent(_ row: PostgresRow) throws -> StoredEvent {
        let r = row.makeRandomAccess()
        return StoredEvent(
            id: try r["event_id"].decode(String.self), cameraID: CameraID(try r["camera_id"].decode(String.self)),
            trackID: TrackID(Int(try r["track_id"].decode(Int64.self))),
            timestamp: Micros.date(try r["timestamp_us"].decode(Int64.self)),
            plate: try r["plate"].decode(String?.self), plateScore: try r["plate_score"].decode(Double?.self),
            detectionScore: try r["detection_score"].decode(Double?.self), region: try r["region"].decode(String?.self),
            regionScore: try r["region_score"].decode(Double?.self), vehicleType: try r["vehicle_type"].decode(String?.self),
            vehicleScore: try r["vehicle_score"].decode(Double?.self), vehicleColor: try r["vehicle_color"].decode(String?.self),
            direction: try r["direction"].decode(Int?.self), positionSeconds: try r["position_sec"].decode(Double.self),
            sourceURL: try r["source_url"].decode(String.self), filename: try r["filename"].decode(String?.self),
            reason: try r["reason"].decode(String.self), json: try r["json"].decode(String.self))
    }
}

/// Time in the store: integer microseconds since 1970, as in SQLite (exact, and the same on both).
enum Micros {
    /// Microseconds since 1970, rounded.
    static func of(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
    /// The date of a count of microseconds.
    static func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(micros) / 1_000_000) }
}
