import Foundation
import PostgresNIO

/// The PostgreSQL schema as a list of versioned migrations, applied in order, each once.
///
/// `schema_version` holds one row per migration applied. `migrate` takes a session advisory lock first, so
/// nodes starting together against one empty database apply each migration exactly once, and re-running it
/// on a database that is up to date changes nothing. Each migration runs in its own transaction: one that
/// fails leaves the database at the previous version. The migrations mirror `SQLiteEventStore`'s one for one.
enum PostgresSchema {
    /// One migration: its version (1, 2, ...), its name, and its statements (one statement each, because the
    /// extended query protocol takes one at a time).
    struct Migration {
        let version: Int
        let name: String
        let statements: [String]
    }

    /// Every migration, in order. Append only: a released migration is never edited.
    static let migrations: [Migration] = [
        Migration(version: 1, name: "events-v1", statements: [
            """
            CREATE TABLE event (
                seq BIGSERIAL PRIMARY KEY,
                event_id TEXT NOT NULL UNIQUE,
                camera_id TEXT NOT NULL,
                track_id BIGINT NOT NULL,
                timestamp_us BIGINT NOT NULL,
                plate TEXT,
                plate_score DOUBLE PRECISION,
                detection_score DOUBLE PRECISION,
                region TEXT,
                region_score DOUBLE PRECISION,
                vehicle_type TEXT,
                vehicle_score DOUBLE PRECISION,
                vehicle_color TEXT,
                direction INTEGER,
                position_sec DOUBLE PRECISION NOT NULL,
                source_url TEXT NOT NULL,
                filename TEXT,
                reason TEXT NOT NULL,
                json TEXT NOT NULL
            )
            """,
            "CREATE INDEX event_by_time ON event (timestamp_us)",
            "CREATE INDEX event_by_camera ON event (camera_id, timestamp_us)",
            // text_pattern_ops: so that `plate LIKE 'AB1%'` (a prefix search) uses the index whatever the collation.
            "CREATE INDEX event_by_plate ON event (plate text_pattern_ops, timestamp_us)",
            // Levenshtein distance for `PlateMatch.fuzzy`, in PL/pgSQL (always there; no extension to install).
            """
            CREATE FUNCTION platestream_edit_distance(a text, b text) RETURNS integer
            LANGUAGE plpgsql IMMUTABLE STRICT AS $$
            DECLARE
                previous integer[];
                current integer[];
                cost integer;
                la integer := length(a);
                lb integer := length(b);
            BEGIN
                IF la = 0 THEN RETURN lb; END IF;
                IF lb = 0 THEN RETURN la; END IF;
                previous := array(SELECT generate_series(0, lb));
                FOR i IN 1..la LOOP
                    current := array[i];
                    FOR j IN 1..lb LOOP
                        cost := CASE WHEN substr(a, i, 1) = substr(b, j, 1) THEN 0 ELSE 1 END;
                        current := current || least(previous[j + 1] + 1, current[j] + 1, previous[j] + cost);
                    END LOOP;
                    previous := current;
                END LOOP;
                RETURN previous[lb + 1];
            END
            $$
            """,
        ]),
        // The console: folded plates for the `similar` search, and the event's plate and vehicle pictures.
        // No backfill of plate_folded: version 1 was never released without version 2 on PostgreSQL.
        Migration(version: 2, name: "events-v2-console", statements: [
            "ALTER TABLE event ADD COLUMN plate_folded TEXT",
            "CREATE INDEX event_by_folded ON event (plate_folded, timestamp_us)",
            """
            CREATE TABLE event_image (
                event_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                jpeg BYTEA NOT NULL,
                PRIMARY KEY (event_id, kind)
            )
            """,
        ]),
        // Every node's camera health: one row per node and camera, rewritten at each heartbeat.
        Migration(version: 3, name: "events-v3-health", statements: [
            """
            CREATE TABLE camera_health (
                node TEXT NOT NULL,
                camera_id TEXT NOT NULL,
                status TEXT NOT NULL,
                input_fps DOUBLE PRECISION NOT NULL,
                recognized_fps DOUBLE PRECISION NOT NULL,
                lag_seconds DOUBLE PRECISION,
                dropped BIGINT NOT NULL,
                reconnects BIGINT NOT NULL,
                events BIGINT NOT NULL,
                last_error TEXT,
                updated_us BIGINT NOT NULL,
                PRIMARY KEY (node, camera_id)
            )
            """,
        ]),
    ]

    /// Why this number: any constant works as long as every PlateStream node uses the same one ("PLAT").
    private static let advisoryLock: Int64 = 0x504C_4154

    /// Brings the database to the newest version; returns the version it is at.
    @discardableResult
    static func migrate(_ connection: PostgresConnectionBox) throws -> Int {
        var binds = PostgresBindings()
        binds.append(advisoryLock)
        try connection.query("SELECT pg_advisory_lock($1)", binds)
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", binds) }
        try connection.query("""
            CREATE TABLE IF NOT EXISTS schema_version (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """)
        var current = try version(connection)
        for migration in migrations where migration.version > current {
            try connection.query("BEGIN")
            do {
                for statement in migration.statements { try connection.query(statement) }
                var row = PostgresBindings()
                row.append(migration.version)
                row.append(migration.name)
                try connection.query("INSERT INTO schema_version (version, name) VALUES ($1, $2)", row)
                try connection.query("COMMIT")
            } catch {
                _ = try? connection.query("ROLLBACK")
                throw PostgresStoreError("migration \(migration.version) (\(migration.name)) failed: \(PostgresStoreError(error))")
            }
            current = migration.version
        }
        return current
    }

    /// The newest migration applied (0 on an empty database).
    static func version(_ connection: PostgresConnectionBox) throws -> Int {
        let rows = try connection.query("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        return try rows.first?.decode(Int.self) ?? 0
    }
}
