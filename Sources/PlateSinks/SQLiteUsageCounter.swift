public import Foundation
internal import GRDB

/// API call counts per account and month in SQLite, so monthly quotas survive restarts.
///
/// The snapshot HTTP API's usage store forwards to this (the CLI adapts it, since adapters do not
/// import each other). `reserve` is one conditional UPDATE, so concurrent requests, even from
/// several processes on one file, can never push a count past its limit.
public final class SQLiteUsageCounter: Sendable {
    private let database: DatabasePool

    /// Opens (creating the file, its folder and the counter table if needed) the SQLite file at `path`.
    public init(path: String, busyTimeout: TimeInterval = 5) throws {
        database = try SQLiteSupport.openPool(path: path, busyTimeout: busyTimeout)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("api-usage-v1") { db in
            try db.execute(sql: """
                CREATE TABLE api_usage (account TEXT NOT NULL, month TEXT NOT NULL, calls INTEGER NOT NULL DEFAULT 0,
                                        PRIMARY KEY (account, month))
                """)
        }
        try migrator.migrate(database)
    }

    /// Calls counted for `account` in `month` (`YYYY-MM`), 0 when none.
    public func calls(account: String, month: String) throws -> Int {
        try database.read { db in
            try Int.fetchOne(db, sql: "SELECT calls FROM api_usage WHERE account = ? AND month = ?", arguments: [account, month]) ?? 0
        }
    }

    /// Adds `cost` when the count stays within `limit` (nil: unlimited) and returns the new count, else nil.
    public func reserve(account: String, month: String, cost: Int, limit: Int?) throws -> Int? {
        try database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO api_usage (account, month, calls) VALUES (?, ?, 0)", arguments: [account, month])
            try db.execute(sql: """
                UPDATE api_usage SET calls = calls + :cost
                WHERE account = :account AND month = :month AND (:limit IS NULL OR calls + :cost <= :limit)
                """, arguments: ["cost": cost, "account": account, "month": month, "limit": limit])
            guard db.changesCount == 1 else { return nil }
            return try Int.fetchOne(db, sql: "SELECT calls FROM api_usage WHERE account = ? AND month = ?", arguments: [account, month])
        }
    }

    /// Takes back `cost` calls (never below 0).
    public func release(account: String, month: String, cost: Int) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE api_usage SET calls = MAX(0, calls - ?) WHERE account = ? AND month = ?",
                           arguments: [cost, account, month])
        }
    }
}
