import AsyncHTTPClient
import Foundation
import Hummingbird
import PlateCore
@testable import PlateHTTP
import PlateTesting
import Testing

/// `count` chunks of `chunkSize` bytes, made as they are pulled, counting what was pulled:
/// a large upload that never sits in memory on the client side either.
final class CountingChunks: AsyncSequence, @unchecked Sendable {
    typealias Element = ByteBuffer
    let count: Int
    let chunk: ByteBuffer
    private let lock = NSLock()
    private var pulledChunks = 0
    var pulled: Int { lock.withLock { pulledChunks } }

    init(count: Int, chunkSize: Int, prefix: Data = Data()) {
        self.count = count
        var buffer = ByteBuffer(bytes: [UInt8](repeating: 0x41, count: chunkSize))
        if !prefix.isEmpty { buffer = ByteBuffer(bytes: prefix + Data(repeating: 0x41, count: chunkSize - prefix.count)) }
        self.chunk = buffer
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let owner: CountingChunks
        mutating func next() async -> ByteBuffer? {
            let index = owner.lock.withLock { () -> Int in
                owner.pulledChunks += 1
                return owner.pulledChunks
            }
            return index <= owner.count ? owner.chunk : nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(owner: self) }
}

@Suite("Uploads too large are refused while they stream in")
struct StreamingLimitTests {
    static let megabyte = 1024 * 1024

    /// A 50 MB multipart upload whose first bytes open the image part.
    static func fiftyMegabytes(boundary: String, field: String) -> CountingChunks {
        let head = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"big.jpg\"\r\n\r\n".utf8)
        return CountingChunks(count: 50, chunkSize: megabyte, prefix: head)
    }

    @Test("a 50 MB upload with Content-Length gets each API's refusal, and the server keeps serving", arguments: [
        ("platerecognizer", "/v1/plate-reader/", "upload", 413),
        ("openalpr", "/v3/recognize?secret_key=\(Harness.openALPRKey)&country=us", "image", 400),
        ("nhn", NHNAPITests.path, "image", 200),
    ])
    func fiftyMegabyteUpload(api: String, path: String, field: String, status: Int) async throws {
        let harness = Harness()
        try await harness.run { server in
            let boundary = "bigboundary"
            var request = HTTPClientRequest(url: server.base + path)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
            request.headers.add(name: "Authorization", value: api == "nhn" ? Harness.nhnSecret : "Token \(Harness.token)")
            request.body = .stream(Self.fiftyMegabytes(boundary: boundary, field: field), length: .known(Int64(50 * Self.megabyte)))
            let response = try await server.send(request)
            #expect(response.status == status, "\(response.body)")
            let json = try response.json()
            switch api {
            case "platerecognizer": #expect(json == .object([("detail", .string("Request body is larger than \(harness.configuration.limits.maxBodyBytes) bytes."))]))
            case "openalpr": #expect(json["error"]?.string?.contains("larger than") == true)
            default: #expect(json["header"]?["resultCode"]?.int == 4_131_000)
            }
            #expect(harness.recognizer.callCount == 0)
            let good = try await QuotaAndRateTests.call(api, server)
            #expect(good.status == 200)
        }
    }

    @Test("Huawei: a 50 MB JSON body is AIS.0103")
    func huaweiFiftyMegabytes() async throws {
        let harness = Harness()
        try await harness.run { server in
            var request = HTTPClientRequest(url: server.base + HuaweiAPITests.path)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "X-Auth-Token", value: Harness.huaweiToken)
            request.body = .stream(CountingChunks(count: 50, chunkSize: Self.megabyte, prefix: Data(#"{"image":""#.utf8)),
                                   length: .known(Int64(50 * Self.megabyte)))
            let response = try await server.send(request)
            #expect(response.status == 400)
            #expect(try response.json() == .object([("error_code", .string("AIS.0103")),
                                                    ("error_msg", .string("The image size does not meet the requirements."))]))
            #expect(try await QuotaAndRateTests.call("huawei", server).status == 200)
        }
    }

    @Test("a chunked upload with no Content-Length is refused mid-stream: the answer comes while the client is still sending")
    func refusedWhileStreaming() async throws {
        // A 1 MB image limit keeps the bytes that must pass through the parser few, so the answer is quick
        // on a loaded machine too; the timeout only stops a server that never answers from hanging the run.
        var configuration = Harness.keyed()
        configuration.limits.maxImageBytes = Self.megabyte
        let harness = Harness(configuration: configuration)
        try await harness.run { server in
            let boundary = "streamboundary"
            let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
            var request = HTTPClientRequest(url: server.base + "/v1/plate-reader/")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
            request.headers.add(name: "Authorization", value: "Token \(Harness.token)")
            request.body = .stream(stream, length: .unknown)
            continuation.yield(ByteBuffer(string: "--\(boundary)\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.jpg\"\r\n\r\n"))
            // 3 MB, past the ~1.4 MB limit, and then the stream stays open: a server that
            // collected the whole body before checking would never answer.
            let chunk = ByteBuffer(bytes: [UInt8](repeating: 0x42, count: Self.megabyte / 4))
            for _ in 0..<12 { continuation.yield(chunk) }
            let response = try await server.send(request, timeout: 120)
            #expect(response.status == 413)
            #expect(try response.json() == .object([("detail", .string("File \"upload\" is larger than \(Base64.encodedLength(Self.megabyte) + 1024) bytes."))]),
                    "the image part passed its limit before the body passed its own")
            continuation.finish()
            #expect(try await QuotaAndRateTests.call("platerecognizer", server).status == 200)
        }
    }

    @Test("a chunk that passes both the body's and the image part's limit names the image part, whatever the chunking")
    func partLimitNamedFirst() throws {
        let limits = FormLimits(maxBodyBytes: 2 * Self.megabyte, maxFileBytes: Self.megabyte, maxFieldBytes: 1024, multipart: .init())
        let head = Array("--b\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.jpg\"\r\n\r\n".utf8)
        let body = head + [UInt8](repeating: 0x42, count: 3 * Self.megabyte)
        for chunkSize in [3 * Self.megabyte + head.count, 2 * Self.megabyte, 700_000, 65_536] {
            var reader = MultipartFormReader(boundary: "b", fileFields: ["upload"], limits: limits)
            #expect(throws: BodyError.fileTooLarge("upload", Self.megabyte), "chunks of \(chunkSize)") {
                var offset = 0
                while offset < body.count {
                    try reader.feed(body[offset..<min(offset + chunkSize, body.count)])
                    offset += chunkSize
                }
            }
        }
        // A body past its limit while no part passed its own (a file nobody asked for is read past) is named as the body.
        var reader = MultipartFormReader(boundary: "b", fileFields: ["upload"], limits: limits)
        let other = Array("--b\r\nContent-Disposition: form-data; name=\"other\"; filename=\"a.jpg\"\r\n\r\n".utf8)
        #expect(throws: BodyError.tooLarge(2 * Self.megabyte)) {
            try reader.feed(other + [UInt8](repeating: 0x42, count: 3 * Self.megabyte))
        }
    }

    @Test("the body reader stops pulling from the network once the limit is passed")
    func readerStopsAtLimit() async throws {
        let boundary = "b"
        let chunks = Self.fiftyMegabytes(boundary: boundary, field: "upload")
        let limits = FormLimits(maxBodyBytes: 5 * Self.megabyte, maxFileBytes: 4 * Self.megabyte, maxFieldBytes: 1024,
                                multipart: .init())
        await #expect(throws: BodyError.fileTooLarge("upload", 4 * Self.megabyte)) {
            _ = try await RequestBodyReader.readMultipart(chunks, boundary: boundary, fileFields: ["upload"], limits: limits)
        }
        #expect(chunks.pulled <= 5, "pulled \(chunks.pulled) MB of 50: stops within a chunk of the limit")

        let plain = CountingChunks(count: 50, chunkSize: Self.megabyte)
        await #expect(throws: BodyError.tooLarge(3 * Self.megabyte)) {
            _ = try await RequestBodyReader.collect(plain, limit: 3 * Self.megabyte)
        }
        #expect(plain.pulled <= 4)
    }

    @Test("a Content-Length over the limit is refused before any body byte is read")
    func contentLengthRefusedUpFront() async throws {
        let harness = Harness()
        try await harness.run { server in
            // The announced length is huge but only a few bytes follow: an answer proves nothing was awaited.
            var request = HTTPClientRequest(url: server.base + "/v1/plate-reader/")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=x")
            request.headers.add(name: "Authorization", value: "Token \(Harness.token)")
            let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
            request.body = .stream(stream, length: .known(Int64(1 << 30)))
            continuation.yield(ByteBuffer(string: "--x\r\n"))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
            #expect(response.status.code == 413)
            // The client then gives up on its announced gigabyte; the server shrugs that off.
            continuation.finish()
            _ = try? await response.body.collect(upTo: 1 << 20)
            #expect(try await QuotaAndRateTests.call("platerecognizer", server).status == 200)
        }
    }
}
