public import Foundation
import PlateCore

/// The HTTP request of one webhook attempt, before it meets an HTTP client: pure, so its bytes are testable.
public struct WebhookRequest: Sendable, Equatable {
    /// The target URL.
    public var url: String
    /// Headers in order: the configured ones, then `Content-Type`, `Idempotency-Key`, `User-Agent`.
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: Data

    /// Compares headers in order.
    public static func == (lhs: WebhookRequest, rhs: WebhookRequest) -> Bool {
        lhs.url == rhs.url && lhs.body == rhs.body
            && lhs.headers.count == rhs.headers.count
            && zip(lhs.headers, rhs.headers).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// The value of a header (first match, case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The request for `message` to `target`: the envelope `{"hook": {"target", "id", "event", "filename"?},
    /// "data": ...}` as a form field `json` (Stream), as the body (Snapshot), or with the image as the
    /// `multipart/form-data` fields `json` and `upload` (either format). `boundary` separates multipart parts.
    public init(message: WebhookMessage, target: String, format: WebhookFormat, headers extra: [WebhookHeader],
                boundary: String) {
        self.init(dataJSON: message.data.serialized(), hookIDJSON: message.hookID.serialized(), hookEvent: message.hookEvent,
                  filename: message.filename, image: message.image, idempotencyKey: message.idempotencyKey,
                  target: target, format: format, headers: extra, boundary: boundary)
    }

    /// The same from the stored pieces: `dataJSON` and `hookIDJSON` are serialized JSON.
    init(dataJSON: String, hookIDJSON: String, hookEvent: String, filename: String?, image: Data?, idempotencyKey: String,
         target: String, format: WebhookFormat, headers extra: [WebhookHeader], boundary: String) {
        // `id` and `data` are spliced in as text: they were serialized when queued, and parsing them back
        // just to print them again could only change them.
        var hook = "{\"target\":" + JSONValue.string(target).serialized() + ",\"id\":" + hookIDJSON
            + ",\"event\":" + JSONValue.string(hookEvent).serialized()
        if let filename { hook += ",\"filename\":" + JSONValue.string(filename).serialized() }
        let envelope = "{\"hook\":" + hook + "},\"data\":" + dataJSON + "}"
        var headers = extra.map { (name: $0.name, value: $0.value) }
        if let image {
            var body = Data()
            func text(_ string: String) { body.append(contentsOf: Array(string.utf8)) }
            text("--\(boundary)\r\n")
            text("Content-Disposition: form-data; name=\"json\"\r\n")
            text("Content-Type: application/json; charset=utf-8\r\n\r\n")
            text(envelope)
            text("\r\n--\(boundary)\r\n")
            let uploadName = Self.uploadFilename(filename: filename, key: idempotencyKey)
            text("Content-Disposition: form-data; name=\"upload\"; filename=\"\(uploadName)\"\r\n")
            text("Content-Type: image/jpeg\r\n\r\n")
            body.append(image)
            text("\r\n--\(boundary)--\r\n")
            self.body = body
            headers.append(("Content-Type", "multipart/form-data; boundary=\(boundary)"))
        } else {
            switch format {
            case .stream:
                self.body = Data(("json=" + Self.formEncode(envelope)).utf8)
                headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            case .snapshot:
                self.body = Data(envelope.utf8)
                headers.append(("Content-Type", "application/json"))
            }
        }
        headers.append(("Idempotency-Key", idempotencyKey))
        headers.append(("User-Agent", "PlateStream"))
        self.url = target
        self.headers = headers
    }

    /// `application/x-www-form-urlencoded` encoding of a value: letters, digits and `-._*` as they are,
    /// every other UTF-8 byte as `%XX` (space too, which every decoder reads back as a space).
    public static func formEncode(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count * 2)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "*"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// The `upload` part's file name: the saved image's base name, else the key; only characters that need
    /// no escaping in a quoted header parameter.
    static func uploadFilename(filename: String?, key: String) -> String {
        let base = filename.map { ($0 as NSString).lastPathComponent } ?? "\(key).jpg"
        let safe = String(base.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && scalar.value >= 0x20 && scalar != "\"" && scalar != "\\" ? Character(scalar) : "_"
        })
        return safe.isEmpty ? "\(key).jpg" : safe
    }
}
