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
            let deadline = Date(timeIntervalSinceNow: 60)   // for all of them: only a broken server waits it out
            let open = connections.indices.filter { !connections[$0].closedByServer(before: deadline) }
            #expect(open.isEmpty, "round \(round): connections \(open) were still open after the server stopped")
        }
    }
}

extension RawConnection {
    /// Waits until the server closes the connection (end of stream or reset), reading and discarding anything it
    /// sends; false when it is still open at `deadline`.
    func closedByServer(before deadline: Date) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while deadline.timeIntervalSinceNow > 0 {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1_000))) > 0 else { return false }
            if recv(descriptor, &buffer, buffer.count, 0) <= 0 { return true }
        }
        return false
    }
}
