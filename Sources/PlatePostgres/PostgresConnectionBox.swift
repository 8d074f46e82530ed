import Foundation
import Logging
import PlateCore
import PostgresNIO

/// One PostgreSQL connection used synchronously: each statement is sent and waited for.
///
/// Why blocking: `EventStore` is synchronous (the pipeline's store sink runs on its own thread and returns
/// only once the event is committed). A statement on a closed connection (the server restarted) is retried
/// once on a new one; every statement the store sends is idempotent, so a retry never stores twice.
final class PostgresConnectionBox: @unchecked Sendable {
    // Why unchecked: `current` is read and written under `lock` only.
    private let location: PostgresLocation
    private let logger: Logger
    private let lock = NSLock()
    private var current: PostgresConnection?

    /// Connects to `location` now, so that a wrong URL or password fails at start-up.
    init(location: PostgresLocation, logger: Logger) throws {
        self.location = location
        self.logger = logger
        _ = try connection()
    }

    /// The open connection, a new one when there is none or it was closed.
    private func connection() throws -> PostgresConnection {
        try lock.withLock {
            if let current, !current.isClosed { return current }
            let configuration = PostgresConnection.Configuration(
                host: location.host, port: location.port, username: location.username, password: location.password,
                database: location.database, tls: .disable)
            do {
                let fresh = try PostgresConnection.connect(
                    on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: 1, logger: logger
                ).wait()
                current = fresh
                return fresh
            } catch {
                throw PostgresStoreError("cannot connect to postgres://\(location.username)@\(location.host):\(location.port)/\(location.database): \(String(reflecting: error))")
            }
        }
    }

    /// Runs one statement with `binds` ($1, $2 ... in `sql`) and collects its rows.
    @discardableResult
    func query(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws -> PostgresQueryResult {
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        let first = try connection()
        do {
            return try first.query(query, logger: logger).wait()
        } catch {
            guard first.isClosed else { throw PostgresStoreError(error) }
            do {
                return try connection().query(query, logger: logger).wait()
            } catch {
                throw PostgresStoreError(error)
            }
        }
    }

    // Why: postgres-nio requires a connection to be closed before it is released (a debug build traps).
    deinit { close() }

    /// Closes the connection.
    func close() {
        let open = lock.withLock { () -> PostgresConnection? in
            defer { current = nil }
            return current
        }
        try? open?.close().wait()
    }
}

/// A PostgreSQL store failure, with the server's message (`PSQLError`'s plain description hides it).
public struct PostgresStoreError: Error, CustomStringConvertible, Sendable {
    /// What failed.
    public let description: String

    init(_ description: String) { self.description = description }

    init(_ error: any Error) {
        if let error = error as? PostgresStoreError {
            self = error
        } else if let psql = error as? PSQLError, let message = psql.serverInfo?[.message] {
            let code = psql.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            description = "PostgreSQL: " + message + code
        } else {
            description = "PostgreSQL: \(String(reflecting: error))"
        }
    }
}
