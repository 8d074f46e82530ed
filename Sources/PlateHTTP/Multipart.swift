import Foundation

/// A parsed `Content-Type` (or `Content-Disposition`) value: `type/subtype; key=value; key="quoted"`.
struct MediaTypeValue: Equatable, Sendable {
    /// The part before the first `;`, lower case (`multipart/form-data`, `form-data`).
    var value: String
    /// Parameters, keys lower case, values unquoted; the first occurrence of a key wins.
    var parameters: [String: String]

    /// Parses a header value; nil when the value before `;` is empty or a parameter is malformed.
    init?(_ text: String) {
        var scanner = HeaderScanner(Array(text.utf8))
        let main = scanner.scan { $0 != UInt8(ascii: ";") }
        value = String(decoding: main, as: UTF8.self).trimmingASCIIWhitespace().lowercased()
        guard !value.isEmpty else { return nil }
        parameters = [:]
        while scanner.skip(UInt8(ascii: ";")) {
            scanner.skipWhitespace()
            if scanner.atEnd { break }                                   // tolerate a trailing ';'
            let key = String(decoding: scanner.scan { $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: ";") }, as: UTF8.self)
                .trimmingASCIIWhitespace().lowercased()
            guard !key.isEmpty, scanner.skip(UInt8(ascii: "=")) else { return nil }
            scanner.skipWhitespace()
            let raw: String
            if scanner.peek == UInt8(ascii: "\"") {
                guard let quoted = scanner.scanQuoted() else { return nil }
                raw = quoted
            } else {
                raw = String(decoding: scanner.scan { $0 != UInt8(ascii: ";") }, as: UTF8.self).trimmingASCIIWhitespace()
            }
            scanner.skipWhitespace()
            if parameters[key] == nil { parameters[key] = raw }
        }
        guard scanner.atEnd else { return nil }
    }
}

/// The headers of one part of a `multipart/form-data` body.
struct MultipartPartHead: Equatable, Sendable {
    /// The form field name (`name=` of `Content-Disposition`).
    var name: String
    /// The file name, when the part is a file (`filename=` or RFC 5987 `filename*=`).
    var filename: String?
    /// The part's `Content-Type`, lower case, when given.
    var contentType: String?
}

/// Why a multipart body was refused.
struct MultipartError: Error, Equatable, CustomStringConvertible {
    private enum Kind: Equatable { case malformed, tooManyParts, headerTooLong, truncated }
    private let kind: Kind
    /// What is wrong, in words.
    let message: String

    static func malformed(_ message: String) -> MultipartError { .init(kind: .malformed, message: message) }
    static func tooManyParts(_ limit: Int) -> MultipartError { .init(kind: .tooManyParts, message: "more than \(limit) parts") }
    static func headerTooLong(_ limit: Int) -> MultipartError {
        .init(kind: .headerTooLong, message: "part headers longer than \(limit) bytes")
    }
    static let truncated = MultipartError(kind: .truncated, message: "body ends before the closing boundary")

    /// Whether the body ended before the closing boundary.
    var isTruncated: Bool { kind == .truncated }
    /// The message.
    var description: String { message }
}

/// A push parser for `multipart/form-data` (RFC 7578 / RFC 2046) that never holds more than one
/// delimiter's length of body bytes, or one part's header block, whatever the size of the parts:
/// feed it chunks as they arrive and it hands back the part boundaries and body bytes.
///
/// A pure state machine (no I/O): the request reader drives it, and the fuzz tests feed it
/// random bytes directly.
struct MultipartParser: Sendable {
    /// What a fed chunk produced.
    enum Event: Equatable, Sendable {
        /// A part starts.
        case begin(MultipartPartHead)
        /// Bytes of the current part's body.
        case body([UInt8])
        /// The current part ended.
        case end
        /// The closing boundary: nothing more will come (the epilogue is discarded).
        case finished
    }

    /// Bounds on what a body may make the parser hold or do.
    struct Limits: Sendable, Equatable {
        /// Parts allowed.
        var maxParts: Int
        /// Bytes allowed in one part's header block.
        var maxHeaderBytes: Int
        /// Bytes of preamble (before the first boundary) and transport padding tolerated.
        var maxPreambleBytes: Int

        /// Limits.
        init(maxParts: Int = 32, maxHeaderBytes: Int = 8 * 1024, maxPreambleBytes: Int = 16 * 1024) {
            self.maxParts = maxParts
            self.maxHeaderBytes = maxHeaderBytes
            self.maxPreambleBytes = maxPreambleBytes
        }
    }

    private enum State: Sendable { case preamble, afterDelimiter, headers, body, epilogue }

    private let delimiter: [UInt8]                   // CRLF "--" boundary
    private let limits: Limits
    private var state = State.preamble
    private var buffer: [UInt8]
    private var parts = 0
    private var preambleBytes = 0
    private var paddingBytes = 0

    /// The boundary of a `multipart/form-data` Content-Type, checked against RFC 2046's grammar
    /// (1 to 70 characters from its set, not ending in a space); nil for any other type.
    static func boundary(contentType: String) -> String? {
        guard let type = MediaTypeValue(contentType), type.value == "multipart/form-data",
              let boundary = type.parameters["boundary"], (1...70).contains(boundary.utf8.count),
              boundary.last != " " else { return nil }
        let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ".utf8)
        return boundary.utf8.allSatisfy(allowed.contains) ? boundary : nil
    }

    /// A parser for a body with `boundary`.
    init(boundary: String, limits: Limits = Limits()) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        self.limits = limits
        // The first boundary may open the body without a line break before it: a virtual CRLF
        // lets one search find both.
        buffer = [13, 10]
    }

    /// Whether the closing boundary has been seen.
    var isFinished: Bool { if case .epilogue = state { true } else { false } }

    /// Parses the next chunk of the body.
    mutating func feed(_ chunk: some Collection<UInt8>) throws(MultipartError) -> [Event] {
        buffer.append(contentsOf: chunk)
        var events: [Event] = []
        var position = 0
        defer {
            // Drop what was consumed; what stays is at most a delimiter or a header block.
            buffer.removeSubrange(0..<position)
        }
        parsing: while true {
            switch state {
            case .preamble:
                if let found = find(delimiter, from: position) {
                    preambleBytes += found - position
                    guard preambleBytes <= limits.maxPreambleBytes else { throw .malformed("no boundary in the first \(limits.maxPreambleBytes) bytes") }
                    position = found + delimiter.count
                    state = .afterDelimiter
                } else {
                    let keep = max(position, buffer.count - (delimiter.count - 1))
                    preambleBytes += keep - position
                    guard preambleBytes <= limits.maxPreambleBytes else { throw .malformed("no boundary in the first \(limits.maxPreambleBytes) bytes") }
                    position = keep
                    break parsing
                }
            case .afterDelimiter:
                // Transport padding (spaces, tabs) may follow a boundary before its line break.
                while position < buffer.count, buffer[position] == 0x20 || buffer[position] == 0x09 {
                    position += 1
                    paddingBytes += 1
                    guard paddingBytes <= limits.maxPreambleBytes else { throw .malformed("too much padding after a boundary") }
                }
                guard position + 2 <= buffer.count else { break parsing }
                if buffer[position] == UInt8(ascii: "-"), buffer[position + 1] == UInt8(ascii: "-") {
                    position = buffer.count
                    state = .epilogue
                    events.append(.finished)
                } else if buffer[position] == 13, buffer[position + 1] == 10 {
                    position += 2
                    parts += 1
                    guard parts <= limits.maxParts else { throw .tooManyParts(limits.maxParts) }
                    state = .headers
                } else {
                    throw .malformed("boundary not followed by a line break or \"--\"")
                }
            case .headers:
                // An empty header block is a lone CRLF; otherwise it ends at the first CRLF CRLF.
                let end: Int
                if buffer.count - position >= 2, buffer[position] == 13, buffer[position + 1] == 10 {
                    end = position
                } else if let found = find([13, 10, 13, 10], from: position) {
                    end = found + 2
                } else {
                    guard buffer.count - position <= limits.maxHeaderBytes else { throw .headerTooLong(limits.maxHeaderBytes) }
                    break parsing
                }
                guard end - position <= limits.maxHeaderBytes else { throw .headerTooLong(limits.maxHeaderBytes) }
                let head = try MultipartParser.parseHead(buffer[position..<end])
                position = end + 2
                events.append(.begin(head))
                state = .body
            case .body:
                if let found = find(delimiter, from: position) {
                    if found > position { events.append(.body(Array(buffer[position..<found]))) }
                    events.append(.end)
                    position = found + delimiter.count
                    state = .afterDelimiter
                } else {
                    // Everything but a possible start of the delimiter is body.
                    let safe = buffer.count - (delimiter.count - 1)
                    if safe > position {
                        events.append(.body(Array(buffer[position..<safe])))
                        position = safe
                    }
                    break parsing
                }
            case .epilogue:
                position = buffer.count
                break parsing
            }
        }
        return events
    }

    /// Declares the body complete; throws when it ended before the closing boundary.
    func finish() throws(MultipartError) {
        guard isFinished else { throw .truncated }
    }

    /// The first index at or after `start` where `needle` occurs in the buffer.
    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, buffer.count - start >= needle.count else { return nil }
        var i = start
        let last = buffer.count - needle.count
        while i <= last {
            // Jump to the next candidate first byte; the rest is compared only there.
            guard let candidate = buffer[i...last].firstIndex(of: first) else { return nil }
            var j = 1
            while j < needle.count, buffer[candidate + j] == needle[j] { j += 1 }
            if j == needle.count { return candidate }
            i = candidate + 1
        }
        return nil
    }

    /// Parses one part's header block (lines ending in CRLF, folded lines allowed).
    static func parseHead(_ block: ArraySlice<UInt8>) throws(MultipartError) -> MultipartPartHead {
        var headers: [(name: String, value: String)] = []
        var lineStart = block.startIndex
        var i = block.startIndex
        while i < block.endIndex {
            guard block[i] == 13 else { i += 1; continue }
            guard i + 1 < block.endIndex, block[i + 1] == 10 else { throw .malformed("bare CR in part headers") }
            let line = block[lineStart..<i]
            if let first = line.first, first == 0x20 || first == 0x09 {
                // obs-fold: a continuation of the previous header's value.
                guard !headers.isEmpty else { throw .malformed("part headers start with a continuation line") }
                headers[headers.count - 1].value += " " + String(decoding: line, as: UTF8.self).trimmingASCIIWhitespace()
            } else if !line.isEmpty {
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                    throw .malformed("part header line without a name and ':'")
                }
                let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
                guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .malformed("invalid part header name") }
                headers.append((name.lowercased(), String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingASCIIWhitespace()))
            }
            i += 2
            lineStart = i
        }
        guard lineStart == block.endIndex else { throw .malformed("part header line without CRLF") }
        guard let disposition = headers.first(where: { $0.name == "content-disposition" }) else {
            throw .malformed("part without Content-Disposition")
        }
        guard let parsed = MediaTypeValue(disposition.value), parsed.value == "form-data" else {
            throw .malformed("Content-Disposition is not form-data")
        }
        guard let name = parsed.parameters["name"] else { throw .malformed("Content-Disposition without a name") }
        var filename = parsed.parameters["filename"]
        if let extended = parsed.parameters["filename*"], let decoded = decodeRFC5987(extended) { filename = decoded }
        let contentType = headers.first(where: { $0.name == "content-type" }).map { $0.value.lowercased() }
        return MultipartPartHead(name: name, filename: filename, contentType: contentType)
    }

    /// `UTF-8''na%C3%AFve.jpg` → `naïve.jpg`; nil when malformed.
    static func decodeRFC5987(_ value: String) -> String? {
        let pieces = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3, pieces[0].lowercased() == "utf-8" else { return nil }
        return percentDecode(Array(pieces[2].utf8), plusIsSpace: false)
    }
}

/// Decodes `%XX` escapes (and `+` as space when asked); nil on a malformed escape or invalid UTF-8.
func percentDecode(_ bytes: [UInt8], plusIsSpace: Bool) -> String? {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = 0
    func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    while i < bytes.count {
        let c = bytes[i]
        if c == UInt8(ascii: "%") {
            guard i + 2 < bytes.count, let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) else { return nil }
            out.append(h << 4 | l)
            i += 3
        } else {
            out.append(plusIsSpace && c == UInt8(ascii: "+") ? 0x20 : c)
            i += 1
        }
    }
    return String(bytes: out, encoding: .utf8)
}

/// Parses `application/x-www-form-urlencoded` text into name-value pairs, in order.
enum FormURLEncoded {
    /// The pairs of `body`; nil when an escape is malformed or a name or value is not UTF-8.
    static func parse(_ body: [UInt8]) -> [(name: String, value: String)]? {
        var pairs: [(String, String)] = []
        for piece in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let bytes = Array(piece)
            let equals = bytes.firstIndex(of: UInt8(ascii: "="))
            let nameBytes = equals.map { Array(bytes[..<$0]) } ?? bytes
            let valueBytes = equals.map { Array(bytes[($0 + 1)...]) } ?? []
            guard let name = percentDecode(nameBytes, plusIsSpace: true),
                  let value = percentDecode(valueBytes, plusIsSpace: true) else { return nil }
            pairs.append((name, value))
        }
        return pairs
    }
}

/// A byte cursor for header values.
struct HeaderScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8? { atEnd ? nil : bytes[index] }

    mutating func scan(while predicate: (UInt8) -> Bool) -> ArraySlice<UInt8> {
        let start = index
        while index < bytes.count, predicate(bytes[index]) { index += 1 }
        return bytes[start..<index]
    }

    mutating func skip(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    mutating func skipWhitespace() {
        while let c = peek, c == 0x20 || c == 0x09 { index += 1 }
    }

    /// A quoted-string with backslash escapes; nil when the closing quote is missing.
    mutating func scanQuoted() -> String? {
        guard skip(UInt8(ascii: "\"")) else { return nil }
        var out: [UInt8] = []
        while let c = peek {
            index += 1
            if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if c == UInt8(ascii: "\\") {
                guard let escaped = peek else { return nil }
                index += 1
                out.append(escaped)
            } else {
                out.append(c)
            }
        }
        return nil
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs, CRs and LFs.
    func trimmingASCIIWhitespace() -> String {
        let utf8 = Array(self.utf8)
        let isSpace = { (c: UInt8) in c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
        guard let start = utf8.firstIndex(where: { !isSpace($0) }), let end = utf8.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(decoding: utf8[start...end], as: UTF8.self)
    }
}
