import Foundation
import PlateCore
@testable import PlateHTTP
import PlateTesting
import Testing

/// The shapes of NHN's and Huawei's documented JSON (references: nhn-vehicle-plate-ocr-api.txt,
/// huawei-plate-number-ocr-api.txt).
enum NHNShapes {
    static let header: Shape = .object([("isSuccessful", .bool), ("resultCode", .int), ("resultMessage", .string)])
    static let success: Shape = .object([
        ("header", header),
        ("result", .object([
            ("fileType", .string),
            ("values", .array(.object([("value", .string), ("conf", .number)]))),
            ("boxes", .array(.object([("x1", .int), ("y1", .int), ("x2", .int), ("y2", .int),
                                       ("x3", .int), ("y3", .int), ("x4", .int), ("y4", .int)]))),
            ("resolution", .string),
        ])),
    ])
    static let failure: Shape = .object([("header", header)])
}

enum HuaweiShapes {
    static let success: Shape = .object([("result", .array(.object([
        ("plate_number", .string), ("plate_color", .string), ("confidence", .number), ("plate_location", .array(.array(.int))),
    ])))])
    static let error: Shape = .object([("error_code", .string), ("error_msg", .string)])
}

@Suite("NHN Cloud Vehicle Plate OCR, live")
struct NHNAPITests {
    static let path = "/v1.0/appkeys/\(Harness.nhnAppKey)/vehicle-plate"
    static let auth = [("Authorization", Harness.nhnSecret)]

    @Test("a multipart image answers header and result: values, boxes clockwise from the top-left, fileType, resolution")
    func recognize() async throws {
        let harness = Harness()
        try await harness.run { server in
            var form = MultipartBody()
            form.file("image", filename: "sample.png", contentType: "image/png", TestImages.png(width: 1280, height: 720))
            let response = try await server.post(Self.path, multipart: form, headers: Self.auth)
            #expect(response.status == 200)
            let json = try response.json()
            expectShape(json, NHNShapes.success)
            #expect(json["header"] == .object([("isSuccessful", .bool(true)), ("resultCode", .int(0)), ("resultMessage", .string("SUCCESS"))]))
            #expect(json["result"]?["fileType"]?.string == "png")
            #expect(json["result"]?["resolution"]?.string == "normal")
            #expect(json["result"]?["values"]?[1]?["value"]?.string == "123가4567")
            #expect(json["result"]?["values"]?[1]?["conf"]?.number == 0.93)
            #expect(json["result"]?["boxes"]?[0] == .object([("x1", .int(143)), ("y1", .int(481)), ("x2", .int(282)), ("y2", .int(485)),
                                                               ("x3", .int(282)), ("y3", .int(575)), ("x4", .int(143)), ("y4", .int(571))]))
        }
    }

    @Test("below 1280×720 the resolution is low; a JPEG is fileType jpg")
    func lowResolution() async throws {
        try await Harness().run { server in
            var form = MultipartBody()
            form.file("image", TestImages.jpeg(width: 1279, height: 720))
            let response = try await server.post(Self.path, multipart: form, headers: Self.auth)
            let json = try response.json()
            expectShape(json, NHNShapes.success)
            #expect(json["result"]?["resolution"]?.string == "low")
            #expect(json["result"]?["fileType"]?.string == "jpg")
        }
    }

    @Test("missing secret → 4000005, wrong app key or secret → 4010001, always HTTP 200", arguments: [
        ([(String, String)](), path, 4_000_005, "Required headers are missing."),
        ([("Authorization", "wrong")], path, 4_010_001, "Invalid appKey or secretKey."),
        ([("Authorization", Harness.nhnSecret)], "/v1.0/appkeys/other-app/vehicle-plate", 4_010_001, "Invalid appKey or secretKey."),
    ])
    func unauthorized(headers: [(String, String)], path: String, code: Int, message: String) async throws {
        let harness = Harness()
        try await harness.run { server in
            var form = MultipartBody()
            form.file("image", TestImages.png(width: 64, height: 64))
            let response = try await server.post(path, multipart: form, headers: headers)
            #expect(response.status == 200)
            #expect(try response.json() == .object([("header", .object([
                ("isSuccessful", .bool(false)), ("resultCode", .int(code)), ("resultMessage", .string(message)),
            ]))]))
            #expect(harness.recognizer.callCount == 0)
        }
    }
}

@Suite("Huawei Cloud Plate Number OCR, live")
struct HuaweiAPITests {
    static let path = "/v2/\(Harness.huaweiProject)/ocr/license-plate"
    static let auth = [("X-Auth-Token", Harness.huaweiToken)]

    @Test("a base64 image answers result[] with plate_number, plate_color, confidence and plate_location")
    func recognizeBase64() async throws {
        let harness = Harness()
        try await harness.run { server in
            let body = #"{"image":"\#(Base64.encode(TestImages.png(width: 1024, height: 768)))"}"#
            let response = try await server.postJSON(Self.path, body, headers: Self.auth)
            #expect(response.status == 200, "\(response.body)")
            let json = try response.json()
            expectShape(json, HuaweiShapes.success)
            let first = try #require(json["result"]?[0])
            #expect(first["plate_number"]?.string == "NHK552")
            #expect(first["plate_color"]?.string == "blue")
            #expect(first["confidence"]?.number == 0.904)
            #expect(first["plate_location"] == .array([.array([.int(143), .int(481)]), .array([.int(282), .int(485)]),
                                                       .array([.int(282), .int(575)]), .array([.int(143), .int(571)])]))
            #expect(json["result"]?[1]?["plate_color"]?.string == "unknown")
        }
    }

    @Test("url: the image is fetched (allow-listed loopback) and read")
    func recognizeURL() async throws {
        try await ImageServer.run { imagePort in
            var configured = Harness(configuration: Harness.keyed(allow: ["127.0.0.0/8"]))
            configured.fetcher = AHCImageFetcher()
            let harness = configured
            try await harness.run { server in
                let response = try await server.postJSON(Self.path, #"{"url":"http://127.0.0.1:\#(imagePort)/car.png"}"#, headers: Self.auth)
                #expect(response.status == 200, "\(response.body)")
                expectShape(try response.json(), HuaweiShapes.success)
                #expect(harness.recognizer.calls.first?.imageSize == ImageSize(width: 800, height: 600))
            }
        }
    }

    @Test("a missing or wrong token is APIG.1002 (401); another project is APIG.1005 (403)")
    func unauthorized() async throws {
        let harness = Harness()
        try await harness.run { server in
            let body = #"{"image":"\#(Base64.encode(TestImages.png(width: 64, height: 64)))"}"#
            for headers in [[], [("X-Auth-Token", "wrong")]] {
                let response = try await server.postJSON(Self.path, body, headers: headers)
                #expect(response.status == 401)
                #expect(try response.json() == .object([("error_code", .string("APIG.1002")),
                                                        ("error_msg", .string("Incorrect token or token resolution failed"))]))
            }
            let other = try await server.postJSON("/v2/someone-else/ocr/license-plate", body, headers: Self.auth)
            #expect(other.status == 403)
            #expect(try other.json()["error_code"]?.string == "APIG.1005")
            #expect(harness.recognizer.callCount == 0)
        }
    }
}
