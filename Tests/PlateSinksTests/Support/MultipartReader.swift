import Foundation

/// A small `multipart/form-data` parser (RFC 7578) for the tests: Hummingbird has none built in.
/// Splits the raw body on the boundary from `Content-Type`, reads each part's headers, and keeps the
/// part's bytes exactly (binary-safe).
struct MultipartPart {
    var headers: [String: String]   // lower-cased names
    var body: [UInt8]

    /// The `name` parameter of `Content-Disposition`.
    var name: String? { parameter("name") }
    /// The `filename` parameter of `Content-Disposition`.
    var filename: String? { parameter("filename") }

    private func parameter(_ key: String) -> String? {
        guard let disposition = headers["content-disposition"] else { return nil }
        for piece in disposition.split(separator: ";").dropFirst() {
            let pair = piece.trimmingCharacters(in: .whitespaces)
            guard pair.hasPrefix(key + "=") else { continue }
            var value = String(pair.dropFirst(key.count + 1))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}

enum MultipartReader {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// The boundary parameter of a `multipart/form-data` content type.
    static func boundary(contentType: String) throws -> String {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else {
            throw Malformed(description: "not multipart/form-data: \(contentType)")
        }
        guard let parameter = pieces.first(where: { $0.lowercased().hasPrefix("boundary=") }) else {
            throw Malformed(description: "no boundary")
        }
        var value = String(parameter.dropFirst("boundary=".count))
        if value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        return value
    }

    static func parse(_ body: [UInt8], contentType: String) throws -> [MultipartPart] {
        let boundary = try boundary(contentType: contentType)
        let delimiter = Array("--\(boundary)".utf8)
        let crlf: [UInt8] = [13, 10]
        guard let first = find(delimiter, in: body, from: 0) else { throw Malformed(description: "no first boundary") }
        var position = first + delimiter.count
        var parts: [MultipartPart] = []
        while true {
            if body[position...].starts(with: Array("--".utf8)) { break }   // closing delimiter
            guard body[position...].starts(with: crlf) else { throw Malformed(description: "boundary not followed by CRLF") }
            position += 2
            guard let headerEnd = find(crlf + crlf, in: body, from: position) else {
                throw Malformed(description: "part headers not ended")
            }
            var headers: [String: String] = [:]
            let headerText = String(decoding: body[position..<headerEnd], as: UTF8.self)
            for line in headerText.components(separatedBy: "\r\n") where !line.isEmpty {
                guard let colon = line.firstIndex(of: ":") else { throw Malformed(description: "bad header line \(line)") }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let contentStart = headerEnd + 4
            // The part ends at CRLF + delimiter.
            guard let next = find(crlf + delimiter, in: body, from: contentStart) else {
                throw Malformed(description: "part not closed by a boundary")
            }
            parts.append(MultipartPart(headers: headers, body: Array(body[contentStart..<next])))
            position = next + 2 + delimiter.count
        }
        return parts
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

/// Decodes an `application/x-www-form-urlencoded` body into its fields.
enum FormReader {
    static func parse(_ body: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let pieces = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            fields[pieces[0]] = pieces.count > 1 ? pieces[1] : ""
        }
        return fields
    }
}
