import Foundation
import Testing

/// A real Mosquitto broker (Debian's `mosquitto`, which scripts/setup installs) on a free loopback port,
/// with a password file, and `mosquitto_sub` subscribers recording what arrives. Everything runs as child
/// processes under a temporary directory; `stop()` kills whatever is left.
enum MQTTHarness {
    typealias H = DecodeHarness

    /// `mosquitto` lives in /usr/sbin, which a test's PATH may lack.
    static func tool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin"] {
            let candidate = (dir as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw H.HarnessError("\(name) not found: run scripts/setup (Debian packages mosquitto, mosquitto-clients)")
    }

    /// One message as `mosquitto_sub` printed it.
    struct Message: Equatable {
        var retained: Bool
        var topic: String
        var payload: String
    }

    /// The broker: `listener PORT 127.0.0.1`, no anonymous access, users from a password file made by
    /// `mosquitto_passwd`, and persistence saved after every change (`autosave_on_changes`, interval 1), so that
    /// a subscriber's persistent session (clean session off) outlives a SIGKILL: what is published after the
    /// restart waits in the broker for that subscriber, whenever it reconnects.
    final class Broker: @unchecked Sendable {
        let directory: URL
        let port: Int
        private var process: Process?
        private var starts = 0

        /// With `tls`, the listener speaks TLS only, with a server certificate for 127.0.0.1 signed by a
        /// throw-away CA (`caFile`), both made here with the `openssl` CLI.
        init(directory: URL, users: [String: String], tls: Bool = false) throws {
            self.directory = directory
            port = try H.closedLoopbackPort()
            try setUsers(users)
            var tlsLines = ""
            if tls {
                try Self.makeCertificates(in: directory)
                tlsLines = ["cafile ca.pem", "certfile server.pem", "keyfile server.key"].map {
                    let parts = $0.split(separator: " ")
                    return "\(parts[0]) \(directory.appendingPathComponent(String(parts[1])).path)"
                }.joined(separator: "\n")
            }
            // The broker drops root for the `mosquitto` user, which must be able to write its database here.
            let persistence = directory.appendingPathComponent("persistence")
            try FileManager.default.createDirectory(at: persistence, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o777])
            let config = """
                listener \(port) 127.0.0.1
                allow_anonymous false
                password_file \(directory.appendingPathComponent("passwords").path)
                persistence true
                persistence_location \(persistence.path)/
                autosave_interval 1
                autosave_on_changes true
                \(tlsLines)
                """
            try config.write(to: directory.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
        }

        /// The CA that signed the TLS broker's certificate.
        var caFile: String { directory.appendingPathComponent("ca.pem").path }

        private static func makeCertificates(in directory: URL) throws {
            let openssl = try tool("openssl")
            let file = { (name: String) in directory.appendingPathComponent(name).path }
            try "subjectAltName=IP:127.0.0.1\n".write(toFile: file("san.ext"), atomically: true, encoding: .utf8)
            for arguments in [
                ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("ca.key"), "-out", file("ca.pem"),
                 "-days", "2", "-subj", "/CN=PlateStream test CA"],
                ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", file("server.key"), "-out", file("server.csr"),
                 "-subj", "/CN=127.0.0.1"],
                ["x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
                 "-CAcreateserial", "-out", file("server.pem"), "-days", "2", "-extfile", file("san.ext")],
            ] {
                let result = try H.runProcess(openssl, arguments, timeout: 60)
                guard result.status == 0 else { throw H.HarnessError("openssl \(arguments[0]) failed: \(result.stderr)") }
            }
            // Read by the broker after it dropped root.
            for name in ["ca.pem", "server.pem", "server.key"] { _ = chmod(file(name), 0o644) }
        }

        /// Whether the broker's saved database holds the session of `clientID` and a subscription to `topic`
        /// (both are stored as text).
        func hasSaved(clientID: String, subscription topic: String) -> Bool {
            let file = directory.appendingPathComponent("persistence/mosquitto.db")
            guard let data = try? Data(contentsOf: file) else { return false }
            return data.range(of: Data(clientID.utf8)) != nil && data.range(of: Data(topic.utf8)) != nil
        }

        /// Writes the password file.
        private func setUsers(_ users: [String: String]) throws {
            let file = directory.appendingPathComponent("passwords").path
            try? FileManager.default.removeItem(atPath: file)
            let passwd = try tool("mosquitto_passwd")
            for (index, (user, password)) in users.sorted(by: { $0.key < $1.key }).enumerated() {
                let result = try H.runProcess(passwd, (index == 0 ? ["-c"] : []) + ["-b", file, user, password], timeout: 30)
                guard result.status == 0 else { throw H.HarnessError("mosquitto_passwd failed: \(result.stderr)") }
            }
            // The broker drops root for the `mosquitto` user: it must be able to read the file.
            _ = chmod(file, 0o644)
        }

        /// Starts the broker and waits (bounded) until it accepts connections.
        func start() async throws {
            starts += 1
            let log = directory.appendingPathComponent("broker-\(starts).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try tool("mosquitto"))
            process.arguments = ["-c", directory.appendingPathComponent("mosquitto.conf").path]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: log)
            process.standardError = try FileHandle(forWritingTo: log)
            try H.launch(process)
            self.process = process
            let port = port
            let listening = await eventually(timeout: 10) { MQTTHarness.accepts(port: port) }
            guard listening else {
                throw H.HarnessError("mosquitto did not listen on \(port): \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            }
        }

        /// What the broker logged since its last start.
        var log: String {
            (try? String(contentsOf: directory.appendingPathComponent("broker-\(starts).log"), encoding: .utf8)) ?? ""
        }

        /// SIGKILL: the broker dies at once, without a word to its clients.
        func kill9() {
            guard let process else { return }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            self.process = nil
        }

        /// Stops the broker if it runs.
        func stop() { kill9() }
    }

    /// `mosquitto_sub` with QoS 1 and a persistent session (`-c`: clean session off, fixed client id), writing
    /// each message as `MSG <retained> <topic> <payload>` to a file.
    final class Subscriber: @unchecked Sendable {
        let output: URL
        private let process: Process

        init(port: Int, user: String, password: String, clientID: String, topics: [String], output: URL) throws {
            self.output = output
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            process = Process()
            process.executableURL = URL(fileURLWithPath: try tool("mosquitto_sub"))
            process.arguments = ["-h", "127.0.0.1", "-p", String(port), "-u", user, "-P", password, "-i", clientID,
                                 "-c", "-q", "1", "-F", "MSG %r %t %p"] + topics.flatMap { ["-t", $0] }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = try FileHandle(forWritingTo: output)
            try H.launch(process)
        }

        /// The whole output, debug lines included.
        var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

        /// The messages received so far.
        var messages: [Message] { MQTTHarness.messages(in: text) }

        /// Waits (bounded) until the subscription works end to end: publishes a probe on `probeTopic` (which
        /// the subscriber must listen to) as `user` until it arrives. Why not wait for the SUBACK line:
        /// mosquitto_sub flushes its output only when it prints a message.
        func subscribed(port: Int, user: String, password: String, probeTopic: String) async -> Bool {
            guard let pub = try? tool("mosquitto_pub") else { return false }
            return await eventually(timeout: 15) {
                _ = try? H.runProcess(pub, ["-h", "127.0.0.1", "-p", String(port), "-u", user, "-P", password, "-q", "1",
                                            "-t", probeTopic, "-m", "probe"], timeout: 10)
                return self.messages.contains { $0.topic == probeTopic }
            }
        }

        /// Stops the subscriber.
        func stop() {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    /// The messages in `mosquitto_sub -F "MSG %r %t %p"` output (payloads are one line of JSON or a word).
    static func messages(in text: String) -> [Message] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == "MSG" else { return nil }
            return Message(retained: parts[1] == "1", topic: String(parts[2]), payload: String(parts[3]))
        }
    }

    /// The retained messages of `topics` as a new subscriber sees them (`count` of them, waiting at most 5 s).
    static func retained(port: Int, user: String, password: String, topics: [String], count: Int,
                         caFile: String? = nil) throws -> [Message] {
        let result = try H.runProcess(try tool("mosquitto_sub"), [
            "-h", "127.0.0.1", "-p", String(port), "-u", user, "-P", password, "--retained-only", "-C", String(count),
            "-W", "5", "-F", "MSG %r %t %p",
        ] + (caFile.map { ["--cafile", $0] } ?? []) + topics.flatMap { ["-t", $0] }, timeout: 30)
        return messages(in: result.stdout)
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port` right now.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// Polls `condition` until it holds or `timeout` seconds pass; a passing test returns as soon as it holds.
    static func eventually(timeout: Double, _ condition: () throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while true {
            if try condition() { return true }
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
