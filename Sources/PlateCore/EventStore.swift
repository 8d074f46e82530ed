public import Foundation

/// Where events are kept and searched: SQLite on one box (`SQLiteEventStore`), PostgreSQL when several nodes
/// share one database (`PostgresEventStore`). Both keep the same schema and answer the same queries.
///
/// Synchronous, because its main caller is the pipeline's store sink, which runs on its own thread and must
/// not return before the event is committed (that is what makes a SIGKILL lose nothing that was emitted).
public protocol EventStore: Sendable {
    /// Stores the events not stored yet; an event whose `id` is stored already is skipped (so a second
    /// delivery, a retry or a replay after a restart stores nothing twice). Returns how many were new.
    @discardableResult
    func insert(_ events: [StoredEvent]) throws -> Int
    /// The events matching the query, newest first.
    func events(matching query: EventQuery) throws -> [StoredEvent]
    /// How many events match the query, ignoring its limit and offset.
    func count(matching query: EventQuery) throws -> Int
    /// The event with this identifier, if stored.
    func event(id: String) throws -> StoredEvent?
    /// Deletes the events older than `date` and their pictures (retention); returns how many events went.
    @discardableResult
    func deleteEvents(before date: Date) throws -> Int
    /// Keeps an event's pictures (JPEG); a second call for the same event and kind replaces them.
    func storeImages(eventID: String, _ images: [StoredImageKind: Data]) throws
    /// The JPEG of an event's picture, if stored.
    func image(eventID: String, kind: StoredImageKind) throws -> Data?
    /// The kinds of picture stored for each of `eventIDs`.
    func imageKinds(eventIDs: [String]) throws -> [String: Set<StoredImageKind>]
    /// Writes (replaces) the health rows of one node's cameras: its heartbeat.
    func recordHealth(_ cameras: [CameraHeartbeat]) throws
    /// Every node's camera health rows, by node then camera.
    func cameraHealth() throws -> [CameraHeartbeat]
    /// The schema version the database is at (the number of migrations applied).
    func schemaVersion() throws -> Int
}

/// One camera's health as a node last wrote it to the event store (its heartbeat row).
public struct CameraHeartbeat: Sendable, Hashable {
    /// The node running the camera (`--node`, `shard-K-of-N`, or the host name).
    public var node: String
    /// The camera.
    public var cameraID: CameraID
    /// `connected`, `reconnecting`, `starting`, `ended` or `failed`.
    public var status: String
    /// Frames decoded per second.
    public var inputFPS: Double
    /// Frames recognized per second.
    public var recognizedFPS: Double
    /// Seconds behind live of the latest recognized frame.
    public var lagSeconds: Double?
    /// Frames dropped unrecognized.
    public var dropped: Int
    /// Source reconnections.
    public var reconnects: Int
    /// Events emitted.
    public var events: Int
    /// The last source or recognition error.
    public var lastError: String?
    /// When the node wrote this row.
    public var updatedAt: Date

    /// A heartbeat row.
    public init(node: String, cameraID: CameraID, status: String, inputFPS: Double, recognizedFPS: Double,
                lagSeconds: Double?, dropped: Int, reconnects: Int, events: Int, lastError: String?, updatedAt: Date) {
        self.node = node
        self.cameraID = cameraID
        self.status = status
        self.inputFPS = inputFPS
        self.recognizedFPS = recognizedFPS
        self.lagSeconds = lagSeconds
        self.dropped = dropped
        self.reconnects = reconnects
        self.events = events
        self.lastError = lastError
        self.updatedAt = updatedAt
    }
}

/// The `database` setting: which event store, and where.
///
/// `sqlite:PATH` or a plain path is an SQLite file (the default, `platestream.db`);
/// `postgres://user:password@host:port/database` (or `postgresql://`) is a PostgreSQL server.
public enum EventDatabaseLocation: Sendable, Equatable {
    /// An SQLite file.
    case sqlite(path: String)
    /// A PostgreSQL server.
    case postgres(PostgresLocation)

    /// Parses the setting; a `postgres://` URL without a host or database, or another scheme, is an error.
    public init(parsing text: String) throws(EventDatabaseLocationError) {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw EventDatabaseLocationError("database \"\(text)\": sqlite: needs a path") }
            self = .sqlite(path: path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(parsing: text))
        } else if let colon = text.firstIndex(of: ":"), text[..<colon].count > 1,
                  text[..<colon].allSatisfy({ $0.isLetter }), text[colon...].hasPrefix("://") {
            throw EventDatabaseLocationError(
                "database \"\(text)\": unknown scheme \(text[..<colon]) (use a path, sqlite:PATH or postgres://...)")
        } else {
            guard !text.isEmpty else { throw EventDatabaseLocationError("database: empty path") }
            self = .sqlite(path: text)
        }
    }

    /// The location with any password replaced by `***`, for logs.
    public var redacted: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let p): return "postgres://\(p.username)\(p.password == nil ? "" : ":***")@\(p.host):\(p.port)/\(p.database)"
        }
    }
}

/// A PostgreSQL server and database from a `postgres://` URL.
public struct PostgresLocation: Sendable, Equatable {
    /// Host name or address.
    public var host: String
    /// TCP port (5432 when the URL names none).
    public var port: Int
    /// User name.
    public var username: String
    /// Password, if any.
    public var password: String?
    /// Database name.
    public var database: String

    /// A location as given.
    public init(host: String, port: Int = 5432, username: String, password: String?, database: String) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `postgres://user:password@host:port/database` (user, password and port optional; user and
    /// password percent-decoded). `?sslmode=disable` is accepted; other options are refused, not ignored.
    public init(parsing text: String) throws(EventDatabaseLocationError) {
        guard let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
            throw EventDatabaseLocationError("database \"\(Self.redact(text))\": not a postgres://user:password@host:port/database URL")
        }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard !database.isEmpty, !database.contains("/") else {
            throw EventDatabaseLocationError("database \"\(Self.redact(text))\": the URL names no database (…/DATABASE)")
        }
        for item in url.queryItems ?? [] where !(item.name == "sslmode" && item.value == "disable") {
            throw EventDatabaseLocationError(
                "database \"\(Self.redact(text))\": unsupported option \(item.name) (only sslmode=disable; TLS is not supported yet)")
        }
        self.init(host: host, port: url.port ?? 5432, username: url.user?.removingPercentEncoding ?? "postgres",
                  password: url.password?.removingPercentEncoding, database: database)
    }

    private static func redact(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? text
    }
}

/// A `database` setting that cannot be used, with what is wrong.
public struct EventDatabaseLocationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong.
    public let description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
