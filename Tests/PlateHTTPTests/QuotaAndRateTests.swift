import Foundation
import PlateCore
@testable import PlateHTTP
import PlateTesting
import Testing

@Suite("Monthly quotas and rate limits, live")
struct QuotaAndRateTests {
    static let png = TestImages.png(width: 320, height: 240)
    static let june = UsageMonth(year: 2024, month: 6)

    /// One good request for each API, by name.
    static func call(_ api: String, _ server: LiveServer, query: String = "") async throws -> LiveResponse {
        switch api {
        case "platerecognizer":
            return try await server.post("/v1/plate-reader/", multipart: .with { $0.file("upload", png) },
                                         headers: [("Authorization", "Token \(Harness.token)")])
        case "openalpr":
            return try await server.post("/v3/recognize?secret_key=\(Harness.openALPRKey)&country=us\(query)",
                                         multipart: .with { $0.file("image", png) })
        case "nhn":
            return try await server.post(NHNAPITests.path, multipart: .with { $0.file("image", png) },
                                         headers: [("Authorization", Harness.nhnSecret)])
        default:
            return try await server.postJSON(HuaweiAPITests.path, #"{"image":"\#(Base64.encode(png))"}"#,
                                             headers: [("X-Auth-Token", Harness.huaweiToken)])
        }
    }

    @Test("over the monthly quota: each API's own refusal, nothing recognized, nothing counted", arguments: [
        ("platerecognizer", 403, WireJSON.object([("detail", .string(
            "Monthly call limit reached (2 calls). The counter resets on 2024-07-01T00:00:00Z."))])),
        ("openalpr", 402, WireJSON.object([("error", .string("Monthly usage limit exceeded: 2 of 2 credits used"))])),
        ("nhn", 200, WireJSON.object([("header", .object([("isSuccessful", .bool(false)), ("resultCode", .int(4_000_006)),
            ("resultMessage", .string("Api call limit exceeded. If you need to adjust the limit, please contact customer service."))]))])),
        ("huawei", 429, WireJSON.object([("error_code", .string("APIG.0308")), ("error_msg", .string(
            "The throttling threshold has been reached: policy user over ratelimit,limit:2,time:1 month"))])),
    ])
    func overQuota(api: String, status: Int, body: WireJSON) async throws {
        let harness = Harness(configuration: Harness.keyed(monthly: 2))
        try await harness.run { server in
            for _ in 0..<2 { #expect(try await Self.call(api, server).status == 200) }
            let refused = try await Self.call(api, server)
            #expect(refused.status == status)
            #expect(try refused.json() == body)
            #expect(harness.recognizer.callCount == 2)
            #expect(try await harness.store.calls(account: "acme", month: Self.june) == 2)

            // A new month starts a new count.
            harness.clock.advance(25 * 86_400)
            #expect(try await Self.call(api, server).status == 200)
            #expect(try await harness.store.calls(account: "acme", month: UsageMonth(year: 2024, month: 7)) == 1)
        }
    }

    @Test("the quota is shared by every API of an account; OpenALPR's vehicle recognition costs two credits")
    func sharedQuota() async throws {
        let harness = Harness(configuration: Harness.keyed(monthly: 3))
        try await harness.run { server in
            #expect(try await Self.call("platerecognizer", server).status == 200)
            #expect(try await Self.call("nhn", server).status == 200)
            let vehicle = try await Self.call("openalpr", server, query: "&recognize_vehicle=1")
            #expect(vehicle.status == 402, "1 credit left, 2 needed: \(vehicle.body)")
            let plain = try await Self.call("openalpr", server)
            #expect(plain.status == 200)
            #expect(try plain.json()["credits_monthly_used"]?.int == 3)
        }
    }

    @Test("over the rate limit: each API's own refusal and retry hint; the next window is open again", arguments: [
        ("platerecognizer", 429, WireJSON.object([("detail", .string("Request was throttled. Expected available in 1 second."))])),
        ("openalpr", 403, WireJSON.object([("error", .string("Rate limit exceeded: 2 requests per window; retry after 1 s"))])),
        ("nhn", 200, WireJSON.object([("header", .object([("isSuccessful", .bool(false)), ("resultCode", .int(4_000_006)),
            ("resultMessage", .string("Api call limit exceeded. If you need to adjust the limit, please contact customer service."))]))])),
        ("huawei", 429, WireJSON.object([("error_code", .string("APIG.0308")), ("error_msg", .string(
            "The throttling threshold has been reached: policy user over ratelimit,limit:2,time:1 second"))])),
    ])
    func overRate(api: String, status: Int, body: WireJSON) async throws {
        let harness = Harness(configuration: Harness.keyed(rate: 2))
        try await harness.run { server in
            for _ in 0..<2 { #expect(try await Self.call(api, server).status == 200) }
            let refused = try await Self.call(api, server)
            #expect(refused.status == status)
            #expect(try refused.json() == body)
            if api == "platerecognizer" { #expect(refused.header("Retry-After") == "1") }
            if api == "openalpr" {
                #expect(refused.header("X-RateLimit-Limit") == "2")
                #expect(refused.header("X-Ratelimit-Remaining") == "0")
                #expect(refused.header("X-Ratelimit-Reset") == "1718000001")
            }
            #expect(harness.recognizer.callCount == 2)
            harness.clock.advance(1)
            #expect(try await Self.call(api, server).status == 200)
        }
    }

    @Test("usage survives a restart: a new server on the same store continues the count")
    func persistence() async throws {
        let store = InMemoryUsageStore()
        var first = Harness(configuration: Harness.keyed(monthly: 3))
        first.store = store
        try await first.run { server in
            for _ in 0..<2 {
                let response = try await Self.call("platerecognizer", server)
                #expect(response.status == 200)
            }
        }
        var second = Harness(configuration: Harness.keyed(monthly: 3))
        second.store = store
        try await second.run { server in
            let statistics = try await server.request("GET", "/v1/statistics/", headers: [("Authorization", "Token \(Harness.token)")])
            #expect(try statistics.json()["usage"]?["calls"]?.int == 2)
            let third = try await Self.call("platerecognizer", server)
            #expect(try third.json()["usage"]?["calls"]?.int == 3)
            #expect(try await Self.call("platerecognizer", server).status == 403)
        }
    }

    @Test("a recognizer failure answers each API's server error and is not charged")
    func recognizerFailure() async throws {
        let harness = Harness(recognizer: .failing())
        try await harness.run { server in
            let pr = try await Self.call("platerecognizer", server)
            #expect(pr.status == 500)
            #expect(try pr.json() == .object([("detail", .string("Recognition failed."))]))
            #expect(try await Self.call("openalpr", server).status == 500)
            let nhn = try await Self.call("nhn", server)
            #expect(try nhn.json()["header"]?["resultCode"]?.int == -1)
            let huawei = try await Self.call("huawei", server)
            #expect(huawei.status == 500)
            #expect(try huawei.json()["error_code"]?.string == "AIS.0105")
            #expect(try await harness.store.calls(account: "acme", month: Self.june) == 0)
            // And the server still answers.
            #expect(try await server.request("GET", "/healthz").status == 200)
        }
    }

    @Test("concurrent calls never pass the quota (reserve is atomic)")
    func concurrentQuota() async throws {
        let harness = Harness(configuration: Harness.keyed(monthly: 5))
        try await harness.run { server in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<12 { group.addTask { try await Self.call("platerecognizer", server).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 5)
            #expect(statuses.filter { $0 == 403 }.count == 7)
            #expect(try await harness.store.calls(account: "acme", month: Self.june) == 5)
        }
    }

    @Test("no more recognitions run at once than limits.max_concurrent_recognitions; the rest wait their turn")
    func concurrencyBound() async throws {
        let recognizer = FixedRecognizer(plates: [FixedRecognizer.plate("ABC123")], delay: 0.5, meeting: 2)
        let harness = Harness(configuration: Harness.keyed(monthly: nil, limits: .init(maxConcurrentRecognitions: 2)), recognizer: recognizer)
        try await harness.run { server in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 { group.addTask { try await Self.call("nhn", server).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == [200, 200, 200, 200, 200, 200])
            #expect(recognizer.callCount == 6)
            #expect(recognizer.maxConcurrentCalls == 2)
        }
    }
}
