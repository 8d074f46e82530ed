import Foundation
import Hummingbird
import HummingbirdTesting
import PlateCore
import PlateHTTP
import Testing

@Suite struct AdditionalRoutesTests {
    @Test("additional routes are served on the same router and documented in /openapi.json")
    func servedAndDocumented() async throws {
        let extra = AdditionalRoutes(openAPIPaths: [("/extra", .object([("get", .object([("summary", .string("extra"))]))]))]) {
            $0.get("/extra") { _, _ in "hello" }
        }
        let api = try SnapshotAPI(configuration: SnapshotServerConfiguration(port: 0), recognizer: Harness.standardRecognizer(),
                                  imageDecoder: TestDecoder(), usageStore: InMemoryUsageStore(), additional: extra,
                                  logger: Harness.logger)
        try await Application(router: api.makeRouter()).test(.router) { client in
            try await client.execute(uri: "/extra", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "hello")
            }
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("\"/extra\""))
                #expect(body.contains("\"/v1/plate-reader/\""))
            }
        }
    }

    @Test("tokens: any key's Plate Recognizer token with keys; anything without keys")
    func tokens() {
        let open = SnapshotServerConfiguration()
        #expect(open.authorizes(token: nil))
        let keyed = SnapshotServerConfiguration(keys: [.init(name: "a", token: "t-a"), .init(name: "b", huaweiToken: "h-b")])
        #expect(keyed.authorizes(token: "t-a"))
        #expect(!keyed.authorizes(token: nil))
        #expect(!keyed.authorizes(token: ""))
        #expect(!keyed.authorizes(token: "h-b"), "another API's credential is not a token")
        #expect(!keyed.authorizes(token: "t-"))
    }
}
