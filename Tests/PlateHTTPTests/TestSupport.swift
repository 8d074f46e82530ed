import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import PlateCore
@testable import PlateHTTP
import PlateTesting
import Testing

// MARK: - JSON as the wire has it

/// JSON parsed keeping what `JSONSerialization` loses: integers apart from reals, and key order.
indirect enum WireJSON: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([WireJSON])
    case object([(String, WireJSON)])

    static func == (a: WireJSON, b: WireJSON) -> Bool { a.description == b.description }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .int(let i): "\(i)"
        case .double(let d): "\(d)"
        case .string(let s): "\"\(s)\""
        case .array(let a): "[" + a.map(\.description).joined(separator: ",") + "]"
        case .object(let o): "{" + o.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
        }
    }

    subscript(_ key: String) -> WireJSON? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    subscript(_ index: Int) -> WireJSON? {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return nil
    }

    var keys: [String] { if case .object(let m) = self { m.map(\.0) } else { [] } }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .int(let i) = self { i } else { nil } }
    var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
    var array: [WireJSON]? { if case .array(let a) = self { a } else { nil } }
    var bool: Bool? { if case .bool(let b) = self { b } else { nil } }

    static func parse(_ text: String) throws -> WireJSON {
        var parser = Parser(bytes: Array(text.utf8))
        let value = try parser.value()
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw ParseError(message: "trailing text", text: text) }
        return value
    }

    struct ParseError: Error { var message: String; var text: String }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func skipSpace() { while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 } }

        mutating func fail(_ message: String) -> ParseError {
            ParseError(message: "\(message) at \(index)", text: String(decoding: bytes, as: UTF8.self))
        }

        mutating func literal(_ word: String) throws {
            let w = Array(word.utf8)
            guard index + w.count <= bytes.count, Array(bytes[index..<index + w.count]) == w else { throw fail("expected \(word)") }
            index += w.count
        }

        mutating func value() throws -> WireJSON {
            skipSpace()
            guard index < bytes.count else { throw fail("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                index += 1
                var items: [WireJSON] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array([]) }
                while true {
                    items.append(try value())
                    skipSpace()
                    guard index < bytes.count else { throw fail("unterminated array") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    guard bytes[index] == UInt8(ascii: "]") else { throw fail("expected , or ]") }
                    index += 1
                    return .array(items)
                }
            case UInt8(ascii: "{"):
                index += 1
                var members: [(String, WireJSON)] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object([]) }
                while true {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected :") }
                    index += 1
                    members.append((key, try value()))
                    skipSpace()
                    guard index < bytes.count else { throw fail("unterminated object") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    guard bytes[index] == UInt8(ascii: "}") else { throw fail("expected , or }") }
                    index += 1
                    return .object(members)
                }
            default:
                let start = index
                while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                if !text.contains("."), !text.contains("e"), !text.contains("E"), let i = Int(text) { return .int(i) }
                guard let d = Double(text) else { throw fail("bad number \(text)") }
                return .double(d)
            }
        }

        mutating func string() throws -> String {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected string") }
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let c = bytes[index]
                index += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if c == UInt8(ascii: "\\") {
                    guard index < bytes.count else { break }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        let hex = String(decoding: bytes[index..<min(index + 4, bytes.count)], as: UTF8.self)
                        index += 4
                        out += Array(String(UnicodeScalar(UInt32(hex, radix: 16) ?? 0x3F) ?? "?").utf8)
                    default: out.append(e)
                    }
                } else {
                    out.append(c)
                }
            }
            throw fail("unterminated string")
        }
    }
}

// MARK: - Shapes

/// The JSON type a field must have.
indirect enum Shape: Sendable {
    case string, int, number, bool
    case nullable(Shape)
    case array(Shape)
    /// An object with exactly these keys, in this order.
    case object([(String, Shape)])
    /// An object with at least these keys (others allowed).
    case objectWith([(String, Shape)])
    case any
}

/// Every place where `value` does not have `shape`, as `path: problem`.
func mismatches(_ value: WireJSON, _ shape: Shape, path: String = "$") -> [String] {
    switch (shape, value) {
    case (.any, _): return []
    case (.nullable, .null): return []
    case (.nullable(let inner), _): return mismatches(value, inner, path: path)
    case (.string, .string), (.int, .int), (.bool, .bool), (.number, .int), (.number, .double): return []
    case (.array(let inner), .array(let items)):
        return items.enumerated().flatMap { mismatches($0.element, inner, path: "\(path)[\($0.offset)]") }
    case (.object(let fields), .object(let members)):
        var problems: [String] = []
        if members.map(\.0) != fields.map(\.0) { problems.append("\(path): keys \(members.map(\.0)) != \(fields.map(\.0))") }
        for (key, fieldShape) in fields {
            if let member = members.first(where: { $0.0 == key }) { problems += mismatches(member.1, fieldShape, path: "\(path).\(key)") }
        }
        return problems
    case (.objectWith(let fields), .object(let members)):
        return fields.flatMap { key, fieldShape in
            guard let member = members.first(where: { $0.0 == key }) else { return ["\(path).\(key): missing"] }
            return mismatches(member.1, fieldShape, path: "\(path).\(key)")
        }
    default:
        return ["\(path): expected \(shape), got \(value)"]
    }
}

func expectShape(_ value: WireJSON, _ shape: Shape, sourceLocation: SourceLocation = #_sourceLocation) {
    let problems = mismatches(value, shape)
    #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))\nin \(value)", sourceLocation: sourceLocation)
}

// MARK: - Images

/// Small images in real container formats, made here so the tests need no files.
enum TestImages {
    /// A valid PNG (stored deflate blocks) of `width` × `height` grey pixels.
    static func png(width: Int, height: Int) -> Data {
        var raw = [UInt8]()
        for _ in 0..<height { raw.append(0); raw += [UInt8](repeating: 0x80, count: width * 3) }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, raw.count - offset)
            let last: UInt8 = offset + n == raw.count ? 1 : 0
            zlib += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset..<offset + n]
            offset += n
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        zlib += be32(b << 16 | a)
        return pngContainer(width: width, height: height, idat: zlib)
    }

    /// A PNG whose header declares `width` × `height` but which holds almost nothing: the
    /// "decompression bomb" header case.
    static func pngDeclaring(width: Int, height: Int) -> Data {
        pngContainer(width: width, height: height, idat: [0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 1])
    }

    private static func pngContainer(width: Int, height: Int, idat: [UInt8]) -> Data {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func chunk(_ type: String, _ data: [UInt8]) {
            let typed = Array(type.utf8) + data
            out += be32(UInt32(data.count)) + typed + be32(crc32(typed))
        }
        chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [8, 2, 0, 0, 0])
        chunk("IDAT", idat)
        chunk("IEND", [])
        return Data(out)
    }

    /// A minimal baseline JPEG container: SOI, SOF0 declaring the size, a tiny scan, EOI.
    static func jpeg(width: Int, height: Int) -> Data {
        var out: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
        out += [0xFF, 0xC0, 0x00, 0x11, 0x08] + be16(UInt16(height)) + be16(UInt16(width))
        out += [0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]
        out += [0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3F, 0x00]
        out += [UInt8](repeating: 0x55, count: 64)
        out += [0xFF, 0xD9]
        return Data(out)
    }

    /// A WebP (VP8L) header declaring the size.
    static func webp(width: Int, height: Int) -> Data {
        let bits = UInt32(width - 1) | UInt32(height - 1) << 14
        var out = Array("RIFF".utf8) + [40, 0, 0, 0] + Array("WEBPVP8L".utf8) + [20, 0, 0, 0, 0x2F]
        out += [UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24)]
        out += [UInt8](repeating: 0, count: 16)
        return Data(out)
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// A real-enough decoder for tests: reads PNG, JPEG and WebP headers as PlateVision's
/// `ImageHeader` does, refuses truncated files (no IEND / EOI) as `ImageCodec` does, and
/// "decodes" to a grey image of the declared size. Counts decode calls.
final class TestDecoder: ImageDecoding, @unchecked Sendable {
    private let lock = NSLock()
    private var decodes = 0
    var decodeCount: Int { lock.withLock { decodes } }

    func header(of data: Data) -> ImageHeaderInfo? {
        let b = [UInt8](data.prefix(4096))
        if b.count >= 24, b[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
            let w = Int(b[16]) << 24 | Int(b[17]) << 16 | Int(b[18]) << 8 | Int(b[19])
            let h = Int(b[20]) << 24 | Int(b[21]) << 16 | Int(b[22]) << 8 | Int(b[23])
            return w > 0 && h > 0 ? ImageHeaderInfo(format: .png, width: w, height: h) : nil
        }
        if b.count >= 4, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF {
            var i = 2
            while i + 9 < b.count, b[i] == 0xFF {
                let marker = b[i + 1], length = Int(b[i + 2]) << 8 | Int(b[i + 3])
                if marker == 0xC0 || marker == 0xC2 {
                    let h = Int(b[i + 5]) << 8 | Int(b[i + 6]), w = Int(b[i + 7]) << 8 | Int(b[i + 8])
                    return w > 0 && h > 0 ? ImageHeaderInfo(format: .jpeg, width: w, height: h) : nil
                }
                i += 2 + length
            }
            return nil
        }
        if b.count >= 30, b[0..<4] == Array("RIFF".utf8)[...], b[8..<16] == Array("WEBPVP8L".utf8)[...] {
            let bits = UInt32(b[21]) | UInt32(b[22]) << 8 | UInt32(b[23]) << 16 | UInt32(b[24]) << 24
            return ImageHeaderInfo(format: .webp, width: Int(bits & 0x3FFF) + 1, height: Int(bits >> 14 & 0x3FFF) + 1)
        }
        return nil
    }

    struct Truncated: Error {}

    func decode(_ data: Data) throws -> Image {
        lock.withLock { decodes += 1 }
        guard let header = header(of: data) else { throw Truncated() }
        switch header.format {
        case .png: guard data.suffix(12).range(of: Data("IEND".utf8)) != nil else { throw Truncated() }
        case .jpeg: guard data.suffix(2) == Data([0xFF, 0xD9]) else { throw Truncated() }
        default: break
        }
        return Image(width: header.width, height: header.height, format: .bgr24)
    }
}

// MARK: - Requests

/// A multipart/form-data body.
struct MultipartBody {
    var boundary = "----platestream\(UInt32.random(in: 0...UInt32.max))"
    var parts: [(headers: String, data: Data)] = []

    mutating func field(_ name: String, _ value: String) {
        parts.append(("Content-Disposition: form-data; name=\"\(name)\"\r\n", Data(value.utf8)))
    }

    mutating func file(_ name: String, filename: String = "car.jpg", contentType: String = "image/jpeg", _ data: Data) {
        parts.append(("Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n", data))
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    var data: Data {
        var out = Data()
        for part in parts {
            out += Data("--\(boundary)\r\n\(part.headers)\r\n".utf8)
            out += part.data
            out += Data("\r\n".utf8)
        }
        out += Data("--\(boundary)--\r\n".utf8)
        return out
    }
}

/// What a live request returned.
struct LiveResponse {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> WireJSON {
        do {
            return try WireJSON.parse(body)
        } catch {
            Issue.record("not JSON (\(status)): \(body.prefix(500))", sourceLocation: sourceLocation)
            throw error
        }
    }
}

/// A server running on a free loopback port, and an AsyncHTTPClient to call it with.
struct LiveServer: Sendable {
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: Data? = nil,
                 timeout: Int64 = 30) async throws -> LiveResponse {
        var request = HTTPClientRequest(url: base + path)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        return try await send(request, timeout: timeout)
    }

    func send(_ request: HTTPClientRequest, timeout: Int64 = 30) async throws -> LiveResponse {
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        let body = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return LiveResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                            body: String(buffer: body))
    }

    func post(_ path: String, multipart: MultipartBody, headers: [(String, String)] = []) async throws -> LiveResponse {
        try await request("POST", path, headers: headers + [("Content-Type", multipart.contentType)], body: multipart.data)
    }

    func postJSON(_ path: String, _ json: String, headers: [(String, String)] = []) async throws -> LiveResponse {
        try await request("POST", path, headers: headers + [("Content-Type", "application/json")], body: Data(json.utf8))
    }
}

/// A fixed clock the tests move by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ date: Date = Date(timeIntervalSince1970: 1_718_000_000)) { current = date }     // 2024-06-10
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

/// Everything a test server is made of, so a test can look at each part afterwards.
struct Harness: Sendable {
    var configuration: SnapshotServerConfiguration
    var recognizer: FixedRecognizer
    var decoder = TestDecoder()
    var store: any UsageStore = InMemoryUsageStore()
    var fetcher: (any ImageURLFetcher)?
    var resolver: any HostResolver = SystemHostResolver()
    var clock = TestClock()
    var regions = RegionCatalog(codes: ["us", "us-ca", "mx", "gb", "de", "eu", "kr", "br"], names: ["us": "North America", "eu": "Europe"])

    init(configuration: SnapshotServerConfiguration = Harness.keyed(), recognizer: FixedRecognizer = Harness.standardRecognizer()) {
        var configuration = configuration
        configuration.port = 0
        self.configuration = configuration
        self.recognizer = recognizer
    }

    func api() throws -> SnapshotAPI {
        let clock = self.clock
        return try SnapshotAPI(configuration: configuration, recognizer: recognizer, imageDecoder: decoder, usageStore: store,
                               urlFetcher: fetcher, hostResolver: resolver, regions: regions,
                               metrics: { "# TYPE platestream_up gauge\nplatestream_up 1\n" }, now: { clock.now },
                               logger: Harness.logger)
    }

    /// Runs `body` against the server on a free loopback port, then stops the server.
    func run<T: Sendable>(_ body: @Sendable (LiveServer) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try api().makeApplication { port in
            continuation.yield(port ?? 0)
            continuation.finish()
        }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw CancellationError() }
            let result = try await body(LiveServer(port: port))
            group.cancelAll()
            return result
        }
    }

    /// Quiet: cancelling a test server logs its open channels at error level.
    static let logger: Logger = {
        var logger = Logger(label: "platestream.http.test")
        logger.logLevel = ProcessInfo.processInfo.environment["PLATESTREAM_TEST_LOG"] == nil ? .critical : .debug
        return logger
    }()

    static let token = "pr-token-1"
    static let openALPRKey = "sk_test_1"
    static let nhnAppKey = "nhn-app-1"
    static let nhnSecret = "nhn-secret-1"
    static let huaweiToken = "hw-token-1"
    static let huaweiProject = "proj-1"

    /// Keys for each API on one account, under a plan of `monthly` calls and `rate` per second.
    static func keyed(monthly: Int? = 1000, rate: Int? = nil, limits: SnapshotServerConfiguration.Limits = .init(maxConcurrentRecognitions: 2),
                      allow: [String] = []) -> SnapshotServerConfiguration {
        SnapshotServerConfiguration(
            host: "127.0.0.1", port: 0,
            plans: ["standard": .init(monthlyCalls: monthly, rateLimit: rate.map { .init(requests: $0, perSeconds: 1) })],
            keys: [.init(name: "acme", plan: "standard", token: token, openALPRSecretKey: openALPRKey, nhnAppKey: nhnAppKey,
                         nhnSecretKey: nhnSecret, huaweiToken: huaweiToken, huaweiProjectID: huaweiProject),
                   .init(name: "other", token: "pr-token-2")],
            limits: limits,
            recognizeURL: .init(allow: allow, timeoutSeconds: 15),   // generous for a loaded CI machine; /slow sleeps 20 s
            version: "1.2.3", licenseKey: "LIC-123", webhooks: ["http://hooks.local/alpr"])
    }

    /// Two plates, one in a vehicle with make, colour and orientation estimates.
    static func standardRecognizer() -> FixedRecognizer {
        let vehicle = VehicleDetection(type: .car, score: 0.798, box: BoundingBox(xmin: 67, ymin: 113, xmax: 908, ymax: 653),
                                       color: [ScoredLabel("black", score: 0.937)],
                                       makeModel: [MakeModelGuess(make: "Riley", model: "RMF", score: 0.306)],
                                       orientation: [ScoredLabel("Front", score: 0.937)])
        let first = FixedRecognizer.plate("NHK552", alternatives: [PlateCandidate(text: "NHK55Z", score: 0.412)],
                                          corners: Quad(topLeft: Point(x: 143, y: 481), topRight: Point(x: 282, y: 485),
                                                        bottomRight: Point(x: 282, y: 575), bottomLeft: Point(x: 143, y: 571)),
                                          color: "Blue")
        let second = FixedRecognizer.plate("123가4567", score: 0.93, detectionScore: 0.8,
                                           box: BoundingBox(xmin: 1000, ymin: 600, xmax: 1100, ymax: 640),
                                           region: nil, matchesTemplate: false)
        return FixedRecognizer(plates: [first, second], vehicles: [vehicle])
    }
}

// MARK: - Fetching images from URLs

/// The `ImageURLFetcher` the CLI is meant to wire, built on AsyncHTTPClient: connects to the
/// address the loader checked (`dnsOverride`), follows no redirect, stops past `maxBytes`.
struct AHCImageFetcher: ImageURLFetcher {
    struct TooLarge: Error {}

    func fetch(_ request: ImageFetchRequest) async throws -> ImageFetchResponse {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.dnsOverride = [request.host: request.address.description]
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let response = try await client.execute(HTTPClientRequest(url: request.url.absoluteString),
                                                    timeout: .nanoseconds(Int64(request.timeout.components.seconds) * 1_000_000_000
                                                        + request.timeout.components.attoseconds / 1_000_000_000))
            var body = Data()
            if !(300..<400).contains(response.status.code) {
                for try await chunk in response.body {
                    guard body.count + chunk.readableBytes <= request.maxBytes else { throw TooLarge() }
                    body.append(contentsOf: chunk.readableBytesView)
                }
            }
            try await client.shutdown()
            return ImageFetchResponse(status: Int(response.status.code), location: response.headers.first(name: "location"), body: body)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

/// A resolver with a fixed table, for host names that do not exist.
struct TableResolver: HostResolver {
    var table: [String: [IPAddress]]
    struct NotFound: Error {}
    func resolve(host: String) async throws -> [IPAddress] {
        guard let addresses = table[host] else { throw NotFound() }
        return addresses
    }
}

/// A second live server that serves images and redirects, for `recognize_url` and Huawei `url`.
enum ImageServer {
    static func run<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        let router = Router()
        let image = ByteBuffer(bytes: TestImages.png(width: 800, height: 600))
        router.get("/car.png") { _, _ in Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: image)) }
        router.get("/redirect") { _, _ in Response(status: .found, headers: [.location: "/car.png"]) }
        router.get("/loop") { _, _ in Response(status: .found, headers: [.location: "/loop"]) }
        router.get("/to-private") { _, _ in Response(status: .found, headers: [.location: "http://10.1.2.3/car.png"]) }
        router.get("/to-metadata") { _, _ in
            Response(status: .temporaryRedirect, headers: [.location: "http://169.254.169.254/latest/meta-data/iam/"])
        }
        router.get("/big") { _, _ in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: [UInt8](repeating: 7, count: 3 * 1024 * 1024))))
        }
        router.get("/slow") { _, _ -> Response in
            try await Task.sleep(for: .seconds(20))
            return Response(status: .ok, body: .init(byteBuffer: image))
        }
        router.get("/missing") { _, _ in Response(status: .notFound) }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  continuation.yield(channel.localAddress?.port ?? 0)
                                  continuation.finish()
                              }, logger: Harness.logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw CancellationError() }
            let result = try await body(port)
            group.cancelAll()
            return result
        }
    }
}

