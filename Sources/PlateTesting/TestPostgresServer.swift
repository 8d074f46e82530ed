public import Foundation

/// A real PostgreSQL server for tests (Debian's `postgresql`, which scripts/setup installs): a new cluster in
/// a temporary directory, listening on a free port on 127.0.0.1 only, with password authentication over TCP.
///
/// PostgreSQL refuses to run as root, and tests (and CI) run as root here: then the cluster belongs to the
/// unprivileged `nobody` and every server command runs through `runuser -u nobody`.
public final class TestPostgresServer: @unchecked Sendable {
    /// The cluster's directory (and the server's Unix socket directory).
    public let directory: URL
    /// The TCP port on 127.0.0.1.
    public let port: Int
    /// The superuser's name and password.
    public let user = "platestream", password = "pg-test-secret"
    private let bin: String

    /// Makes the cluster (initdb) and starts the server; throws with the tools' output when either fails.
    public init() throws {
        bin = try Self.binDirectory()
        // Why under /tmp with a short name: the server's Unix socket path must fit in 107 bytes.
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("ps-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try Self.freeLoopbackPort()
        let passwordFile = directory.appendingPathComponent("password").path
        try password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        if getuid() == 0 {
            try Self.run("/bin/chown", ["-R", "nobody:nogroup", directory.path])
        }
        try server("initdb", ["-D", dataDirectory, "-U", user, "--pwfile=\(passwordFile)", "--auth-local=trust",
                              "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        try start()
    }

    deinit { stop() }

    private var dataDirectory: String { directory.appendingPathComponent("data").path }

    /// The `postgres://` URL of `database` on this server.
    public func url(database: String) -> String {
        "postgres://\(user):\(password)@127.0.0.1:\(port)/\(database)"
    }

    /// Starts the server (again, after `kill9` or `stop`) and waits until it accepts connections.
    public func start() throws {
        // fsync off: a test's server needs no durability against power loss, and syncs are the slow part.
        try server("pg_ctl", ["-D", dataDirectory, "-l", directory.appendingPathComponent("server.log").path, "-w", "-t", "120",
                              "-o", "-k \(directory.path) -p \(port) -h 127.0.0.1 -c fsync=off -c max_connections=60", "start"])
    }

    /// Creates an empty database.
    public func createDatabase(_ name: String) throws {
        try Self.run("/usr/bin/psql", ["-h", directory.path, "-p", String(port), "-U", user, "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                                       "-c", "CREATE DATABASE \"\(name)\""])
    }

    /// Runs SQL through `psql` on `database` and returns what it printed (unaligned, tuples only).
    public func psql(_ sql: String, database: String) throws -> String {
        try Self.run("/usr/bin/psql", ["-h", directory.path, "-p", String(port), "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1",
                                       "-At", "-c", sql])
    }

    /// Stops the server at once, like a crash (`immediate`: no checkpoint); `start` brings it back.
    public func crash() {
        _ = try? server("pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"])
    }

    /// Stops the server and removes the cluster.
    public func stop() {
        crash()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs a server tool from Debian's PostgreSQL, as `nobody` when we are root.
    @discardableResult
    private func server(_ tool: String, _ arguments: [String]) throws -> String {
        let path = bin + "/" + tool
        if getuid() == 0 { return try Self.run("/usr/sbin/runuser", ["-u", "nobody", "--", path] + arguments) }
        return try Self.run(path, arguments)
    }

    /// The newest installed PostgreSQL's bin directory (`/usr/lib/postgresql/15/bin`).
    private static func binDirectory() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        throw TestServerError("PostgreSQL's server is not installed (no \(root)/*/bin/initdb): run scripts/setup (Debian package postgresql)")
    }

    /// Runs `executable` to its end, its output (stdout and stderr) returned; throws with it on failure.
    ///
    /// Why posix_spawn and not Foundation's Process: pg_ctl leaves the server running in the background with
    /// the descriptors pg_ctl had. Foundation learns of a child's exit from a socket the child inherits, and
    /// (swift-corelibs-foundation #4795) so does every child spawned at the same instant: a server holding
    /// one would hide pg_ctl's exit, or another test's child's, until the server stops. Here the child gets
    /// stdin, stdout and stderr only (`addclosefrom_np`).
    @discardableResult
    private static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("ps-pg-out-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        // Readable by `nobody`, who may write to it through runuser.
        _ = chmod(output.path, 0o666)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_APPEND, 0)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        _ = spawnCloseFrom(&actions, 3)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw TestServerError("\(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS, which Swift does not import (they are macros).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw TestServerError("\((executable as NSString).lastPathComponent) \(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
        return text
    }

    private static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestServerError("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestServerError("bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+): the child closes every descriptor from `from` on.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func spawnCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32

/// A test server that could not be made or started, with the tool's output.
public struct TestServerError: Error, CustomStringConvertible {
    /// What failed.
    public let description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
