import Foundation

/// Base64 as clients send images: the standard or URL-safe alphabet, padded or not, possibly
/// wrapped in lines, possibly behind a `data:image/jpeg;base64,` prefix.
///
/// Why not `Data(base64Encoded:)`: it rejects line breaks and URL-safe text that many clients
/// send, says nothing about where the text is wrong, and cannot stop early at a size limit.
enum Base64 {
    /// Why base64 text could not be decoded.
    struct DecodingError: Error, Equatable, CustomStringConvertible {
        /// What is wrong, in words.
        let message: String
        /// Whether the decoded data would exceed the caller's limit.
        let isTooLarge: Bool

        static func invalid(_ message: String) -> DecodingError { .init(message: message, isTooLarge: false) }
        static func tooLarge(_ limit: Int) -> DecodingError {
            .init(message: "decoded data would be larger than \(limit) bytes", isTooLarge: true)
        }

        /// The message.
        var description: String { message }
    }

    /// Length of the padded base64 text for `count` bytes.
    static func encodedLength(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// The value of each ASCII byte: 0...63, `pad` for `=`, `skip` for whitespace, `bad` otherwise.
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: bad, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = UInt8(i) }
        t[Int(UInt8(ascii: "-"))] = 62                                   // URL-safe alphabet
        t[Int(UInt8(ascii: "_"))] = 63
        t[Int(UInt8(ascii: "="))] = pad
        for c in [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n")] { t[Int(c)] = skip }
        return t
    }()
    private static let bad: UInt8 = 0xFF
    private static let pad: UInt8 = 0xFE
    private static let skip: UInt8 = 0xFD

    /// Decodes `text`, refusing more than `maxBytes` of output before producing it.
    ///
    /// Accepts both alphabets, whitespace anywhere, and missing padding; refuses other characters,
    /// padding followed by data, and lengths no encoder produces (one character left over).
    static func decode(_ text: some Collection<UInt8>, maxBytes: Int = .max) throws(DecodingError) -> Data {
        let body = stripDataURLPrefix(text)
        var out = Data()
        out.reserveCapacity(min(body.count / 4 * 3 + 3, maxBytes.addingReportingOverflow(3).overflow ? maxBytes : maxBytes + 3))
        var quad: UInt32 = 0, filled = 0, padding = 0, offset = 0
        for byte in body {
            defer { offset += 1 }
            let value = table[Int(byte)]
            if value == skip { continue }
            if value == bad { throw .invalid("invalid base64 character 0x\(String(byte, radix: 16)) at offset \(offset)") }
            if value == pad {
                // Padding may only finish a group that has at least two characters.
                guard filled >= 2 || padding > 0 else { throw .invalid("misplaced '=' at offset \(offset)") }
                padding += 1
                guard filled + padding <= 4 else { throw .invalid("too much padding at offset \(offset)") }
                continue
            }
            guard padding == 0 else { throw .invalid("data after '=' padding at offset \(offset)") }
            quad = quad << 6 | UInt32(value)
            filled += 1
            if filled == 4 {
                out.append(UInt8(quad >> 16)); out.append(UInt8(quad >> 8 & 0xFF)); out.append(UInt8(quad & 0xFF))
                quad = 0; filled = 0
                // Stop as soon as the limit is passed: never hold more than the limit plus one group.
                if out.count > maxBytes { throw .tooLarge(maxBytes) }
            }
        }
        switch filled {
        case 0: break
        case 1: throw .invalid("truncated base64: one character left over")
        case 2: out.append(UInt8(quad >> 4 & 0xFF))
        default: out.append(UInt8(quad >> 10 & 0xFF)); out.append(UInt8(quad >> 2 & 0xFF))
        }
        if padding > 0, filled + padding != 4 { throw .invalid("wrong amount of '=' padding") }
        guard out.count <= maxBytes else { throw .tooLarge(maxBytes) }
        return out
    }

    /// Encodes with the standard alphabet and padding.
    static func encode(_ data: some Collection<UInt8>) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out = [UInt8]()
        out.reserveCapacity(encodedLength(data.count))
        var iterator = data.makeIterator()
        while let a = iterator.next() {
            let b = iterator.next(), c = iterator.next()
            let n = UInt32(a) << 16 | UInt32(b ?? 0) << 8 | UInt32(c ?? 0)
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(b == nil ? UInt8(ascii: "=") : alphabet[Int(n >> 6 & 63)])
            out.append(c == nil ? UInt8(ascii: "=") : alphabet[Int(n & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` without a leading `data:<type>;base64,` (and surrounding whitespace).
    static func stripDataURLPrefix<C: Collection<UInt8>>(_ text: C) -> C.SubSequence {
        var start = text.startIndex
        while start != text.endIndex, table[Int(text[start])] == skip { start = text.index(after: start) }
        let rest = text[start...]
        guard rest.starts(with: "data:".utf8) else { return rest }
        // The prefix is short; look for the comma within the first 256 bytes only.
        guard let comma = rest.prefix(256).firstIndex(of: UInt8(ascii: ",")) else { return rest }
        let prefix = String(decoding: rest[rest.startIndex..<comma], as: UTF8.self).lowercased()
        guard prefix.hasSuffix(";base64") else { return rest }
        return rest[rest.index(after: comma)...]
    }
}
