import Foundation
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 child channel, except that a connection the server accepted but never got to serve
/// is finished and closed instead of stopping the process.
///
/// Why: NIO hands each accepted connection, already wrapped in a `NIOAsyncChannel`, from the event loop to
/// the server's accept loop through an async sequence. When the server stops (the serving task is cancelled, or
/// a graceful shutdown closes the listening socket) during a burst of accepts, that sequence drops the
/// connections it still buffers and those whose setup completes after it ended (swift-nio issues 2637 and
/// 2813, open in 2.101). Nobody calls `executeThenClose` on them, so their outbound `NIOAsyncWriter` is never
/// finished, and its deinit is a `preconditionFailure` ("Deinited NIOAsyncWriter without calling finish()"):
/// the whole process stops, release builds too, usually in `channelActive`, where NIO lets go of its last
/// reference to the writer. Here each connection travels in an `AcceptedConnection` box: when the box goes
/// unserved, its deinit hands the connection to a task that finishes the writer and closes the socket, and
/// that task holds the writer until it is finished, so NIO's reference is never the last one.
struct ClosingHTTP1Channel: ServerChildChannel {
    /// The HTTP/1.1 channel that does the work.
    let http1: HTTP1Channel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<AcceptedConnection> {
        http1.setup(channel: channel, logger: logger).map { AcceptedConnection($0) }
    }

    func handle(value: AcceptedConnection, logger: Logger) async {
        value.markServed()
        await http1.handle(value: value.connection, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// Hummingbird's `.http1(configuration:)`, through `ClosingHTTP1Channel`.
    static func closingHTTP1(configuration: HTTP1Channel.Configuration) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in ClosingHTTP1Channel(http1: HTTP1Channel(responder: responder, configuration: configuration)) }
    }
}

/// One accepted connection on its way from the event loop to the accept loop (see `ClosingHTTP1Channel`).
final class AcceptedConnection: ServerChildChannelValue, @unchecked Sendable {
    /// The connection, as Hummingbird's HTTP/1.1 channel wraps it.
    let connection: HTTP1Channel.Value
    private let lock = NSLock()
    private var served = false

    init(_ connection: HTTP1Channel.Value) { self.connection = connection }

    /// The underlying channel.
    var channel: any Channel { connection.channel }

    /// The accept loop took it: `executeThenClose` will finish and close it.
    func markServed() { lock.withLock { served = true } }

    deinit {
        guard !lock.withLock({ served }) else { return }
        // The task keeps the writer alive until executeThenClose has finished it and closed the channel.
        Task { [connection] in try? await connection.executeThenClose { _, _ in } }
    }
}
