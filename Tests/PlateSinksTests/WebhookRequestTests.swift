import Foundation
import PlateCore
import PlateSinks
import Testing

@Suite struct WebhookRequestTests {
    let message = WebhookMessage(idempotencyKey: "key-1", hookID: .string("camera-1"), hookEvent: "recognition",
                                 filename: "camera-1_screenshots/a b.jpg",
                                 data: .object([("plate", .string("ab&c=1+2 %é")), ("score", .number(0.9))]))

    private func envelope(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func streamFormatIsAFormFieldNamedJson() throws {
        let headers = [try WebhookHeader(parsing: "Authorization: Token xyz")]
        let request = WebhookRequest(message: message, target: "http://h/x", format: .stream, headers: headers, boundary: "b")
        #expect(request.header("content-type") == "application/x-www-form-urlencoded")
        #expect(request.header("Idempotency-Key") == "key-1")
        #expect(request.header("authorization") == "Token xyz")
        let fields = FormReader.parse(Array(request.body))
        let json = try envelope(Data(try #require(fields["json"]).utf8))
        let hook = try #require(json["hook"] as? [String: Any])
        #expect(hook["target"] as? String == "http://h/x")
        #expect(hook["id"] as? String == "camera-1")
        #expect(hook["event"] as? String == "recognition")
        #expect(hook["filename"] as? String == "camera-1_screenshots/a b.jpg")
        let data = try #require(json["data"] as? [String: Any])
        #expect(data["plate"] as? String == "ab&c=1+2 %é")
        // Only unreserved characters travel unescaped.
        #expect(String(decoding: request.body, as: UTF8.self).allSatisfy { $0.isASCII && $0 != " " && $0 != "+" })
    }

    @Test func snapshotFormatIsAJSONBodyInTheDocumentedOrder() throws {
        let snapshot = WebhookMessage(idempotencyKey: "k", hookID: .integer(2), hookEvent: "image.done",
                                      data: .object([("processing_time", .number(0.186))]))
        let request = WebhookRequest(message: snapshot, target: "http://localhost:8081/", format: .snapshot, headers: [], boundary: "b")
        #expect(request.header("content-type") == "application/json")
        #expect(String(decoding: request.body, as: UTF8.self)
            == #"{"hook":{"target":"http://localhost:8081/","id":2,"event":"image.done"},"data":{"processing_time":0.186}}"#)
    }

    @Test func withAnImageBothFormatsSendMultipart() throws {
        var withImage = message
        withImage.image = Data([0xFF, 0xD8, 0x0D, 0x0A, 0x2D, 0x2D, 0x00, 0xFF, 0xD9])   // CRLF and "--" inside
        for format in WebhookFormat.allCases {
            let request = WebhookRequest(message: withImage, target: "http://h/", format: format, headers: [], boundary: "XyZ")
            let contentType = try #require(request.header("content-type"))
            #expect(contentType == "multipart/form-data; boundary=XyZ")
            let parts = try MultipartReader.parse(Array(request.body), contentType: contentType)
            #expect(parts.map(\.name) == ["json", "upload"])
            let json = try envelope(Data(parts[0].body))
            #expect((json["hook"] as? [String: Any])?["id"] as? String == "camera-1")
            #expect(parts[1].body == Array(withImage.image!))
            #expect(parts[1].filename == "a b.jpg")
            #expect(parts[1].headers["content-type"] == "image/jpeg")
        }
    }

    @Test func formEncoding() {
        #expect(WebhookRequest.formEncode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9")
        #expect(WebhookRequest.formEncode("AZaz09-._*") == "AZaz09-._*")
    }

    @Test func headersAreValidated() throws {
        let header = try WebhookHeader(parsing: "  X-Api-Key :  s3cret  ")
        #expect(header.name == "X-Api-Key" && header.value == "s3cret")
        #expect(throws: SinkError.self) { try WebhookHeader(parsing: "no colon") }
        #expect(throws: SinkError.self) { try WebhookHeader(parsing: "Content-Type: text/plain") }
        #expect(throws: SinkError.self) { try WebhookHeader(parsing: "Idempotency-Key: mine") }
        #expect(throws: SinkError.self) { try WebhookHeader(name: "Bad Name", value: "x") }
        #expect(throws: SinkError.self) { try WebhookHeader(name: "X-Injected", value: "a\r\nEvil: 1") }
    }

    @Test func configurationIsValidatedAtStartUp() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("outbox.sqlite")
        #expect(throws: SinkError.self) { try WebhookOutbox(configuration: .init(targets: [], databasePath: path)) }
        #expect(throws: SinkError.self) { try WebhookOutbox(configuration: .init(targets: ["ftp://x/"], databasePath: path)) }
        #expect(throws: SinkError.self) { try WebhookOutbox(configuration: .init(targets: ["not a url"], databasePath: path)) }
        // An image is wanted but nothing can encode it.
        #expect(throws: SinkError.self) {
            try WebhookOutbox(configuration: .init(targets: ["http://127.0.0.1:1/"], image: .vehicle, databasePath: path))
        }
    }
}
