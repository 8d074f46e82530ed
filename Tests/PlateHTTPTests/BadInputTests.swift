import Foundation
import PlateCore
@testable import PlateHTTP
import PlateTesting
import Testing

/// One bad request and what the API must answer.
struct BadRequestCase: Sendable {
    var name: String
    var method = "POST"
    var path: String
    var headers: [(String, String)] = []
    var body: Data?
    var status: Int
    /// The exact body, when the API's wording is fixed.
    var expected: WireJSON?
    /// Otherwise the shape, and a fragment the message must contain.
    var shape: Shape?
    var contains: String?
}

/// Runs every case against one live server, then checks it still answers a good request, and
/// that nothing was charged or recognized along the way.
func runBadCases(_ cases: [BadRequestCase], harness: Harness, account: String = "acme",
                 good: @escaping @Sendable (LiveServer) async throws -> LiveResponse,
                 sourceLocation: SourceLocation = #_sourceLocation) async throws {
    try await harness.run { server in
        for item in cases {
            let response = try await server.request(item.method, item.path, headers: item.headers, body: item.body)
            #expect(response.status == item.status, "\(item.name): \(response.status) \(response.body)", sourceLocation: sourceLocation)
            guard let json = try? WireJSON.parse(response.body) else {
                Issue.record("\(item.name): not JSON: \(response.body.prefix(300))", sourceLocation: sourceLocation)
                continue
            }
            if let expected = item.expected {
                #expect(json == expected, "\(item.name): \(json)", sourceLocation: sourceLocation)
            }
            if let shape = item.shape {
                let problems = mismatches(json, shape)
                #expect(problems.isEmpty, "\(item.name): \(problems)", sourceLocation: sourceLocation)
            }
            if let fragment = item.contains {
                #expect(response.body.contains(fragment), "\(item.name): \(response.body)", sourceLocation: sourceLocation)
            }
        }
        #expect(harness.recognizer.callCount == 0, "no bad request reaches the recognizer", sourceLocation: sourceLocation)
        #expect(try await harness.store.calls(account: account, month: UsageMonth(year: 2024, month: 6)) == 0,
                "no bad request is charged", sourceLocation: sourceLocation)
        let after = try await good(server)
        #expect(after.status == 200, "the server keeps serving after bad input: \(after.body)", sourceLocation: sourceLocation)
    }
}

extension MultipartBody {
    static func with(_ build: (inout MultipartBody) -> Void) -> MultipartBody {
        var body = MultipartBody()
        build(&body)
        return body
    }
}

@Suite("Bad input, live: each API's documented status and body, and the server keeps serving")
struct BadInputTests {
    static let png = TestImages.png(width: 640, height: 480)
    static var truncatedPNG: Data { png.prefix(png.count / 2) }
    static let bomb = TestImages.pngDeclaring(width: 30000, height: 30000)

    static func multipart(_ path: String, auth: [(String, String)], _ build: (inout MultipartBody) -> Void) -> (String, [(String, String)], Data) {
        let body = MultipartBody.with(build)
        return (path, auth + [("Content-Type", body.contentType)], body.data)
    }

    // MARK: Plate Recognizer

    @Test("Plate Recognizer: 400 field errors / detail, 415 media type")
    func plateRecognizer() async throws {
        let harness = Harness()
        let auth = [("Authorization", "Token \(Harness.token)")]
        let path = "/v1/plate-reader/"
        func form(_ name: String, status: Int = 400, expected: WireJSON? = nil, shape: Shape? = nil, contains: String? = nil,
                  _ build: (inout MultipartBody) -> Void) -> BadRequestCase {
            let (p, h, b) = Self.multipart(path, auth: auth, build)
            return BadRequestCase(name: name, path: p, headers: h, body: b, status: status, expected: expected, shape: shape, contains: contains)
        }
        func field(_ name: String, _ message: String) -> WireJSON { .object([(name, .array([.string(message)]))]) }
        let notAnImage = "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
        let cases: [BadRequestCase] = [
            form("missing image", expected: field("upload", "This field is required.")) { $0.field("regions", "us") },
            BadRequestCase(name: "empty body, no media type", path: path, headers: auth, body: Data(), status: 400,
                           expected: field("upload", "This field is required.")),
            BadRequestCase(name: "empty multipart body", path: path, headers: auth + [("Content-Type", "multipart/form-data; boundary=x")],
                           body: Data(), status: 400, shape: PlateRecognizerShapes.detail, contains: "Multipart form parse error"),
            form("empty file", expected: field("upload", "The submitted file is empty.")) { $0.file("upload", Data()) },
            form("not an image", expected: field("upload", notAnImage)) { $0.file("upload", Data("hello, world".utf8)) },
            form("truncated image", expected: field("upload", notAnImage)) { $0.file("upload", Self.truncatedPNG) },
            form("bad base64", shape: .object([("upload", .array(.string))]), contains: "base64 text is invalid") {
                $0.field("upload", "!!not*base64@@")
            },
            form("unknown region", expected: field("regions", "\"zz-top\" is not a valid region code.")) {
                $0.file("upload", Self.png)
                $0.field("regions", "zz-top")
            },
            form("malformed region", expected: field("regions", "\"../etc\" is not a valid region code.")) {
                $0.file("upload", Self.png)
                $0.field("regions", "../etc")
            },
            form("bad JSON config", shape: .object([("config", .array(.string))]), contains: "config") {
                $0.file("upload", Self.png)
                $0.field("config", "{\"region\": strict")
            },
            form("config not an object", shape: .object([("config", .array(.string))]), contains: "config") {
                $0.file("upload", Self.png)
                $0.field("config", "[1,2]")
            },
            form("bad config value", shape: .object([("config", .array(.string))]), contains: "config.mode") {
                $0.file("upload", Self.png)
                $0.field("config", #"{"mode":"turbo"}"#)
            },
            form("threshold out of range", shape: .object([("config", .array(.string))]), contains: "config.threshold_d") {
                $0.file("upload", Self.png)
                $0.field("config", #"{"threshold_d":2}"#)
            },
            form("unknown config key", shape: .object([("config", .array(.string))]), contains: "detection_mode") {
                $0.file("upload", Self.png)
                $0.field("config", #"{"detection_mode":"vehicle"}"#)
            },
            form("bad mmc", expected: field("mmc", "Must be a valid boolean.")) {
                $0.file("upload", Self.png)
                $0.field("mmc", "perhaps")
            },
            form("bad timestamp", shape: .object([("timestamp", .array(.string))]), contains: "Datetime has wrong format") {
                $0.file("upload", Self.png)
                $0.field("timestamp", "2019-02-30T10:00:00")
            },
            form("several bad fields at once", shape: .object([("regions", .array(.string)), ("mmc", .array(.string)),
                                                              ("upload", .array(.string))])) {
                $0.field("regions", "xx-1234")
                $0.field("mmc", "2")
            },
            form("30000×30000 declared in a tiny file",
                 expected: field("upload", "Image is 30000x30000 pixels, more than the limit of 50000000 pixels.")) {
                $0.file("upload", Self.bomb)
            },
            BadRequestCase(name: "wrong content type", path: path, headers: auth + [("Content-Type", "text/plain")],
                           body: Data("upload=abc".utf8), status: 415,
                           expected: .object([("detail", .string("Unsupported media type \"text/plain\" in request."))])),
            BadRequestCase(name: "multipart without boundary", path: path, headers: auth + [("Content-Type", "multipart/form-data")],
                           body: Data("x".utf8), status: 400,
                           expected: .object([("detail", .string("Multipart form parse error - Invalid boundary in multipart."))])),
            BadRequestCase(name: "malformed multipart", path: path,
                           headers: auth + [("Content-Type", "multipart/form-data; boundary=abc")],
                           body: Data("--abc\r\nNo-Colon-Here\r\n\r\ndata\r\n--abc--\r\n".utf8), status: 400,
                           shape: PlateRecognizerShapes.detail, contains: "Multipart form parse error"),
            BadRequestCase(name: "JSON body not an object", path: path, headers: auth + [("Content-Type", "application/json")],
                           body: Data("[\"upload\"]".utf8), status: 400, shape: PlateRecognizerShapes.detail),
        ]
        try await runBadCases(cases, harness: harness) { server in
            try await server.post(path, multipart: .with { $0.file("upload", Self.png) }, headers: auth)
        }
        #expect(harness.decoder.decodeCount == 2, "only the truncated image and the good one reach the decoder, never the 30000×30000 one")
    }

    // MARK: OpenALPR

    @Test("OpenALPR: 400 {\"error\": ...} for every bad parameter or image")
    func openALPR() async throws {
        let harness = Harness()
        let q = "secret_key=\(Harness.openALPRKey)&country=us"
        func form(_ name: String, query: String = "", contains: String, _ build: (inout MultipartBody) -> Void) -> BadRequestCase {
            let (p, h, b) = Self.multipart("/v3/recognize?\(q)\(query)", auth: [], build)
            return BadRequestCase(name: name, path: p, headers: h, body: b, status: 400, shape: OpenALPRShapes.error, contains: contains)
        }
        func bytes(_ name: String, _ body: String, query: String = "", contains: String) -> BadRequestCase {
            BadRequestCase(name: name, path: "/v3/recognize_bytes?\(q)\(query)", headers: [("Content-Type", "application/json")],
                           body: Data(body.utf8), status: 400, shape: OpenALPRShapes.error, contains: contains)
        }
        let goodImage: @Sendable (inout MultipartBody) -> Void = { $0.file("image", Self.png) }
        let cases: [BadRequestCase] = [
            form("missing image", contains: "Missing required parameter: image") { $0.field("other", "x") },
            form("empty file", contains: "The image file is empty") { $0.file("image", Data()) },
            form("not an image", contains: "not a supported image") { $0.file("image", Data("GIF89a....".utf8)) },
            form("truncated image", contains: "could not be decoded") { $0.file("image", Self.truncatedPNG) },
            form("30000×30000 declared", contains: "30000x30000 pixels") { $0.file("image", Self.bomb) },
            form("topn 0", query: "&topn=0", contains: "topn must be an integer from 1 to 1000", goodImage),
            form("topn 1001", query: "&topn=1001", contains: "topn must be an integer from 1 to 1000", goodImage),
            form("topn not a number", query: "&topn=ten", contains: "topn must be an integer", goodImage),
            form("recognize_vehicle 2", query: "&recognize_vehicle=2", contains: "recognize_vehicle must be 0 or 1", goodImage),
            BadRequestCase(name: "missing country", path: "/v3/recognize?secret_key=\(Harness.openALPRKey)",
                           headers: [("Content-Type", MultipartBody().contentType)], body: Data(), status: 400,
                           shape: OpenALPRShapes.error, contains: "country is required"),
            BadRequestCase(name: "unknown country", path: "/v3/recognize?secret_key=\(Harness.openALPRKey)&country=atlantis",
                           headers: [("Content-Type", MultipartBody().contentType)], body: Data(), status: 400,
                           expected: .object([("error", .string("Unknown country: atlantis"))])),
            BadRequestCase(name: "wrong content type", path: "/v3/recognize?\(q)", headers: [("Content-Type", "application/json")],
                           body: Data("{}".utf8), status: 400, shape: OpenALPRShapes.error, contains: "multipart/form-data"),
            BadRequestCase(name: "empty multipart body", path: "/v3/recognize?\(q)",
                           headers: [("Content-Type", "multipart/form-data; boundary=b")], body: Data(), status: 400,
                           shape: OpenALPRShapes.error, contains: "ends before the closing boundary"),
            bytes("empty body", "", contains: "Missing required parameter: image_bytes"),
            bytes("bad base64", "@@@@not base64", contains: "not valid base64"),
            bytes("base64 of text", Base64.encode(Data("just text".utf8)), contains: "not a supported image"),
            bytes("JSON without image_bytes", #"{"image":"abc"}"#, contains: "image_bytes"),
            bytes("bad JSON", #"{"image_bytes": "#, contains: "neither base64"),
            BadRequestCase(name: "recognize_url without image_url", path: "/v3/recognize_url?\(q)", status: 400,
                           shape: OpenALPRShapes.error, contains: "Missing required parameter: image_url"),
            BadRequestCase(name: "recognize_url without a fetcher", path: "/v3/recognize_url?\(q)&image_url=http%3A%2F%2F1.1.1.1%2Fa.jpg",
                           status: 400, expected: .object([("error", .string("fetching images from URLs is disabled on this server"))])),
        ]
        try await runBadCases(cases, harness: harness) { server in
            try await server.post("/v3/recognize?\(q)", multipart: .with(goodImage))
        }
        #expect(harness.decoder.decodeCount == 2, "the truncated image and the good one; never the 30000×30000 one")
    }

    // MARK: NHN

    @Test("NHN: header with the OCR error codes, HTTP 200")
    func nhn() async throws {
        let harness = Harness()
        let auth = [("Authorization", Harness.nhnSecret)]
        let path = NHNAPITests.path
        func failure(_ code: Int, _ message: String) -> WireJSON {
            .object([("header", .object([("isSuccessful", .bool(false)), ("resultCode", .int(code)), ("resultMessage", .string(message))]))])
        }
        func form(_ name: String, _ expected: WireJSON, _ build: (inout MultipartBody) -> Void) -> BadRequestCase {
            let (p, h, b) = Self.multipart(path, auth: auth, build)
            return BadRequestCase(name: name, path: p, headers: h, body: b, status: 200, expected: expected)
        }
        let cases: [BadRequestCase] = [
            form("missing image", failure(4_000_001, "Invalid parameter.")) { $0.field("file", "x") },
            form("empty file", failure(4_000_004, "Uploaded file is empty.")) { $0.file("image", Data()) },
            form("not an image", failure(4_000_003, "Invalid file type.")) { $0.file("image", Data("%PDF-1.4".utf8)) },
            form("truncated image", failure(4_000_002, "Invalid file.")) { $0.file("image", Self.truncatedPNG) },
            form("30000×30000 declared", failure(4_000_002, "Invalid file.")) { $0.file("image", Self.bomb) },
            BadRequestCase(name: "wrong content type", path: path, headers: auth + [("Content-Type", "application/json")],
                           body: Data("{}".utf8), status: 200, expected: failure(415, "Unsupported Media Type")),
            BadRequestCase(name: "empty body", path: path, headers: auth + [("Content-Type", "multipart/form-data; boundary=q")],
                           body: Data(), status: 200, expected: failure(4_000_001, "Invalid parameter.")),
        ]
        try await runBadCases(cases, harness: harness) { server in
            try await server.post(path, multipart: .with { $0.file("image", Self.png) }, headers: auth)
        }
        #expect(harness.decoder.decodeCount == 2, "the truncated image and the good one; never the 30000×30000 one")
    }

    // MARK: Huawei

    @Test("Huawei: AIS.0101-0104 with the documented messages and the documented limits")
    func huawei() async throws {
        let harness = Harness()
        let auth = [("X-Auth-Token", Harness.huaweiToken)]
        let path = HuaweiAPITests.path
        func error(_ code: String, _ message: String) -> WireJSON {
            .object([("error_code", .string(code)), ("error_msg", .string(message))])
        }
        let invalid = error("AIS.0101", "The input parameter is invalid.")
        let format = error("AIS.0102", "The image format is not supported.")
        let size = error("AIS.0103", "The image size does not meet the requirements.")
        let poor = error("AIS.0104", "The image is not supported or the image quality is poor.")
        func json(_ name: String, _ body: String, _ expected: WireJSON, contentType: String = "application/json") -> BadRequestCase {
            BadRequestCase(name: name, path: path, headers: auth + [("Content-Type", contentType)], body: Data(body.utf8),
                           status: 400, expected: expected)
        }
        @Sendable func image(_ data: Data) -> String { #"{"image":"\#(Base64.encode(data))"}"# }
        let cases: [BadRequestCase] = [
            json("wrong content type", image(Self.png), invalid, contentType: "text/plain"),
            json("empty body", "", invalid),
            json("bad JSON", "{\"image\": ", invalid),
            json("neither image nor url", "{}", invalid),
            json("both image and url", #"{"image":"AAAA","url":"http://example.com/a.jpg"}"#, invalid),
            json("image not a string", #"{"image":42}"#, invalid),
            json("empty image", #"{"image":""}"#, invalid),
            json("bad base64", #"{"image":"%%%%"}"#, format),
            json("not an image", image(Data("hello".utf8)), format),
            json("WebP is not among the formats", image(TestImages.webp(width: 100, height: 100)), format),
            json("narrow edge 14 px", image(TestImages.png(width: 200, height: 14)), size),
            json("wide edge 4097 px", image(TestImages.pngDeclaring(width: 4097, height: 100)), size),
            json("30000×30000 declared", image(Self.bomb), size),
            json("truncated image", image(Self.truncatedPNG), poor),
        ]
        try await runBadCases(cases, harness: harness) { server in
            try await server.postJSON(path, image(Self.png), headers: auth)
        }
        #expect(harness.decoder.decodeCount == 2, "only the truncated image and the good one are decoded")
    }
}
