import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import PlateHTTP
import Testing

/// A server stopped while connections are still arriving. NIO drops the connections its accept sequence still
/// holds when the server stops; unfinished, each one used to stop the whole process with "Deinited
/// NIOAsyncWriter without calling finish()" (swift-nio issues 2637 and 2813). The 10 000 idle connections
/// test met it twice. `ClosingHTTP1Channel` finishes and closes them instead.
@Suite("A server stopped during a burst of connections", .serialized)
struct ServerStopTests {
    @Test("stopping the server while a burst of connections is being accepted closes every one, and the process lives on")
    func stopDuringBurst() async throws {
        for round in 0..<5 {
            // Return at once: the server is cancelled with part of the burst still in NIO's hands.
            let connections = try await Harness().run { server in
                try (0..<128).map { _ in try RawConnection(port: server.port) }
            }
            let open = try await RawConnection.stillOpen(connections, at: Date(timeIntervalSinceNow: 60))
            #expect(open.isEmpty, "round \(round): connections \(open) were still open after the server stopped")
        }
    }
}

extension RawConnection {
    /// Which of `connections` the server has not closed yet at `deadline` (only a broken server makes a test wait
    /// that long). Polls without blocking: see `offPool`.
    static func stillOpen(_ connections: [RawConnection], at deadline: Date) async throws -> [Int] {
        var open = Array(connections.indices)
        while true {
            open.removeAll { connections[$0].closedByServer() }
            if open.isEmpty || Date() >= deadline { return open }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Whether the server has closed the connection (end of stream or reset), reading and discarding anything it
    /// sent; never blocks.
    func closedByServer() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 0) > 0 else { return false }
            if recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT)) <= 0 { return true }
        }
    }
}
