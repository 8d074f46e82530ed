import Foundation
import Hummingbird
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One request as the receiver saw it.
struct ReceivedRequest: Sendable {
    var headers: [String: String]   // lower-cased names
    var body: [UInt8]

    var contentType: String { headers["content-type"] ?? "" }
    var idempotencyKey: String? { headers["idempotency-key"] }

    struct Unexpected: Error, CustomStringConvertible {
        let description: String
    }

    /// The JSON envelope text, taken from whichever format carried it: the form field `json` (Stream),
    /// the body (Snapshot), or the multipart field `json` (with image).
    func envelopeJSON() throws -> Data {
        let type = contentType.lowercased()
        if type.hasPrefix("application/x-www-form-urlencoded") {
            guard let json = FormReader.parse(body)["json"] else { throw Unexpected(description: "no json form field") }
            return Data(json.utf8)
        }
        if type.hasPrefix("application/json") { return Data(body) }
        if type.hasPrefix("multipart/form-data") {
            let parts = try MultipartReader.parse(body, contentType: contentType)
            guard let json = parts.first(where: { $0.name == "json" }) else { throw Unexpected(description: "no json part") }
            return Data(json.body)
        }
        throw Unexpected(description: "unexpected content type \(contentType)")
    }
}

/// The receiving end of a webhook: records every request and answers with the status `decide` picks.
actor WebhookReceiver {
    private(set) var attempts: [ReceivedRequest] = []
    private(set) var accepted: [ReceivedRequest] = []
    private var decide: @Sendable (ReceivedRequest) -> Int

    init(decide: @escaping @Sendable (ReceivedRequest) -> Int = { _ in 200 }) {
        self.decide = decide
    }

    func setDecision(_ decide: @escaping @Sendable (ReceivedRequest) -> Int) { self.decide = decide }

    func handle(_ request: ReceivedRequest) -> Int {
        attempts.append(request)
        let status = decide(request)
        if (200..<300).contains(status) { accepted.append(request) }
        return status
    }

    var acceptedKeys: [String] { accepted.compactMap(\.idempotencyKey) }
}

/// A real Hummingbird server on loopback, running a `WebhookReceiver` at `/hook`.
struct RunningReceiver {
    let port: Int
    private let task: Task<Void, Never>

    var url: String { "http://127.0.0.1:\(port)/hook" }

    struct StartFailed: Error {}

    /// Starts a server on `port` (0: any free port) and returns once it listens.
    static func start(_ receiver: WebhookReceiver, port: Int = 0) async throws -> RunningReceiver {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 64 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let status = await receiver.handle(ReceivedRequest(headers: headers, body: Array(buffer.readableBytesView)))
            return Response(status: .init(code: status))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? -1) })
        let task = Task {
            do { try await app.run() } catch {}
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else {
            task.cancel()
            throw StartFailed()
        }
        return RunningReceiver(port: bound, task: task)
    }

    /// Stops the server and waits until it no longer listens.
    func stop() async {
        task.cancel()
        await task.value
    }
}

/// A loopback port held by a bound socket that does not listen: connections to it are refused (a target
/// that is down) and nobody else can take the port until `release()`, when a receiver can start on it.
final class ReservedPort {
    let port: Int
    private var descriptor: Int32

    init() throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        precondition(fd >= 0, "socket failed")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        precondition(bound, "bind failed")
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    func release() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    deinit { release() }
}
