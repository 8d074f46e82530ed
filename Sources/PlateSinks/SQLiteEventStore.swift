public import Foundation
import GRDB
public import PlateCore

/// Stores every event in SQLite (WAL) and answers queries for the HTTP API (config key `sqlite_file`).
///
/// One row per event, keyed by `EventIdentifier`: delivering the same event twice stores it once.
/// Columns hold the queryable fields; `json` holds the full Version-2 object. The schema and the queries are
/// `PostgresEventStore`'s too (its migrations mirror the ones here, one for one).
public final class SQLiteEventStore: EventStore, ImageAwareEventSink, Sendable {
    /// Configuration of the store.
    public struct Configuration: Sendable, Equatable {
        /// Path of the database file; created with its directory when missing.
        public var path: String
        /// Time zone of the JSON's `timestamp_local` (the version is always 2).
        public var format: EventJSONFormat
        /// How long a write waits for another writer of the same file before failing.
        public var busyTimeout: TimeInterval

        /// A configuration.
        public init(path: String, format: EventJSONFormat = EventJSONFormat(), busyTimeout: TimeInterval = 10) {
            self.path = path
            self.format = format
            self.busyTimeout = busyTimeout
        }
    }

    /// The stable config key of this sink.
    public static let configKey = "sqlite_file"

    /// The configuration.
    public let configuration: Configuration
    let database: DatabasePool

    /// Opens (creating and migrating) the database.
    public init(configuration: Configuration) throws {
        var configuration = configuration
        configuration.format.version = .v2
        self.configuration = configuration
        database = try SQLiteSupport.openPool(path: configuration.path, busyTimeout: configuration.busyTimeout)
        try Self.migrator.migrate(database)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("events-v1") { db in
            try db.execute(sql: """
                CREATE TABLE event (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_id TEXT NOT NULL UNIQUE,
                    camera_id TEXT NOT NULL,
                    track_id INTEGER NOT NULL,
                    timestamp_us INTEGER NOT NULL,
                    plate TEXT,
                    plate_score REAL,
                    detection_score REAL,
                    region TEXT,
                    region_score REAL,
                    vehicle_type TEXT,
                    vehicle_score REAL,
                    vehicle_color TEXT,
                    direction INTEGER,
                    position_sec REAL NOT NULL,
                    source_url TEXT NOT NULL,
                    filename TEXT,
                    reason TEXT NOT NULL,
                    json TEXT NOT NULL
                );
                CREATE INDEX event_by_time ON event(timestamp_us);
                CREATE INDEX event_by_camera ON event(camera_id, timestamp_us);
                CREATE INDEX event_by_plate ON event(plate, timestamp_us);
                """)
        }
        // The console: folded plates for the `similar` search, and the event's plate and vehicle pictures.
        migrator.registerMigration("events-v2-console") { db in
            try db.execute(sql: """
                ALTER TABLE event ADD COLUMN plate_folded TEXT;
                UPDATE event SET plate_folded = \(SQLiteSupport.foldFunction.name)(plate) WHERE plate IS NOT NULL;
                CREATE INDEX event_by_folded ON event(plate_folded, timestamp_us);
                CREATE TABLE event_image (
                    event_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    jpeg BLOB NOT NULL,
                    PRIMARY KEY (event_id, kind)
                ) WITHOUT ROWID;
                """)
        }
        // Several nodes' camera health (their heartbeats), as PostgreSQL keeps it; on one box, that box's.
        migrator.registerMigration("events-v3-health") { db in
            try db.execute(sql: """
                CREATE TABLE camera_health (
                    node TEXT NOT NULL,
                    camera_id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    input_fps REAL NOT NULL,
                    recognized_fps REAL NOT NULL,
                    lag_seconds REAL,
                    dropped INTEGER NOT NULL,
                    reconnects INTEGER NOT NULL,
                    events INTEGER NOT NULL,
                    last_error TEXT,
                    updated_us INTEGER NOT NULL,
                    PRIMARY KEY (node, camera_id)
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }

    /// The number of migrations applied (GRDB's `grdb_migrations` table is this store's schema version).
    public func schemaVersion() throws -> Int {
        try database.read { db in try Self.migrator.appliedIdentifiers(db).count }
    }

    /// Stores the event (once: a second delivery of the same event is ignored); `images.filename` is recorded.
    public func deliver(_ event: TrackEvent, images: EventImages) throws {
        do {
            try insert([StoredEvent(event, format: configuration.format, filename: images.filename)])
        } catch let error as DatabaseError {
            // Why wrapped: SQLite's own message ("database or disk is full") does not say which file.
            throw SinkError.io("cannot store the event (SQLite: \(error.message ?? "\(error.resultCode)"))",
                               path: configuration.path)
        }
    }

    /// Nothing to flush: every event is committed when `deliver` returns. Queries keep working.
    public func shutdown() {}

    /// The events matching the query, newest first.
    public func events(matching query: EventQuery) throws -> [StoredEvent] {
        let (whereClause, arguments) = Self.filter(query)
        var all = arguments
        all += [max(0, min(query.limit, EventQuery.maxLimit)), max(0, query.offset)]
        return try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM event \(whereClause) ORDER BY timestamp_us DESC, seq DESC LIMIT ? OFFSET ?",
                             arguments: all).map { try Self.storedEvent($0) }
        }
    }

    /// How many events match the query, ignoring its limit and offset.
    public func count(matching query: EventQuery) throws -> Int {
        let (whereClause, arguments) = Self.filter(query)
        return try database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event \(whereClause)", arguments: arguments) ?? 0
        }
    }

    /// The event with this identifier, if stored.
    public func event(id: String) throws -> StoredEvent? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM event WHERE event_id = ?", arguments: [id]).map { try Self.storedEvent($0) }
        }
    }

    /// Deletes the events older than `date` (retention); returns how many went.
    @discardableResult
    public func deleteEvents(before date: Date) throws -> Int {
        try database.write { db in
            let cutoff = SQLiteSupport.micros(date)
            try db.execute(sql: "DELETE FROM event_image WHERE event_id IN (SELECT event_id FROM event WHERE timestamp_us < ?)",
                           arguments: [cutoff])
            try db.execute(sql: "DELETE FROM event WHERE timestamp_us < ?", arguments: [cutoff])
            return db.changesCount
        }
    }

    /// The columns `insert` fills (`StoredEvent.storedColumns`), and a placeholder for each.
    static let insertColumns = StoredEvent.storedColumns.map(\.name).joined(separator: ", ")
    static let insertPlaceholders = StoredEvent.storedColumns.map { _ in "?" }.joined(separator: ", ")

    /// An event's values in the order of `insertColumns`.
    static func insertArguments(_ event: StoredEvent) -> StatementArguments {
        StatementArguments(StoredEvent.storedColumns.map { column -> (any DatabaseValueConvertible)? in
            switch column.value(event) {
            case .text(let text): text
            case .integer(let number): number
            case .real(let number): number
            }
        })
    }

    /// The longest text a `similar` search expands into its one-edit neighbours.
    static let maxSimilarLength = 32

    static func filter(_ query: EventQuery) -> (String, StatementArguments) {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let camera = query.cameraID {
            conditions.append("camera_id = ?")
            arguments += [camera.rawValue]
        }
        if let from = query.from {
            conditions.append("timestamp_us >= ?")
            arguments += [SQLiteSupport.micros(from)]
        }
        if let to = query.to {
            conditions.append("timestamp_us < ?")
            arguments += [SQLiteSupport.micros(to)]
        }
        switch query.plate {
        case nil: break
        // Canonical text is letters and digits only, so it holds none of GLOB's `*?[` and needs no escaping;
        // GLOB (case-sensitive, like the BINARY index) lets SQLite use `event_by_plate` for a prefix.
        case .exact(let text):
            conditions.append("plate = ?")
            arguments += [PlateText.canonical(text)]
        case .prefix(let text):
            conditions.append("plate GLOB ?")
            arguments += [PlateText.canonical(text) + "*"]
        case .contains(let text):
            conditions.append("instr(plate, ?) > 0")
            arguments += [PlateText.canonical(text)]
        case .fuzzy(let text, let maxDistance):
            let canonical = PlateText.canonical(text)
            let distance = max(0, maxDistance)
            // The length bound is a cheap pre-filter: more edits than the length difference are needed.
            conditions.append("length(plate) BETWEEN ? AND ? AND \(SQLiteSupport.editDistanceFunction.name)(plate, ?) <= ?")
            arguments += [canonical.count - distance, canonical.count + distance, canonical, distance]
        case .similar(let text):
            // Why candidates and not an edit distance per row: the neighbours (about 450 for 7 characters) are
            // each one lookup in `event_by_folded`, where a distance would read every row.
            // Past `maxSimilarLength` characters (no plate is that long) only the folded text itself is looked up:
            // its neighbours would number about 70 per character, each as long as the text, so a pasted paragraph
            // cost megabytes and more SQL parameters than SQLite takes (found by scripts/fuzz, event-store).
            let folded = PlateText.folded(text)
            let neighbours = folded.count <= Self.maxSimilarLength ? PlateText.oneEditNeighbours(ofFolded: folded).sorted() : [folded]
            conditions.append("plate_folded IN (\(Array(repeating: "?", count: neighbours.count).joined(separator: ",")))")
            arguments += StatementArguments(neighbours)
        }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), arguments)
    }

    /// The event of a row. Why `decode` and not `row[...]`: the subscript stops the process when a column holds a
    /// value of another type (text in `track_id`, a blob in `camera_id`), which a damaged or hand-edited file can.
    private static func storedEvent(_ row: Row) throws -> StoredEvent {
        do {
            return StoredEvent(
                id: try row.decode(forColumn: "event_id"),
                cameraID: CameraID(try row.decode(String.self, forColumn: "camera_id")),
                trackID: TrackID(try row.decode(forColumn: "track_id")),
                timestamp: SQLiteSupport.date(micros: try row.decode(forColumn: "timestamp_us")),
                plate: try row.decode(forColumn: "plate"), plateScore: try row.decode(forColumn: "plate_score"),
                detectionScore: try row.decode(forColumn: "detection_score"),
                region: try row.decode(forColumn: "region"), regionScore: try row.decode(forColumn: "region_score"),
                vehicleType: try row.decode(forColumn: "vehicle_type"), vehicleScore: try row.decode(forColumn: "vehicle_score"),
                vehicleColor: try row.decode(forColumn: "vehicle_color"), direction: try row.decode(forColumn: "direction"),
                positionSeconds: try row.decode(forColumn: "position_sec"), sourceURL: try row.decode(forColumn: "source_url"),
                filename: try row.decode(forColumn: "filename"), reason: try row.decode(forColumn: "reason"),
                json: try row.decode(forColumn: "json"))
        } catch {
            let seq: Int64? = try? row.decode(forColumn: "seq")
            throw SinkError.damaged("event store: the event at row \(seq.map(String.init) ?? "?") cannot be read: \(error)")
        }
    }
}

/// What the SQLite-backed sinks share: opening a WAL pool, time as integer microseconds, SQL functions.
enum SQLiteSupport {
    /// `platestream_fold(plate)`: `PlateText.folded` (NULL stays NULL), for the migration's backfill.
    static let foldFunction = DatabaseFunction("platestream_fold", argumentCount: 1, pure: true) { values in
        String.fromDatabaseValue(values[0]).map(PlateText.folded)
    }

    /// `platestream_edit_distance(a, b)`: Levenshtein distance of two texts (NULL when either is NULL).
    static let editDistanceFunction = DatabaseFunction("platestream_edit_distance", argumentCount: 2, pure: true) { values in
        guard let a = String.fromDatabaseValue(values[0]), let b = String.fromDatabaseValue(values[1]) else { return nil }
        return PlateText.editDistance(a, b)
    }

    /// A WAL database pool on `path`, its directory created, with a busy timeout and our SQL functions.
    static func openPool(path: String, busyTimeout: TimeInterval) throws -> DatabasePool {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.prepareDatabase { db in
            db.add(function: editDistanceFunction)
            db.add(function: foldFunction)
        }
        // DatabasePool puts the file in WAL mode: readers (HTTP queries, the webhook worker) never block
        // the writer (the pipeline's `deliver`), and a commit is one append to the log.
        return try DatabasePool(path: path, configuration: configuration)
    }

    /// Microseconds since 1970, rounded: exact in SQLite's INTEGER, unlike a REAL of seconds.
    static func micros(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The date of a count of microseconds since 1970.
    static func date(micros: Int64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(micros) / 1_000_000)
    }
}
