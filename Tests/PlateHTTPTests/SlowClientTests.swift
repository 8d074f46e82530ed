import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import PlateHTTP
import Testing

/// The read deadlines as a pure state machine: times are plain seconds.
@Suite("Request deadlines (state machine)")
struct RequestDeadlinesTests {
    static let limits = RequestDeadlines.Limits(headerTimeout: 10, bodyTimeout: 20, bodyMinBytesPerSecond: 500)

    @Test("a quiet connection is not timed; a header is, from its first byte")
    func header() {
        var d = RequestDeadlines(limits: Self.limits)
        #expect(d.deadline == nil)
        #expect(d.check(at: 1_000) == .none)
        d.bytesArrived(at: 5)
        d.bytesArrived(at: 9)  // more bytes do not move the deadline: the whole header has 10 s
        #expect(d.deadline == 15)
        #expect(d.check(at: 14.9) == .none)
        #expect(d.check(at: 15) == .timeOut("the request header did not arrive within 10 s"))
        #expect(d.phase == .timedOut)
    }

    @Test("a body earns a second per 500 bytes after 20 s of grace; server pauses do not count")
    func body() {
        var d = RequestDeadlines(limits: Self.limits)
        d.bytesArrived(at: 0)
        d.headReceived(at: 1)
        #expect(d.deadline == 21)
        d.bodyReceived(5_000)
        #expect(d.deadline == 31)
        d.serverPaused(for: 4)
        #expect(d.deadline == 35)
        #expect(d.check(at: 34) == .none)
        guard case .timeOut(let reason) = d.check(at: 35) else { Issue.record("no timeout"); return }
        #expect(reason == "the request body arrived slower than 500 bytes/s after 20 s of grace (5000 bytes received)")
    }

    @Test("a complete request is not timed while it is answered; the next one starts quiet")
    func answering() {
        var d = RequestDeadlines(limits: Self.limits)
        d.bytesArrived(at: 0)
        d.headReceived(at: 1)
        d.requestEnded()
        #expect(d.deadline == nil)
        #expect(d.check(at: 10_000) == .none)
        d.responseEnded()
        #expect(d.phase == .idle)
        d.bytesArrived(at: 10_001)
        #expect(d.deadline == 10_011)
    }

    @Test("no floor rate: the body has its grace and no more")
    func noFloor() {
        var d = RequestDeadlines(limits: .init(headerTimeout: 10, bodyTimeout: 20, bodyMinBytesPerSecond: 0))
        d.headReceived(at: 0)
        d.bodyReceived(1_000_000)
        #expect(d.deadline == .infinity)
    }
}

/// Slow and greedy clients against a live server on loopback: each gets its clear answer, and a normal
/// client is served meanwhile. No timing assertions: the deadlines are short so the tests end soon, and
/// every wait is bounded only to keep a broken build from hanging the run.
@Suite("Slow and greedy clients", .serialized)
struct SlowClientTests {
    static func configuration(header: Double = 30, body: Double = 30, floor: Double = 500, rate: Int? = nil) -> SnapshotServerConfiguration {
        var configuration = Harness.keyed(rate: rate)
        configuration.headerTimeoutSeconds = header
        configuration.bodyTimeoutSeconds = body
        configuration.bodyMinBytesPerSecond = floor
        return configuration
    }

    static func normalCall(_ server: LiveServer) async throws -> LiveResponse {
        try await server.post("/v1/plate-reader/", multipart: .with { $0.file("upload", TestImages.png(width: 64, height: 48)) },
                              headers: [("Authorization", "Token pr-token-2")])
    }

    @Test("slowloris: a header trickled byte by byte gets 408 and is closed; a normal client is served meanwhile")
    func slowloris() async throws {
        try await Harness(configuration: Self.configuration(header: 1)).run { server in
            let slow = try RawConnection(port: server.port)
            let answer = Task {
                try await offPool { try slow.trickle("POST /v1/plate-reader/ HTTP/1.1\r\nHost: x\r\nX-Slow: " + String(repeating: "a", count: 2_000),
                                                     every: 0.05) }
            }
            #expect(try await Self.normalCall(server).status == 200)
            let text = try await answer.value
            #expect(text.hasPrefix("HTTP/1.1 408"), "\(text)")
            #expect(text.contains("the request header did not arrive within 1 s"), "\(text)")
            #expect(text.lowercased().contains("connection: close"))
        }
    }

    @Test("a body trickled below the floor rate gets 408 and is closed; a normal client is served meanwhile")
    func trickledBody() async throws {
        try await Harness(configuration: Self.configuration(body: 1, floor: 100)).run { server in
            let slow = try RawConnection(port: server.port)
            let boundary = "b0undary"
            let head = "POST /v1/plate-reader/ HTTP/1.1\r\nHost: x\r\nAuthorization: Token pr-token-2\r\n"
                + "Content-Type: multipart/form-data; boundary=\(boundary)\r\nContent-Length: 100000\r\n\r\n"
            try slow.send(head)
            // 20 bytes a second: a fifth of the floor.
            let answer = Task { try await offPool { try slow.trickle("--\(boundary)\r\n" + String(repeating: "a", count: 5_000), every: 0.05) } }
            #expect(try await Self.normalCall(server).status == 200)
            let text = try await answer.value
            #expect(text.hasPrefix("HTTP/1.1 408"), "\(text)")
            #expect(text.contains("the request body arrived slower than 100 bytes/s"), "\(text)")
        }
    }

    @Test("a fast upload is not cut off by the body deadline, however short its grace")
    func fastBodyPasses() async throws {
        try await Harness(configuration: Self.configuration(body: 0.001, floor: 1)).run { server in
            let status = try await Self.normalCall(server).status
            #expect(status == 200)
        }
    }

    @Test("10 000 idle connections: the server keeps answering, with bounded memory")
    func tenThousandIdleConnections() async throws {
        // The server's side of 10 000 connections needs 10 000 descriptors in this process (the clients live in a
        // child process): raise the soft limit to the hard one, as `platestream` does at start-up.
        let limit = raiseOpenFileLimit()
        try #require(limit >= 10_500, "RLIMIT_NOFILE hard limit \(limit) is too low for 10 000 connections")
        try await Harness(configuration: Self.configuration()).run { server in
            #expect(try await Self.normalCall(server).status == 200)
            let before = residentBytes()
            let descriptors = openDescriptors()
            let clients = try await offPool { try IdleClients(port: server.port, count: 10_000) }
            #expect(clients.opened == 10_000, "idle-clients.py: \(clients.firstLine)")
            // Served while 10 000 connections sit open.
            for _ in 0..<5 { #expect(try await Self.normalCall(server).status == 200) }
            let grown = residentBytes() - before
            try await offPool { clients.stop() }
            #expect(grown < 400 * 1024 * 1024, "resident memory grew by \(grown / 1024 / 1024) MiB for 10 000 idle connections")
            // The server lets go of every connection once its client has gone (a connection it still held when
            // stopped would be closed too, by `ClosingHTTP1Channel`; that is `ServerStopTests`).
            let deadline = Date(timeIntervalSinceNow: 120)
            while openDescriptors() > descriptors + 50, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(openDescriptors() <= descriptors + 50, "the server still holds \(openDescriptors() - descriptors) connections")
        }
    }

    @Test("a flood past the plan's rate limit: 429 for the flooding account, 200 for another account meanwhile")
    func rateFlood() async throws {
        let harness = Harness(configuration: Self.configuration(rate: 5))  // the test clock stands still: one window
        try await harness.run { server in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<200 {
                    group.addTask { try await QuotaAndRateTests.call("platerecognizer", server).status }
                }
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
            #expect(statuses.filter { $0 == 200 }.count == 5)
            #expect(statuses.filter { $0 == 429 }.count == 195)
            #expect(try await Self.normalCall(server).status == 200, "another account is not throttled")
        }
    }
}

/// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the new soft limit.
func raiseOpenFileLimit() -> Int {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    return Int(limit.rlim_cur)
}

/// This process's resident memory in bytes (/proc/self/statm).
func residentBytes() -> Int {
    let text = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
    let pages = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// A blocking TCP connection to 127.0.0.1, for writing requests byte by byte.
final class RawConnection: @unchecked Sendable {
    private let fd: Int32
    /// The socket's descriptor.
    var descriptor: Int32 { fd }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        // Bounded: a server that never answers fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var noSignal: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noSignal, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw POSIXError(.EPIPE) }
    }

    /// Sends `text` one byte per `interval` seconds until the server answers or closes; returns what it said.
    func trickle(_ text: String, every interval: Double) throws -> String {
        for byte in text.utf8 {
            if readable() { break }
            guard Glibc.send(fd, [byte], 1, Int32(MSG_NOSIGNAL)) == 1 else { break }
            Thread.sleep(forTimeInterval: interval)
        }
        return readToEnd()
    }

    private func readable() -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0
    }

    private func readToEnd() -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Runs blocking work (sockets, sleeps, a child's pipe) on a thread of its own. Why: Swift's cooperative pool has
/// one thread per core (2 here), and the servers under test answer on it; a test that blocks one there while a
/// test beside it blocks the other stalls both until one gives up (seen under load: a trickled body never got its
/// 408, since time the server cannot read does not count against the client).
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// This process's open file descriptors.
func openDescriptors() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
}

/// `scripts/idle-clients.py`: a child process holding `count` idle connections to the server.
final class IdleClients: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    let opened: Int
    /// What the script said first (`READY <opened>`, or why it failed).
    let firstLine: String

    init(port: Int, count: Int) throws {
        let output = Pipe()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/idle-clients.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script.path, "--port", "\(port)", "--count", "\(count)"]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        firstLine = String(decoding: output.fileHandleForReading.readLine(), as: UTF8.self)
        opened = firstLine.hasPrefix("READY ") ? Int(firstLine.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 : 0
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

extension FileHandle {
    /// Reads up to and including the next newline (or to the end).
    fileprivate func readLine() -> [UInt8] {
        var line = [UInt8]()
        while let byte = try? read(upToCount: 1), let first = byte.first {
            line.append(first)
            if first == UInt8(ascii: "\n") { break }
        }
        return line
    }
}
