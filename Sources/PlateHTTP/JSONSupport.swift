import Foundation
import Hummingbird
import PlateCore

/// A JSON response with the key order the value was built in.
func jsonResponse(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
    var fields = headers
    fields[.contentType] = "application/json"
    return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized())))
}

/// JSON read from a client: any shape, decoded strictly (a number is never a Boolean).
enum JSONInput: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONInput])
    case object([String: JSONInput])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONInput].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONInput].self))
        }
    }

    /// Parses JSON text; nil when it is not valid JSON.
    static func parse(_ bytes: [UInt8]) -> JSONInput? {
        try? JSONDecoder().decode(JSONInput.self, from: Data(bytes))
    }

    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var numberValue: Double? { if case .number(let n) = self { n } else { nil } }
    var objectValue: [String: JSONInput]? { if case .object(let o) = self { o } else { nil } }

    /// A short name of the value's type, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// Name-value pairs of a URL's query string, percent-decoded; empty when the query is malformed.
func queryPairs(_ request: Request) -> [(name: String, value: String)] {
    guard let query = request.uri.query else { return [] }
    return FormURLEncoded.parse(Array(query.utf8)) ?? []
}

/// The first value of `name` in `pairs`.
func first(_ name: String, in pairs: [(name: String, value: String)]) -> String? {
    pairs.first { $0.name == name }?.value
}

/// The media type of the request's Content-Type (lower case, no parameters), nil when absent.
func mediaType(of request: Request) -> (value: String, raw: String)? {
    guard let raw = request.headers[.contentType] else { return nil }
    return (MediaTypeValue(raw)?.value ?? raw.lowercased(), raw)
}

/// Compares two secrets in time that depends only on their lengths, not on where they differ.
func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
    for i in 0..<max(x.count, y.count) {
        difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
    }
    return difference == 0
}

/// Milliseconds, rounded to 3 decimals, as Plate Recognizer prints `processing_time`.
func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return ((Double(seconds) * 1000 + Double(attoseconds) / 1e15) * 1000).rounded() / 1000
}

/// A value, or what to do instead (a response to send, a message to report): `Result` without
/// its `Error` constraint.
enum Attempt<Value, Problem> {
    case success(Value)
    case failure(Problem)
}

extension HTTPResponse.Status {
    /// 402, which swift-http-types does not name.
    static let paymentRequired = HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
}

/// A score as Plate Recognizer prints it: rounded to 3 decimals.
func score3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

/// The plate's corners clockwise from the top-left: the detector's quad, or the box's corners.
func cornersOf(_ plate: PlateRead) -> [Point] {
    plate.corners?.corners ?? [
        Point(x: plate.box.xmin, y: plate.box.ymin), Point(x: plate.box.xmax, y: plate.box.ymin),
        Point(x: plate.box.xmax, y: plate.box.ymax), Point(x: plate.box.xmin, y: plate.box.ymax),
    ]
}
