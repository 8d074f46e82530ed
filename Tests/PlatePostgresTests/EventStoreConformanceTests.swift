import Foundation
import PlateCore
import PlatePostgres
import PlateSinks
import PlateTesting
import Testing

/// The store protocol's conformance on both backends, PostgreSQL on a real server started here, and its
/// versioned migrations.
@Suite struct EventStoreConformanceTests {
    @Test func sqliteConforms() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ps-conf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteEventStore(configuration: .init(path: directory.appendingPathComponent("events.db").path))
        try EventStoreConformance.check(store)
    }

    @Test func postgresConforms() throws {
        let server = try TestPostgresServer()
        defer { server.stop() }
        try server.createDatabase("conformance")
        let store = try PostgresEventStore(location: try PostgresLocation(parsing: server.url(database: "conformance")))
        defer { store.close() }
        try EventStoreConformance.check(store)
    }

    @Test func postgresMigratesFromEmptyOnceAndAgainAndConcurrently() throws {
        let server = try TestPostgresServer()
        defer { server.stop() }
        try server.createDatabase("migrations")
        let location = try PostgresLocation(parsing: server.url(database: "migrations"))
        // Three nodes starting at once on an empty database: each migration is applied exactly once.
        let stores = try (0..<3).map { _ in
            try PostgresEventStore(location: location)
        }
        // (created one after the other above; now again at the same time from three threads)
        let results = Locked<[Result<Int, any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: 3) { index in
            let result = Result { try stores[index].migrate() }
            results.withLock { $0.append(result) }
        }
        #expect(try results.withLock { $0 }.map { try $0.get() } == [3, 3, 3])
        let versions = try server.psql("SELECT version, name FROM schema_version ORDER BY version", database: "migrations")
        #expect(versions.split(separator: "\n") == ["1|events-v1", "2|events-v2-console", "3|events-v3-health"])
        let tables = try server.psql("""
            SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'
            """, database: "migrations")
        #expect(tables.trimmingCharacters(in: .whitespacesAndNewlines) == "camera_health,event,event_image,schema_version")
        // The console's search is answered from the folded-plate index.
        let plan = try server.psql("""
            SET enable_seqscan = off; EXPLAIN SELECT * FROM event WHERE plate_folded = ANY('{ABC,ABD}') ORDER BY timestamp_us DESC LIMIT 50
            """, database: "migrations")
        #expect(plan.contains("event_by_folded"))
        for store in stores { store.close() }
    }

    @Test func postgresStoreSurvivesAServerRestart() throws {
        let server = try TestPostgresServer()
        defer { server.stop() }
        try server.createDatabase("restart")
        let store = try PostgresEventStore(location: try PostgresLocation(parsing: server.url(database: "restart")))
        defer { store.close() }
        #expect(try store.insert([EventStoreConformance.event(1, plate: "ABC1234")]) == 1)
        // Crash and restart the server: the store's next statement reconnects.
        _ = try server.psql("SELECT 1", database: "restart")
        server.crash()
        try server.start()
        #expect(try store.insert([EventStoreConformance.event(1, plate: "ABC1234"), EventStoreConformance.event(2, plate: "X")]) == 1)
        #expect(try store.count(matching: EventQuery()) == 2)
    }

    @Test func aWrongPasswordOrDatabaseFailsClearly() throws {
        let server = try TestPostgresServer()
        defer { server.stop() }
        var location = try PostgresLocation(parsing: server.url(database: "postgres"))
        location.password = "wrong"
        let error = #expect(throws: PostgresStoreError.self) { try PostgresEventStore(location: location) }
        #expect(error?.description.contains("127.0.0.1:\(server.port)") == true)
        #expect(error?.description.contains("password authentication failed") == true)
        let missing = try PostgresLocation(parsing: server.url(database: "absent"))
        let error2 = #expect(throws: PostgresStoreError.self) { try PostgresEventStore(location: missing) }
        #expect(error2?.description.contains("\"absent\" does not exist") == true)
    }
}

/// A value behind a lock, for results gathered from several threads.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T { try lock.withLock { try body(&value) } }
}
