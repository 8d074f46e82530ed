/// A JSON value whose objects keep their keys in the order they were built.
///
/// Why not `JSONEncoder`: Plate Recognizer's outputs have a documented key order (not sorted), and
/// consumers written against them diff and grep the text; `JSONEncoder` only promises sorted or
/// unspecified order, and prints `/` as `\/`. This writer prints what the reference prints.
public enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// A whole number, printed without a decimal point.
    case integer(Int)
    /// A number printed in its shortest round-tripping form (`0.888`, `11.14`, `1.0`); non-finite → `null`.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, keys in order.
    case object([(key: String, value: JSONValue)])

    /// Compares objects key by key, in order.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.integer(a), .integer(b)): a == b
        case let (.number(a), .number(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)): a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// `.string(value)`, or `.null` for nil.
    public static func string(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

    /// The JSON text. With `indent` nil: one line, `","` and `":"` separators (JSON Lines).
    /// With an indent: Python's `json.dumps(indent:)` layout, which is how Plate Recognizer prints its examples.
    public func serialized(indent: Int? = nil) -> String {
        var out = ""
        write(to: &out, indent: indent, depth: 0)
        return out
    }

    private func write(to out: inout String, indent: Int?, depth: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .number(let d):
            // Swift's description is the shortest text that reads back as the same Double, like
            // Python's repr: 0.888 → "0.888", 1.0 → "1.0", 1e-07 → "1e-07" (valid JSON).
            out += d.isFinite ? d.description : "null"
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            writeContainer(items.map { (nil as String?, $0) }, open: "[", close: "]", to: &out, indent: indent, depth: depth)
        case .object(let members):
            writeContainer(members.map { ($0.key as String?, $0.value) }, open: "{", close: "}", to: &out, indent: indent, depth: depth)
        }
    }

    private func writeContainer(_ items: [(String?, JSONValue)], open: String, close: String,
                                to out: inout String, indent: Int?, depth: Int) {
        out += open
        guard !items.isEmpty else { out += close; return }
        let keySeparator = indent == nil ? ":" : ": "
        for (index, (key, value)) in items.enumerated() {
            if index > 0 { out += "," }
            if let indent { out += "\n" + String(repeating: " ", count: indent * (depth + 1)) }
            if let key {
                JSONValue.writeString(key, to: &out)
                out += keySeparator
            }
            value.write(to: &out, indent: indent, depth: depth + 1)
        }
        if let indent { out += "\n" + String(repeating: " ", count: indent * depth) }
        out += close
    }

    private static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
