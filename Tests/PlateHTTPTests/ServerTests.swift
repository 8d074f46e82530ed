import Foundation
import Hummingbird
import HummingbirdTesting
@testable import PlateHTTP
import PlateTesting
import Testing

@Suite("Server: configuration, start-up checks, health, metrics, OpenAPI")
struct ServerTests {
    @Test("defaults: 127.0.0.1:8080, no keys needed")
    func defaults() throws {
        let configuration = SnapshotServerConfiguration()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.effectiveAuth == .disabled)
        #expect(throws: Never.self) { try configuration.validate() }
        let decoded = try SnapshotServerConfiguration.decode(json: Data("{}".utf8))
        #expect(decoded == configuration)
    }

    @Test("listening beyond loopback needs keys or an explicit auth: none", arguments: ["0.0.0.0", "::", "192.168.1.10", "example.com"])
    func exposedWithoutKeys(host: String) throws {
        var configuration = SnapshotServerConfiguration(host: host)
        do throws(ConfigurationError) {
            try configuration.validate()
            Issue.record("\(host) without keys was accepted")
        } catch {
            #expect(error.message.contains("refusing to listen on \(host):8080 without API keys"))
            #expect(error.message.contains("\"auth\": \"none\""))
        }
        #expect(throws: ConfigurationError.self) {
            _ = try SnapshotAPI(configuration: configuration, recognizer: Harness.standardRecognizer(), imageDecoder: TestDecoder(),
                                usageStore: InMemoryUsageStore())
        }
        configuration.auth = .disabled
        #expect(throws: Never.self) { try configuration.validate() }
        configuration.auth = nil
        configuration.keys = [.init(name: "a", token: "t")]
        #expect(throws: Never.self) { try configuration.validate() }
        for loopback in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] {
            #expect(throws: Never.self, "\(loopback)") { try SnapshotServerConfiguration(host: loopback).validate() }
        }
    }

    @Test("inconsistent settings are refused at start-up with a message naming the key", arguments: [
        (#"{"auth":"keys"}"#, "http.auth is \"keys\" but http.keys is empty"),
        (#"{"auth":"none","keys":[{"name":"a","token":"t"}]}"#, "http.auth is \"none\" but http.keys lists 1 key"),
        (#"{"keys":[{"name":"a","token":"t","plan":"gold"}]}"#, "http.keys[0].plan \"gold\" is not in http.plans"),
        (#"{"keys":[{"name":"a","token":"t"},{"name":"b","token":"t"}]}"#, "http.keys[1].token is the same as a's"),
        (#"{"keys":[{"name":"a","token":"t"},{"name":"a","token":"u"}]}"#, "http.keys[1].name \"a\" is used twice"),
        (#"{"keys":[{"name":"a"}]}"#, "has no credential"),
        (#"{"keys":[{"name":"a","nhn_app_key":"x"}]}"#, "nhn_app_key and nhn_secret_key go together"),
        (#"{"plans":{"p":{"rate_limit":{"requests":0}}}}"#, "http.plans.p.rate_limit.requests must be >= 1"),
        (#"{"recognize_url":{"allow":["10.0.0.0/99"]}}"#, "\"10.0.0.0/99\" is neither an address"),
        (#"{"anonymous_plan":"missing"}"#, "http.anonymous_plan \"missing\" is not in http.plans"),
        (#"{"port":70000}"#, "http.port: 70000 is not a TCP port"),
        (#"{"limits":{"max_image_bytes":10}}"#, "http.limits.max_image_bytes must be >= 1024"),
    ])
    func invalid(json: String, message: String) throws {
        let configuration = try SnapshotServerConfiguration.decode(json: Data(json.utf8))
        do throws(ConfigurationError) {
            try configuration.validate()
            Issue.record("accepted: \(json)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("unknown keys and wrong types are refused while decoding, naming the path")
    func strictDecoding() {
        for (json, fragment) in [(#"{"hots":"0.0.0.0"}"#, "unknown key(s) \"hots\""),
                                 (#"{"limits":{"max_pixel":1}}"#, "http.limits: unknown key(s) \"max_pixel\""),
                                 (#"{"keys":[{"name":"a","tokn":"x"}]}"#, "http.keys.0: unknown key(s) \"tokn\""),
                                 (#"{"port":"8080"}"#, "http.port"),
                                 (#"{"auth":"maybe"}"#, "http.auth")] {
            do throws(ConfigurationError) {
                _ = try SnapshotServerConfiguration.decode(json: Data(json.utf8))
                Issue.record("accepted: \(json)")
            } catch {
                #expect(error.message.contains(fragment), "\(json): \(error.message)")
            }
        }
    }

    @Test("a full configuration decodes")
    func fullConfiguration() throws {
        let json = """
        {"host": "0.0.0.0", "port": 9000,
         "plans": {"standard": {"monthly_calls": 10000, "rate_limit": {"requests": 5, "per_seconds": 2}}},
         "keys": [{"name": "gate-1", "plan": "standard", "token": "a", "openalpr_secret_key": "b", "nhn_app_key": "c",
                   "nhn_secret_key": "d", "huawei_token": "e", "huawei_project_id": "f"}],
         "limits": {"max_image_bytes": 5242880, "max_pixels": 20000000, "max_concurrent_recognitions": 3},
         "recognize_url": {"enabled": true, "allow": ["10.1.2.0/24", "camera.lan"], "timeout_seconds": 4, "max_redirects": 1},
         "version": "2.0", "license_key": "L", "webhooks": ["http://x/"], "idle_timeout_seconds": 30}
        """
        let configuration = try SnapshotServerConfiguration.decode(json: Data(json.utf8))
        try configuration.validate()
        #expect(configuration.effectiveAuth == .keys)
        #expect(configuration.plans["standard"]?.rateLimit == .init(requests: 5, perSeconds: 2))
        #expect(configuration.keys.first?.huaweiProjectID == "f")
        #expect(configuration.limits.maxConcurrentRecognitions == 3)
        #expect(configuration.limits.maxMultipartParts == 32, "absent limits keep their defaults")
        #expect(configuration.recognizeURL.maxRedirects == 1)
    }

    @Test("/healthz, /metrics (the injected renderer) and 404 for unknown paths, live")
    func healthAndMetrics() async throws {
        try await Harness().run { server in
            let health = try await server.request("GET", "/healthz")
            #expect(health.status == 200)
            #expect(try health.json() == .object([("status", .string("ok"))]))
            let metrics = try await server.request("GET", "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(metrics.body.contains("platestream_up 1"))
            #expect(try await server.request("GET", "/nope").status == 404)
        }
    }

    @Test("/openapi.json is OpenAPI 3 and documents exactly the routes the server has, live")
    func openAPI() async throws {
        try await Harness().run { server in
            let response = try await server.request("GET", "/openapi.json")
            #expect(response.status == 200)
            let json = try response.json()
            #expect(json["openapi"]?.string?.hasPrefix("3.") == true)
            #expect(json["info"]?["version"]?.string == "1.2.3")
            var documented: [String] = []
            for path in json["paths"]?.keys ?? [] {
                for method in json["paths"]?[path]?.keys ?? [] { documented.append("\(method.uppercased()) \(path)") }
            }
            #expect(documented.sorted() == SnapshotAPI.routes.sorted())
            // Every route in the list answers something other than 404 (405 would mean a wrong method).
            for route in SnapshotAPI.routes {
                let parts = route.split(separator: " ")
                let path = String(parts[1]).replacingOccurrences(of: "{appKey}", with: "k").replacingOccurrences(of: "{project_id}", with: "p")
                let answer = try await server.request(String(parts[0]), path)
                #expect(answer.status != 404, "\(route) → \(answer.status)")
            }
            // Every $ref resolves.
            let text = response.body
            var refs = Set<String>()
            var rest = Substring(text)
            while let range = rest.range(of: "\"#/components/schemas/") {
                let after = rest[range.upperBound...]
                if let end = after.firstIndex(of: "\"") { refs.insert(String(after[..<end])) }
                rest = after
            }
            let schemas = Set(json["components"]?["schemas"]?.keys ?? [])
            #expect(refs.isSubset(of: schemas), "\(refs.subtracting(schemas))")
        }
    }

    @Test("without a metrics renderer /metrics is 404; routes work through HummingbirdTesting's router framework too")
    func routerFramework() async throws {
        let api = try SnapshotAPI(configuration: SnapshotServerConfiguration(port: 0), recognizer: Harness.standardRecognizer(),
                                  imageDecoder: TestDecoder(), usageStore: InMemoryUsageStore(), logger: Harness.logger)
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            var form = MultipartBody()
            form.file("upload", TestImages.png(width: 100, height: 50))
            try await client.execute(uri: "/v1/plate-reader/", method: .post, headers: [.contentType: form.contentType],
                                     body: ByteBuffer(bytes: form.data)) { response in
                #expect(response.status == .ok)
                let json = try WireJSON.parse(String(buffer: response.body))
                expectShape(json, .objectWith([("results", .array(PlateRecognizerShapes.result)), ("usage", .any)]))
                #expect(json["usage"]?["max_calls"] == .null, "anonymous without a plan: unlimited")
            }
            try await client.execute(uri: "/v3/recognize?country=us", method: .post, headers: [.contentType: "text/plain"],
                                     body: ByteBuffer(string: "x")) { #expect($0.status == .badRequest) }
        }
    }
}

@Suite("Rate windows and usage counting")
struct RateAndUsageTests {
    @Test("a fixed window counts calls, refuses past the limit with the time to wait, and opens again")
    func fixedWindow() {
        var limit = FixedWindowRateLimit(limit: 3, window: 10)
        let first = limit.handle(now: 100.5)
        #expect(first == .init(allowed: true, limit: 3, window: 10, remaining: 2, resetAt: 110, retryAfter: 0))
        #expect(limit.handle(now: 101).remaining == 1)
        #expect(limit.handle(now: 109).remaining == 0)
        let refused = limit.handle(now: 109.5)
        #expect(!refused.allowed)
        #expect(refused.retryAfter == 0.5)
        #expect(limit.handle(now: 110).allowed, "the next window starts at 110")
        #expect(limit.handle(now: 125).remaining == 2, "an idle window resets")
    }

    @Test("the in-memory store reserves atomically within the limit, releases, and keeps months apart")
    func store() async throws {
        let store: any UsageStore = InMemoryUsageStore()
        let june = UsageMonth(year: 2024, month: 6)
        #expect(try await store.reserve(account: "a", month: june, cost: 2, limit: 3) == 2)
        #expect(try await store.reserve(account: "a", month: june, cost: 2, limit: 3) == nil)
        #expect(try await store.reserve(account: "a", month: june, cost: 1, limit: 3) == 3)
        #expect(try await store.reserve(account: "a", month: june.next, cost: 1, limit: 3) == 1)
        #expect(try await store.reserve(account: "b", month: june, cost: 5, limit: nil) == 5)
        try await store.release(account: "a", month: june, cost: 10)
        #expect(try await store.calls(account: "a", month: june) == 0)
        #expect(june.next == UsageMonth(year: 2024, month: 7))
        #expect(UsageMonth(year: 2024, month: 12).next == UsageMonth(year: 2025, month: 1))
        #expect(UsageMonth(containing: Date(timeIntervalSince1970: 1_718_000_000)) == june)
        #expect(june.next.start == Date(timeIntervalSince1970: 1_719_792_000))
        #expect(june.description == "2024-06")
    }

    @Test("secrets compare in constant time and correctly")
    func constantTime() {
        #expect(constantTimeEquals("abc", "abc"))
        #expect(!constantTimeEquals("abc", "abd"))
        #expect(!constantTimeEquals("abc", "abcd"))
        #expect(!constantTimeEquals("", "a"))
        #expect(constantTimeEquals("", ""))
    }
}
