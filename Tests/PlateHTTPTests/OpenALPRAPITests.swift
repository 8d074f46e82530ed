import Foundation
import PlateCore
@testable import PlateHTTP
import PlateTesting
import Testing

/// The shapes of the OpenALPR Cloud API v3 swagger (reference: openalpr-cloud-api-v3.swagger.txt).
enum OpenALPRShapes {
    static let coordinate: Shape = .object([("x", .int), ("y", .int)])
    static let roi: Shape = .object([("x", .int), ("y", .int), ("width", .int), ("height", .int)])
    static let candidate: Shape = .object([("plate", .string), ("confidence", .number), ("matches_template", .int)])
    static let vehicleCandidates: Shape = .array(.object([("name", .string), ("confidence", .number)]))
    static let vehicleDetails: Shape = .object([("color", vehicleCandidates), ("make", vehicleCandidates),
                                                ("make_model", vehicleCandidates), ("body_type", vehicleCandidates),
                                                ("year", vehicleCandidates), ("orientation", vehicleCandidates)])
    static let resultFields: [(String, Shape)] = [
        ("plate", .string), ("confidence", .number), ("matches_template", .int), ("region", .string),
        ("region_confidence", .number), ("processing_time_ms", .number), ("requested_topn", .int),
        ("coordinates", .array(coordinate)), ("candidates", .array(candidate)), ("vehicle_region", roi),
    ]
    static func response(vehicle: Bool = false, image: Bool = false) -> Shape {
        var fields: [(String, Shape)] = [
            ("version", .int), ("data_type", .string), ("epoch_time", .number), ("img_width", .int), ("img_height", .int),
            ("processing_time", .object([("total", .number), ("plates", .number), ("vehicles", .number)])),
            ("regions_of_interest", .array(roi)),
            ("results", .array(.object(resultFields + (vehicle ? [("vehicle", vehicleDetails)] : [])))),
            ("vehicles", .array(.object([("x", .int), ("y", .int), ("width", .int), ("height", .int), ("details", vehicleDetails)]))),
            ("credits_monthly_used", .int), ("credits_monthly_total", .int), ("credit_cost", .int),
        ]
        if image { fields.append(("image_bytes", .string)) }
        return .object(fields)
    }
    static let error: Shape = .object([("error", .string)])
}

@Suite("OpenALPR Cloud API v3, live")
struct OpenALPRAPITests {
    static let key = "secret_key=\(Harness.openALPRKey)"

    func upload(_ image: Data = TestImages.png(width: 640, height: 480)) -> MultipartBody {
        var form = MultipartBody()
        form.file("image", filename: "car.png", contentType: "image/png", image)
        return form
    }

    @Test("POST /v3/recognize answers the full api_200 body with the rate-limit headers")
    func recognize() async throws {
        let harness = Harness(configuration: Harness.keyed(rate: 10))
        try await harness.run { server in
            let response = try await server.post("/v3/recognize?\(Self.key)&country=us&topn=5", multipart: upload())
            #expect(response.status == 200, "\(response.body)")
            let json = try response.json()
            expectShape(json, OpenALPRShapes.response())
            #expect(json["data_type"]?.string == "alpr_results")
            #expect(json["img_width"]?.int == 640)
            #expect(json["img_height"]?.int == 480)
            #expect(json["credit_cost"]?.int == 1)
            #expect(json["credits_monthly_used"]?.int == 1)
            #expect(json["credits_monthly_total"]?.int == 1000)
            #expect(json["epoch_time"]?.int == 1_718_000_000_000)
            #expect(json["regions_of_interest"] == .array([.object([("x", .int(0)), ("y", .int(0)), ("width", .int(640)), ("height", .int(480))])]))
            let plate = try #require(json["results"]?[0])
            #expect(plate["plate"]?.string == "NHK552")
            #expect(plate["confidence"]?.number == 90.4)
            #expect(plate["matches_template"]?.int == 1)
            #expect(plate["region"]?.string == "gb")
            #expect(plate["requested_topn"]?.int == 5)
            #expect(plate["coordinates"]?.array?.count == 4)
            #expect(plate["coordinates"]?[1] == .object([("x", .int(282)), ("y", .int(485))]), "clockwise from the top-left")
            #expect(plate["candidates"]?[1]?["plate"]?.string == "NHK55Z")
            #expect(plate["vehicle_region"]?["width"]?.int == 841)
            // A read that carries no region guess still names one (the documented fallback, confidence 0), never "".
            let regionless = try #require(json["results"]?[1])
            #expect(regionless["region"]?.string == "us")
            #expect(regionless["region_confidence"]?.number == 0)
            #expect(json["vehicles"]?.array?.isEmpty == true)
            #expect(response.header("X-RateLimit-Limit") == "10")
            #expect(response.header("X-Ratelimit-Remaining") == "9")
            #expect(response.header("X-Ratelimit-Reset") == "1718000001")

            let call = try #require(harness.recognizer.calls.first)
            #expect(call.options.regions == ["us"])
            #expect(call.options.topN == 5)
            #expect(!call.options.mmc && !call.options.cropped)
        }
    }

    @Test("recognize_vehicle, return_image and is_cropped: two credits, vehicle details, the image sent back")
    func vehicleAndImage() async throws {
        let harness = Harness()
        try await harness.run { server in
            let image = TestImages.png(width: 200, height: 100)
            let response = try await server.post("/v3/recognize?\(Self.key)&country=eu&recognize_vehicle=1&return_image=1&is_cropped=1",
                                                 multipart: upload(image))
            #expect(response.status == 200, "\(response.body)")
            let json = try response.json()
            expectShape(json, OpenALPRShapes.response(vehicle: true, image: true))
            #expect(json["credit_cost"]?.int == 2)
            #expect(json["credits_monthly_used"]?.int == 2)
            #expect(json["image_bytes"]?.string == Base64.encode(image))
            #expect(json["results"]?[0]?["vehicle"]?["make"]?[0]?["name"]?.string == "riley")
            #expect(json["results"]?[0]?["vehicle"]?["make_model"]?[0]?["name"]?.string == "riley_rmf")
            #expect(json["results"]?[0]?["vehicle"]?["color"]?[0]?["confidence"]?.number == 93.7)
            #expect(json["vehicles"]?.array?.count == 1)
            let call = try #require(harness.recognizer.calls.first)
            #expect(call.options.mmc && call.options.cropped)
            #expect(call.options.regions == ["eu"])
        }
    }

    @Test("POST /v3/recognize_bytes takes raw base64, a JSON string or {\"image_bytes\": ...}")
    func recognizeBytes() async throws {
        let harness = Harness()
        try await harness.run { server in
            let base64 = Base64.encode(TestImages.png(width: 320, height: 200))
            for body in [base64, "\"\(base64)\"", #"{"image_bytes":"\#(base64)"}"#] {
                let response = try await server.request("POST", "/v3/recognize_bytes?\(Self.key)&country=us",
                                                        headers: [("Content-Type", "application/json")], body: Data(body.utf8))
                #expect(response.status == 200, "\(response.body)")
                expectShape(try response.json(), OpenALPRShapes.response())
                #expect(try response.json()["img_width"]?.int == 320)
            }
        }
    }

    @Test("POST /v3/recognize_url fetches an allow-listed loopback image, following a redirect")
    func recognizeURL() async throws {
        try await ImageServer.run { imagePort in
            var harness = Harness(configuration: Harness.keyed(allow: ["127.0.0.1"]))
            harness.fetcher = AHCImageFetcher()
            try await harness.run { server in
                for path in ["/car.png", "/redirect"] {
                    let url = "http://127.0.0.1:\(imagePort)\(path)".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                    let response = try await server.request("POST", "/v3/recognize_url?\(Self.key)&country=us&image_url=\(url)")
                    #expect(response.status == 200, "\(path): \(response.body)")
                    expectShape(try response.json(), OpenALPRShapes.response())
                    #expect(try response.json()["img_width"]?.int == 800)
                }
            }
        }
    }

    @Test("GET /v3/config lists countries and vehicle labels")
    func config() async throws {
        try await Harness().run { server in
            let response = try await server.request("GET", "/v3/config")
            #expect(response.status == 200)
            let json = try response.json()
            let labels: [(String, Shape)] = ["bodytype", "color", "make", "makemodel", "orientation", "year"].map { ($0, .array(.string)) }
            expectShape(json, .object([("countries", .array(.object([("code", .string), ("name", .string)]))),
                                       ("vehicle_labels", .object(labels))]))
            #expect(json["countries"]?.array?.contains(.object([("code", .string("us")), ("name", .string("North America"))])) == true)
        }
    }

    @Test("401 for a missing or wrong secret_key, before anything else is looked at")
    func unauthorized() async throws {
        let harness = Harness()
        try await harness.run { server in
            for query in ["country=us", "secret_key=wrong&country=us", "secret_key=&topn=0"] {
                let response = try await server.post("/v3/recognize?\(query)", multipart: upload())
                #expect(response.status == 401, "\(query)")
                expectShape(try response.json(), OpenALPRShapes.error)
            }
            #expect(harness.recognizer.callCount == 0)
        }
    }
}
