import Foundation
import PlateCore
import Testing

@Suite struct EventDatabaseLocationTests {
    @Test func pathsAndSQLiteURLsAreSQLiteFiles() throws {
        #expect(try EventDatabaseLocation(parsing: "platestream.db") == .sqlite(path: "platestream.db"))
        #expect(try EventDatabaseLocation(parsing: "/var/lib/p/events.db") == .sqlite(path: "/var/lib/p/events.db"))
        #expect(try EventDatabaseLocation(parsing: "sqlite:db/events.db") == .sqlite(path: "db/events.db"))
        // A Windows-style drive letter or a colon in a file name is still a path.
        #expect(try EventDatabaseLocation(parsing: "C:/data/events.db") == .sqlite(path: "C:/data/events.db"))
    }

    @Test func postgresURLsNameServerUserAndDatabase() throws {
        let full = try EventDatabaseLocation(parsing: "postgres://ps:p%40ss@db.example:6543/alpr?sslmode=disable")
        #expect(full == .postgres(PostgresLocation(host: "db.example", port: 6543, username: "ps", password: "p@ss", database: "alpr")))
        #expect(full.redacted == "postgres://ps:***@db.example:6543/alpr")
        let short = try EventDatabaseLocation(parsing: "postgresql://ps@10.0.0.5/alpr")
        #expect(short == .postgres(PostgresLocation(host: "10.0.0.5", port: 5432, username: "ps", password: nil, database: "alpr")))
    }

    @Test func badSettingsAreRefusedClearlyWithoutThePassword() {
        func message(_ text: String) -> String {
            do { _ = try EventDatabaseLocation(parsing: text); return "" } catch { return error.description }
        }
        #expect(message("postgres://u:secret@host") .contains("names no database"))
        #expect(!message("postgres://u:secret@host").contains("secret"))
        #expect(message("postgres://u:secret@host/db?sslmode=require").contains("unsupported option sslmode"))
        #expect(message("mysql://u@host/db").contains("unknown scheme mysql"))
        #expect(message("sqlite:").contains("needs a path"))
        #expect(message("").contains("empty"))
    }
}
