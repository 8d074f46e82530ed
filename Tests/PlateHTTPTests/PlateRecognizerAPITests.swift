import Foundation
import PlateCore
@testable import PlateHTTP
import PlateTesting
import Testing

/// The shapes of Plate Recognizer's documented JSON (reference: platerecognizer-snapshot-stream-api.md).
enum PlateRecognizerShapes {
    static let box: Shape = .object([("xmin", .int), ("ymin", .int), ("xmax", .int), ("ymax", .int)])
    /// Never null: Plate Recognizer always answers a region, and clients read `region.code` unguarded.
    static let region: Shape = .object([("code", .string), ("score", .number)])
    static let vehicle: Shape = .object([("score", .number), ("type", .string), ("box", box)])
    static let candidates: Shape = .array(.object([("score", .number), ("plate", .string)]))
    static let result: Shape = .object([("box", box), ("plate", .string), ("region", region), ("vehicle", vehicle),
                                        ("score", .number), ("candidates", candidates), ("dscore", .number)])
    static let mmcResult: Shape = .object([
        ("box", box), ("plate", .string), ("region", region), ("vehicle", vehicle), ("score", .number),
        ("candidates", candidates), ("dscore", .number),
        ("model_make", .array(.object([("make", .string), ("model", .string), ("score", .number)]))),
        ("color", .array(.object([("color", .string), ("score", .number)]))),
        ("orientation", .array(.object([("orientation", .string), ("score", .number)]))),
    ])
    static func response(_ result: Shape = result) -> Shape {
        .object([("usage", .object([("calls", .int), ("max_calls", .int)])), ("processing_time", .number),
                 ("results", .array(result)), ("filename", .string), ("version", .int), ("camera_id", .nullable(.string)),
                 ("timestamp", .string)])
    }
    static let detail: Shape = .object([("detail", .string)])
}

@Suite("Plate Recognizer API, live")
struct PlateRecognizerAPITests {
    let auth = [("Authorization", "Token \(Harness.token)")]

    @Test("a multipart upload with every parameter reads the plates and maps the parameters onto the recognizer")
    func multipartUpload() async throws {
        let harness = Harness()
        try await harness.run { server in
            var form = MultipartBody()
            form.file("upload", TestImages.png(width: 640, height: 480))
            form.field("regions", "us-ca")
            form.field("regions", "MX")
            form.field("camera_id", "gate-1")
            form.field("timestamp", "2019-08-19T13:11:25")
            form.field("config", #"{"region":"strict","threshold_d":0.3,"threshold_o":0.5,"mode":"fast","detection_rule":"strict"}"#)
            let response = try await server.post("/v1/plate-reader/", multipart: form, headers: auth)
            #expect(response.status == 200, "\(response.body)")
            #expect(response.header("Content-Type") == "application/json")
            let json = try response.json()
            expectShape(json, PlateRecognizerShapes.response())
            #expect(json["usage"]?["calls"]?.int == 1)
            #expect(json["usage"]?["max_calls"]?.int == 1000)
            #expect(json["filename"]?.string == "car.jpg")
            #expect(json["camera_id"]?.string == "gate-1")
            #expect(json["version"]?.int == 1)
            #expect(json["timestamp"]?.string == "2019-08-19T13:11:25.000000Z")
            let first = try #require(json["results"]?[0])
            #expect(first["plate"]?.string == "nhk552")
            #expect(first["box"] == .object([("xmin", .int(143)), ("ymin", .int(481)), ("xmax", .int(282)), ("ymax", .int(575))]))
            #expect(first["region"]?["code"]?.string == "gb")
            #expect(first["vehicle"]?["type"]?.string == "Sedan")
            #expect(first["vehicle"]?["box"]?["xmax"]?.int == 908)
            #expect(first["candidates"]?[0]?["plate"]?.string == "nhk552")
            #expect(first["candidates"]?[1]?["plate"]?.string == "nhk55z")
            #expect(first["score"]?.number == 0.904)
            #expect(first["dscore"]?.number == 0.99)
            #expect(first["model_make"] == nil, "make, model, colour and orientation only with mmc=true")
            let second = try #require(json["results"]?[1])
            // A read that carries no region guess still answers one: the documented fallback, not sure at all.
            #expect(second["region"]?["code"]?.string == "us")
            #expect(second["region"]?["score"]?.number == 0)
            #expect(second["vehicle"]?["type"]?.string == "Unknown", "a plate outside every vehicle gets the empty vehicle")
            #expect(second["plate"]?.string == "123가4567")

            let call = try #require(harness.recognizer.calls.first)
            #expect(call.imageSize == ImageSize(width: 640, height: 480))
            #expect(call.options.regions == ["us-ca", "mx"])
            #expect(call.options.regionStrict)
            #expect(call.options.detectionThreshold == 0.3)
            #expect(call.options.readThreshold == 0.5)
            #expect(call.options.mode == .fast)
            #expect(call.options.detectionRuleStrict)
            #expect(!call.options.mmc)
        }
    }

    @Test("mmc=true adds model_make, color and orientation to every result")
    func mmc() async throws {
        let harness = Harness()
        try await harness.run { server in
            var form = MultipartBody()
            form.file("upload", TestImages.jpeg(width: 1280, height: 720))
            form.field("mmc", "true")
            let response = try await server.post("/v1/plate-reader/", multipart: form, headers: auth)
            #expect(response.status == 200, "\(response.body)")
            let json = try response.json()
            expectShape(json, PlateRecognizerShapes.response(PlateRecognizerShapes.mmcResult))
            #expect(json["results"]?[0]?["model_make"]?[0]?["make"]?.string == "Riley")
            #expect(json["results"]?[0]?["color"]?[0]?["color"]?.string == "black")
            #expect(json["results"]?[0]?["orientation"]?[0]?["orientation"]?.string == "Front")
            #expect(json["results"]?[1]?["color"]?.array?.isEmpty == true)
            #expect(json["camera_id"] == .null)
            #expect(harness.recognizer.calls.first?.options.mmc == true)
        }
    }

    @Test("upload as base64 in a multipart field, a url-encoded form and a JSON body, with or without a data: prefix")
    func base64Uploads() async throws {
        let harness = Harness()
        try await harness.run { server in
            let image = TestImages.png(width: 320, height: 240)
            let base64 = Base64.encode(image)

            var form = MultipartBody()
            form.field("upload", base64)
            let multipart = try await server.post("/v1/plate-reader/", multipart: form, headers: auth)
            #expect(multipart.status == 200, "\(multipart.body)")
            #expect(try multipart.json()["filename"]?.string == "upload")

            let encoded = "upload=" + base64.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! + "&regions=gb&regions=de"
            let urlencoded = try await server.request("POST", "/v1/plate-reader/",
                                                      headers: auth + [("Content-Type", "application/x-www-form-urlencoded")],
                                                      body: Data(encoded.utf8))
            #expect(urlencoded.status == 200, "\(urlencoded.body)")
            expectShape(try urlencoded.json(), PlateRecognizerShapes.response())

            let body = #"{"upload":"data:image/png;base64,\#(base64)","regions":["us"],"mmc":true,"config":{"mode":"redaction"}}"#
            let json = try await server.postJSON("/v1/plate-reader", body, headers: auth)
            #expect(json.status == 200, "\(json.body)")
            expectShape(try json.json(), PlateRecognizerShapes.response(PlateRecognizerShapes.mmcResult))

            let calls = harness.recognizer.calls
            #expect(calls.count == 3)
            #expect(calls.allSatisfy { $0.imageSize == ImageSize(width: 320, height: 240) })
            #expect(calls[1].options.regions == ["gb", "de"])
            #expect(calls[2].options.mode == .redaction)
            #expect(calls[2].options.mmc)
        }
    }

    @Test("GET /info/ and GET /v1/statistics/ answer the documented fields; usage is per account")
    func infoAndStatistics() async throws {
        let harness = Harness()
        try await harness.run { server in
            let info = try await server.request("GET", "/info/", headers: auth)
            #expect(info.status == 200)
            let infoJSON = try info.json()
            expectShape(infoJSON, .object([("version", .string), ("license_key", .string), ("webhooks", .array(.string))]))
            #expect(infoJSON["version"]?.string == "1.2.3")
            #expect(infoJSON["license_key"]?.string == "LIC-123")

            for _ in 0..<2 {
                var form = MultipartBody()
                form.file("upload", TestImages.png(width: 64, height: 48))
                #expect(try await server.post("/v1/plate-reader/", multipart: form, headers: auth).status == 200)
            }
            let statistics = try await server.request("GET", "/v1/statistics/", headers: auth)
            #expect(statistics.status == 200)
            let stats = try statistics.json()
            expectShape(stats, .object([
                ("usage", .object([("month", .int), ("calls", .int), ("year", .int), ("resets_on", .string)])),
                ("total_calls", .int),
            ]))
            #expect(stats["usage"]?["calls"]?.int == 2)
            #expect(stats["usage"]?["month"]?.int == 6)
            #expect(stats["usage"]?["year"]?.int == 2024)
            #expect(stats["usage"]?["resets_on"]?.string == "2024-07-01T00:00:00Z")
            #expect(stats["total_calls"]?.int == 1000)

            let other = try await server.request("GET", "/v1/statistics/", headers: [("Authorization", "Token pr-token-2")])
            #expect(try other.json()["usage"]?["calls"]?.int == 0)
            #expect(try other.json()["total_calls"] == .null, "an account without a plan has no limit")
        }
    }

    @Test("a missing, malformed or wrong token is refused with 403 and a detail", arguments: [
        ([(String, String)](), "Authentication credentials were not provided."),
        ([("Authorization", "Token")], "Invalid token header. No credentials provided."),
        ([("Authorization", "Bearer \(Harness.token)")], "Invalid token header."),
        ([("Authorization", "Token nope")], "Invalid token."),
    ])
    func badTokens(headers: [(String, String)], detail: String) async throws {
        let harness = Harness()
        try await harness.run { server in
            var form = MultipartBody()
            form.file("upload", TestImages.png(width: 64, height: 48))
            for path in ["/v1/plate-reader/", "/v1/statistics/", "/info/"] {
                let response = path == "/v1/plate-reader/"
                    ? try await server.post(path, multipart: form, headers: headers)
                    : try await server.request("GET", path, headers: headers)
                #expect(response.status == 403, "\(path)")
                #expect(try response.json() == .object([("detail", .string(detail))]))
            }
            #expect(harness.recognizer.callCount == 0)
        }
    }

    @Test("without authentication (loopback, no keys) every call is counted under the anonymous account")
    func anonymous() async throws {
        var configuration = SnapshotServerConfiguration()
        configuration.plans = ["free": .init(monthlyCalls: 5)]
        configuration.anonymousPlan = "free"
        let harness = Harness(configuration: configuration)
        try await harness.run { server in
            var form = MultipartBody()
            form.file("upload", TestImages.png(width: 64, height: 48))
            let response = try await server.post("/v1/plate-reader/", multipart: form)
            #expect(response.status == 200, "\(response.body)")
            #expect(try response.json()["usage"]?["max_calls"]?.int == 5)
            let statistics = try await server.request("GET", "/v1/statistics/")
            #expect(try statistics.json()["usage"]?["calls"]?.int == 1)
            #expect(try await harness.store.calls(account: "anonymous", month: UsageMonth(year: 2024, month: 6)) == 1)
        }
    }
}
