import Foundation
@testable import PlateHTTP
import Testing

/// Parses a whole body in chunks of `chunkSize` and returns the parts as (head, body).
func parseMultipart(_ body: [UInt8], boundary: String, chunkSize: Int = .max,
                    limits: MultipartParser.Limits = .init()) throws -> [(MultipartPartHead, [UInt8])] {
    var parser = MultipartParser(boundary: boundary, limits: limits)
    var parts: [(MultipartPartHead, [UInt8])] = []
    var index = 0
    repeat {
        let end = min(body.count, index + max(1, min(chunkSize, body.count)))
        for event in try parser.feed(body[index..<end]) {
            switch event {
            case .begin(let head): parts.append((head, []))
            case .body(let bytes): parts[parts.count - 1].1 += bytes
            case .end, .finished: break
            }
        }
        index = end
    } while index < body.count
    try parser.finish()
    return parts
}

@Suite("Multipart parser")
struct MultipartParserTests {
    static let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    static var body: [UInt8] {
        var form = MultipartBody(boundary: boundary)
        form.field("regions", "us-ca")
        form.file("upload", filename: "car.jpg", Data([0x0D, 0x0A, 0x2D, 0x2D, 0xFF, 0xD8] + Array("--\(boundary)x".utf8)))
        form.field("empty", "")
        return Array(form.data)
    }

    @Test("parts come out the same whatever the chunk size, including one byte at a time")
    func chunkIndependence() throws {
        let whole = try parseMultipart(Self.body, boundary: Self.boundary)
        #expect(whole.count == 3)
        #expect(whole[0].0 == MultipartPartHead(name: "regions", filename: nil, contentType: nil))
        #expect(whole[0].1 == Array("us-ca".utf8))
        #expect(whole[1].0 == MultipartPartHead(name: "upload", filename: "car.jpg", contentType: "image/jpeg"))
        #expect(whole[1].1 == [0x0D, 0x0A, 0x2D, 0x2D, 0xFF, 0xD8] + Array("--\(Self.boundary)x".utf8),
                "a near-delimiter inside the data is data")
        #expect(whole[2].1.isEmpty)
        for size in [1, 2, 3, 7, 41, 42, 43, 100] {
            let chunked = try parseMultipart(Self.body, boundary: Self.boundary, chunkSize: size)
            #expect(chunked.map(\.0) == whole.map(\.0), "chunk size \(size)")
            #expect(chunked.map(\.1) == whole.map(\.1), "chunk size \(size)")
        }
    }

    @Test("preamble, epilogue, transport padding, a first boundary without CRLF, folded headers, RFC 5987 names")
    func rfcDetails() throws {
        let body = "This is the preamble.\r\n--XyZ  \t\r\nContent-Disposition: form-data;\r\n name=\"f\"; filename*=UTF-8''na%C3%AFve%20car.jpg\r\n"
            + "content-type: Image/PNG\r\n\r\nDATA\r\n--XyZ--\r\nepilogue --XyZ garbage"
        let parts = try parseMultipart(Array(body.utf8), boundary: "XyZ")
        #expect(parts.count == 1)
        #expect(parts[0].0 == MultipartPartHead(name: "f", filename: "naïve car.jpg", contentType: "image/png"))
        #expect(parts[0].1 == Array("DATA".utf8))
        let bare = try parseMultipart(Array("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--".utf8), boundary: "b")
        #expect(bare.first?.1 == Array("1".utf8))
    }

    @Test("malformed bodies throw instead of guessing", arguments: [
        "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nno closing boundary",
        "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
        "--b\r\nContent-Disposition: attachment; name=\"x\"\r\n\r\nx\r\n--b--",
        "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--",
        "--b\r\nNo colon\r\n\r\nx\r\n--b--",
        "--bX\r\n",
        "--b\rContent-Disposition: form-data; name=\"x\"\r\n\r\nx\r\n--b--",
        "",
    ])
    func malformed(body: String) {
        #expect(throws: MultipartError.self) { _ = try parseMultipart(Array(body.utf8), boundary: "b") }
    }

    @Test("limits: parts, header block, preamble")
    func limits() {
        var many = ""
        for i in 0..<5 { many += "--b\r\nContent-Disposition: form-data; name=\"f\(i)\"\r\n\r\nv\r\n" }
        many += "--b--"
        #expect(throws: MultipartError.tooManyParts(4)) {
            _ = try parseMultipart(Array(many.utf8), boundary: "b", limits: .init(maxParts: 4))
        }
        #expect(throws: Never.self) { _ = try parseMultipart(Array(many.utf8), boundary: "b", limits: .init(maxParts: 5)) }
        let longHeader = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\nX-Pad: \(String(repeating: "a", count: 600))\r\n\r\nv\r\n--b--"
        #expect(throws: MultipartError.headerTooLong(512)) {
            _ = try parseMultipart(Array(longHeader.utf8), boundary: "b", chunkSize: 64, limits: .init(maxHeaderBytes: 512))
        }
        // A header block that never ends is refused once it passes the limit, not buffered forever.
        var parser = MultipartParser(boundary: "b", limits: .init(maxHeaderBytes: 1024))
        #expect(throws: MultipartError.headerTooLong(1024)) {
            _ = try parser.feed(Array("--b\r\nX: ".utf8))
            for _ in 0..<100 { _ = try parser.feed([UInt8](repeating: 0x61, count: 100)) }
        }
        #expect(throws: MultipartError.self) {
            _ = try parseMultipart([UInt8](repeating: 0x20, count: 20_000), boundary: "b", limits: .init(maxPreambleBytes: 1000))
        }
    }

    @Test("Content-Type parameters and boundaries")
    func contentType() {
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartParser.boundary(contentType: "Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b:c\"") == "a b:c")
        #expect(MultipartParser.boundary(contentType: "multipart/form-data") == nil)
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=") == nil)
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=\(String(repeating: "x", count: 71))") == nil)
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=\"ends \"") == nil)
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=a\u{7F}b") == nil)
        #expect(MultipartParser.boundary(contentType: "multipart/mixed; boundary=abc") == nil)
        #expect(MediaTypeValue("text/plain; q=\"a\\\"b\"")?.parameters["q"] == "a\"b")
        #expect(MediaTypeValue("text/plain; q=\"unterminated") == nil)
        #expect(MediaTypeValue("; x=1") == nil)
        #expect(MediaTypeValue("application/json;")?.value == "application/json")
    }

    @Test("url-encoded forms and percent-decoding")
    func urlEncoded() {
        let pairs = FormURLEncoded.parse(Array("a=1&b=x+y%2Bz&a=2&flag&&c=%E2%82%AC".utf8))
        #expect(pairs?.map(\.name) == ["a", "b", "a", "flag", "c"])
        #expect(pairs?.map(\.value) == ["1", "x y+z", "2", "", "€"])
        #expect(FormURLEncoded.parse(Array("a=%zz".utf8)) == nil)
        #expect(FormURLEncoded.parse(Array("a=%4".utf8)) == nil)
        #expect(FormURLEncoded.parse(Array("a=%FF".utf8)) == nil, "not UTF-8")
    }

    @Test("a JSON body's numbers become form text, also whole numbers past Int's range (found by scripts/fuzz)")
    func jsonNumbersAsFormText() {
        let form = PlateRecognizerAPI.form(fromJSON: ["a": .number(12), "b": .number(1.5), "c": .number(1e300),
                                                      "d": .number(-1e300), "e": .number(-0.0)])
        #expect(form.fields.map(\.value) == ["12", "1.5", "1e+300", "-1e+300", "0"])
    }
}

@Suite("Base64")
struct Base64Tests {
    @Test("round-trips every length against Foundation, in both alphabets, wrapped or not")
    func roundTrip() throws {
        var generator = SeededGenerator(seed: 42)
        for length in 0..<300 {
            let data = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let encoded = Base64.encode(data)
            #expect(encoded == data.base64EncodedString())
            #expect(try Base64.decode(encoded.utf8) == data)
            #expect(try Base64.decode(data.base64EncodedString(options: .lineLength64Characters).utf8) == data)
            let urlSafe = encoded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(try Base64.decode(urlSafe.utf8) == data)
        }
    }

    @Test("a data: URL prefix and surrounding whitespace are skipped")
    func dataURL() throws {
        #expect(try Base64.decode("  data:image/jpeg;base64,QUJD\n".utf8) == Data("ABC".utf8))
        #expect(throws: Base64.DecodingError.self) { try Base64.decode("data:image/jpeg,QUJD".utf8) }
    }

    @Test("invalid text is refused with where it went wrong", arguments: [
        ("QUJ", false), ("Q", true), ("QU=J", true), ("QUJD=", true), ("QUJD====", true), ("QU==QU==", true),
        ("QU!D", true), ("QUJD\u{00}", true), ("=QUJ", true), ("QUJ==", true),
    ])
    func invalid(text: String, throwsError: Bool) {
        if throwsError {
            #expect(throws: Base64.DecodingError.self) { try Base64.decode(text.utf8) }
        } else {
            #expect(throws: Never.self) { try Base64.decode(text.utf8) }
        }
    }

    @Test("the size limit stops decoding early")
    func limit() {
        let text = String(repeating: "QUJD", count: 10_000)           // 30 000 bytes
        #expect(throws: Base64.DecodingError.tooLarge(1000)) { try Base64.decode(text.utf8, maxBytes: 1000) }
        #expect(throws: Never.self) { try Base64.decode(text.utf8, maxBytes: 30_000) }
    }
}

/// A small deterministic generator (SplitMix64) so that failures can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("ISO 8601 timestamps")
struct TimestampTests {
    @Test("the forms Plate Recognizer clients send")
    func parse() throws {
        let base = try #require(ISO8601Timestamp.parse("2019-08-19T13:11:25"))
        #expect(base.timeIntervalSince1970 == 1_566_220_285)
        #expect(ISO8601Timestamp.parse("2019-08-19T13:11:25Z") == base)
        #expect(ISO8601Timestamp.parse("2019-08-19 15:11:25+02:00") == base)
        #expect(ISO8601Timestamp.parse("2019-08-19T08:11:25-0500") == base)
        #expect(ISO8601Timestamp.parse("2019-08-19T13:11:25.5Z")?.timeIntervalSince1970 == 1_566_220_285.5)
        #expect(ISO8601Timestamp.parse("2019-08-19T13:11")?.timeIntervalSince1970 == 1_566_220_260)
        for bad in ["2019-08-19", "2019-13-01T00:00:00", "2019-02-30T00:00:00", "2019-08-19T25:00:00", "yesterday",
                    "2019-08-19T13:11:25.Z", "2019-08-19T13:11:25+2", "2019-08-19T13:11:25Zulu"] {
            #expect(ISO8601Timestamp.parse(bad) == nil, "\(bad)")
        }
    }
}
