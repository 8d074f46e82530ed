import Foundation

/// Checks a JSON document against the subset of JSON Schema (2020-12) that config.schema.json uses:
/// `type`, `properties`, `additionalProperties`, `required`, `enum`, `minimum`, `maximum`,
/// `exclusiveMinimum`, `minLength`, `maxLength`, `pattern`, `items`, `minItems`, and local `$ref`.
///
/// Why our own: no Swift JSON Schema package is available here, and start-up errors must name the
/// JSON path and what was expected, which a small validator does in a few lines.
struct JSONSchemaValidator {
    /// One problem: where, and what was expected.
    struct Violation: CustomStringConvertible, Equatable {
        let path: String
        let message: String
        var description: String { "\(path): \(message)" }
    }

    let root: [String: Any]

    init(schema: Data) throws {
        guard let object = try JSONSerialization.jsonObject(with: schema) as? [String: Any] else {
            throw ConfigError("the configuration schema is not a JSON object")
        }
        root = object
    }

    /// Every violation in `document` (empty when it is valid).
    func validate(_ document: Any) -> [Violation] {
        var out: [Violation] = []
        check(document, against: root, path: "$", into: &out)
        return out
    }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String, ref.hasPrefix("#/") else { return schema }
        var node: Any = root
        for part in ref.dropFirst(2).split(separator: "/") {
            guard let dict = node as? [String: Any], let next = dict[String(part)] else { return schema }
            node = next
        }
        return node as? [String: Any] ?? schema
    }

    static func describe(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if typeName(value) == "boolean" { return (value as! NSNumber).boolValue ? "true" : "false" }
        if let s = value as? String { return "\"\(s)\"" }
        if value is [Any] { return "an array" }
        if value is [String: Any] { return "an object" }
        return "\(value)"
    }

    /// The JSON type name of a parsed value; JSONSerialization gives NSNumber for numbers and booleans.
    static func typeName(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is String: return "string"
        case is [Any]: return "array"
        case is [String: Any]: return "object"
        case let n as NSNumber:
            // Booleans arrive as __NSCFBoolean (objCType "c") on Linux; `is Bool` also matches 0 and 1.
            if String(cString: n.objCType) == "c" || "\(type(of: value))".contains("Boolean") { return "boolean" }
            return n.doubleValue.rounded() == n.doubleValue ? "integer" : "number"
        default: return "unknown"
        }
    }

    private func check(_ value: Any, against raw: [String: Any], path: String, into out: inout [Violation]) {
        let schema = resolve(raw)
        if let allowed = schema["enum"] as? [Any] {
            let matches = allowed.contains { a in
                Self.typeName(a) == Self.typeName(value) || (Self.typeName(a) == "integer" && Self.typeName(value) == "number")
                    ? "\(a)" == "\(value)" : false
            }
            if !matches {
                out.append(Violation(path: path, message: "expected one of \(allowed.map(Self.describe).joined(separator: ", ")), got \(Self.describe(value))"))
            }
            return
        }
        let actual = Self.typeName(value)
        if let expected = schema["type"] as? String {
            let ok = expected == actual || (expected == "number" && actual == "integer")
            if !ok {
                out.append(Violation(path: path, message: "expected \(article(expected)), got \(Self.describe(value))"))
                return
            }
        }
        switch actual {
        case "object":
            let object = value as! [String: Any]
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in (schema["required"] as? [String] ?? []) where object[key] == nil {
                out.append(Violation(path: path, message: "missing required key \"\(key)\""))
            }
            for key in object.keys.sorted() {
                let child = path + "." + key
                if let sub = properties[key] as? [String: Any] {
                    check(object[key]!, against: sub, path: child, into: &out)
                } else if let extra = schema["additionalProperties"] as? [String: Any] {
                    check(object[key]!, against: extra, path: child, into: &out)
                } else if (schema["additionalProperties"] as? Bool) == false {
                    let known = properties.keys.sorted().joined(separator: ", ")
                    out.append(Violation(path: child, message: "unknown key (expected one of: \(known))"))
                }
            }
        case "array":
            let array = value as! [Any]
            if let min = schema["minItems"] as? Int, array.count < min {
                out.append(Violation(path: path, message: "expected at least \(min) item(s)"))
            }
            if let items = schema["items"] as? [String: Any] {
                for (i, element) in array.enumerated() { check(element, against: items, path: "\(path)[\(i)]", into: &out) }
            }
        case "string":
            let s = value as! String
            if let min = schema["minLength"] as? Int, s.count < min {
                out.append(Violation(path: path, message: min == 1 ? "must not be empty" : "expected at least \(min) characters"))
            }
            if let max = schema["maxLength"] as? Int, s.count > max {
                out.append(Violation(path: path, message: "expected at most \(max) characters"))
            }
            if let pattern = schema["pattern"] as? String,
               let re = try? NSRegularExpression(pattern: pattern),
               re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) == nil {
                out.append(Violation(path: path, message: "\(Self.describe(value)) does not match \(pattern)"))
            }
        case "integer", "number":
            let n = (value as! NSNumber).doubleValue
            if let min = (schema["minimum"] as? NSNumber)?.doubleValue, n < min {
                out.append(Violation(path: path, message: "expected a value ≥ \(format(min)), got \(Self.describe(value))"))
            }
            if let min = (schema["exclusiveMinimum"] as? NSNumber)?.doubleValue, n <= min {
                out.append(Violation(path: path, message: "expected a value > \(format(min)), got \(Self.describe(value))"))
            }
            if let max = (schema["maximum"] as? NSNumber)?.doubleValue, n > max {
                out.append(Violation(path: path, message: "expected a value ≤ \(format(max)), got \(Self.describe(value))"))
            }
        default: break
        }
    }

    private func article(_ type: String) -> String { type == "object" || type == "array" || type == "integer" ? "an \(type)" : "a \(type)" }
    private func format(_ d: Double) -> String { d.rounded() == d ? String(Int(d)) : String(d) }
}

/// A configuration that cannot be used; the message names the JSON path and what was expected.
struct ConfigError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
