import Foundation
import Hummingbird
@testable import PlateHTTP
import Testing

/// Randomized tests of everything that parses client bytes: seeded mutations of valid inputs
/// (truncation, bit flips, inserted and deleted bytes, random boundaries, huge headers, random
/// chunking), thousands of iterations each. The parsers must never crash or hang, must keep
/// their limits, and must agree with themselves across chunkings.
///
/// Reproduce a failure with PLATESTREAM_FUZZ_SEED=<seed>; run longer with
/// PLATESTREAM_FUZZ_ITERATIONS=<n> (default 3000 per test).
@Suite("Parser fuzzing")
struct ParserFuzzTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seed = environment["PLATESTREAM_FUZZ_SEED"].flatMap(UInt64.init) ?? 0x5EED_2024
    static let iterations = environment["PLATESTREAM_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 3000

    /// A valid multipart body with random parts, boundary and content (including near-delimiters).
    static func validBody(_ g: inout SeededGenerator) -> (boundary: String, body: [UInt8], parts: [(String, [UInt8])]) {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?")
        let boundary = String((0..<Int.random(in: 1...40, using: &g)).map { _ in alphabet.randomElement(using: &g)! })
        var parts: [(String, [UInt8])] = []
        var body: [UInt8] = []
        if Bool.random(using: &g) { body += Array("preamble \r\n".utf8) }
        for index in 0..<Int.random(in: 0...5, using: &g) {
            var data = (0..<Int.random(in: 0...300, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            // Plant pieces of the delimiter inside the data: the hard case for a streaming parser.
            for _ in 0..<Int.random(in: 0...3, using: &g) {
                let delimiter = Array("\r\n--\(boundary)".utf8)
                let piece = Array(delimiter.prefix(Int.random(in: 1...delimiter.count - 1, using: &g)))
                data.insert(contentsOf: piece, at: Int.random(in: 0...data.count, using: &g))
            }
            // Only prefixes were planted, but random bytes next to one could complete it: a full
            // delimiter inside the data would make the body invalid, so drop such data.
            if Self.contains(data, Array("\r\n--\(boundary)".utf8)) { data = [] }
            let name = "f\(index)"
            let file = Bool.random(using: &g) ? "; filename=\"p\(index).bin\"" : ""
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\(file)\r\n".utf8)
            if Bool.random(using: &g) { body += Array("Content-Type: application/octet-stream\r\n".utf8) }
            body += Array("\r\n".utf8) + data + Array("\r\n".utf8)
            parts.append((name, data))
        }
        body += Array("--\(boundary)--".utf8)
        if Bool.random(using: &g) { body += Array("\r\nepilogue".utf8) }
        return (boundary, body, parts)
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
    }

    static func mutate(_ input: [UInt8], _ g: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &g) {
            switch Int.random(in: 0..<7, using: &g) {
            case 0 where !bytes.isEmpty:                                   // truncate
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &g))
            case 1 where !bytes.isEmpty:                                   // flip bits
                let i = Int.random(in: 0..<bytes.count, using: &g)
                bytes[i] ^= UInt8(1) << UInt8.random(in: 0...7, using: &g)
            case 2:                                                        // insert random bytes
                let at = Int.random(in: 0...bytes.count, using: &g)
                bytes.insert(contentsOf: (0..<Int.random(in: 1...16, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }, at: at)
            case 3 where !bytes.isEmpty:                                   // delete a run
                let start = Int.random(in: 0..<bytes.count, using: &g)
                bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...32, using: &g)))
            case 4:                                                        // a huge header line
                let at = bytes.firstIndex(of: 0x0A).map { $0 + 1 } ?? 0
                bytes.insert(contentsOf: Array("X-Huge: ".utf8) + [UInt8](repeating: 0x41, count: Int.random(in: 1000...20_000, using: &g))
                    + [0x0D, 0x0A], at: at)
            case 5 where bytes.count > 8:                                  // duplicate a region
                let start = Int.random(in: 0..<bytes.count - 4, using: &g)
                let slice = bytes[start..<min(bytes.count, start + Int.random(in: 1...64, using: &g))]
                bytes.insert(contentsOf: slice, at: Int.random(in: 0...bytes.count, using: &g))
            default:                                                       // CR/LF/dash soup
                let at = Int.random(in: 0...bytes.count, using: &g)
                bytes.insert(contentsOf: (0..<Int.random(in: 1...12, using: &g)).map { _ in [0x0D, 0x0A, 0x2D, 0x20][Int.random(in: 0...3, using: &g)] }, at: at)
            }
        }
        return bytes
    }

    /// Feeds `body` in random chunks; returns the parts or the error. Checks the parser's
    /// invariants on the way.
    static func feed(_ body: [UInt8], boundary: String, limits: MultipartParser.Limits, _ g: inout SeededGenerator)
        -> Result<[(MultipartPartHead, [UInt8])], MultipartError> {
        var parser = MultipartParser(boundary: boundary, limits: limits)
        var parts: [(MultipartPartHead, [UInt8])] = []
        var index = 0
        var open = false
        do {
            while index < body.count {
                let size = Bool.random(using: &g) ? Int.random(in: 1...8, using: &g) : Int.random(in: 1...4096, using: &g)
                let end = min(body.count, index + size)
                for event in try parser.feed(body[index..<end]) {
                    switch event {
                    case .begin(let head):
                        #expect(!open, "a part began inside another")
                        open = true
                        parts.append((head, []))
                    case .body(let bytes):
                        #expect(open, "body bytes outside a part")
                        parts[parts.count - 1].1 += bytes
                    case .end:
                        #expect(open, "end without a part")
                        open = false
                    case .finished:
                        #expect(!open)
                    }
                }
                index = end
            }
            try parser.finish()
            #expect(parts.count <= limits.maxParts)
            #expect(parts.reduce(0) { $0 + $1.1.count } <= body.count, "more body bytes out than in")
            return .success(parts)
        } catch {
            return .failure(error)
        }
    }

    @Test("multipart: valid bodies parse identically in any chunking; mutated ones parse or throw, never crash or hang",
          .timeLimit(.minutes(3)))
    func multipart() async {
        var g = SeededGenerator(seed: Self.seed)
        let limits = MultipartParser.Limits(maxParts: 8, maxHeaderBytes: 4096, maxPreambleBytes: 4096)
        var failures = 0, successes = 0
        for iteration in 0..<Self.iterations {
            // Leave the cooperative threads to the live-server tests running alongside now and then.
            if iteration % 20 == 0 { await Task.yield() }
            let (boundary, body, expected) = Self.validBody(&g)
            switch Self.feed(body, boundary: boundary, limits: limits, &g) {
            case .success(let parts):
                #expect(parts.map(\.0.name) == expected.map(\.0), "seed \(Self.seed) iteration \(iteration)")
                #expect(parts.map(\.1) == expected.map(\.1), "seed \(Self.seed) iteration \(iteration)")
            case .failure(let error):
                Issue.record("valid body refused: \(error) (seed \(Self.seed) iteration \(iteration))")
            }
            let mutated = Self.mutate(body, &g)
            // Sometimes with a random boundary that does not match the body at all.
            let mutatedBoundary = Int.random(in: 0..<10, using: &g) == 0 ? "r\(UInt32.random(in: 0...9999, using: &g))" : boundary
            switch Self.feed(mutated, boundary: mutatedBoundary, limits: limits, &g) {
            case .success: successes += 1
            case .failure: failures += 1
            }
        }
        #expect(successes + failures == Self.iterations)
        #expect(failures > 0, "the mutations should break some bodies")
    }

    @Test("multipart: random garbage and pathological inputs stay linear in time", .timeLimit(.minutes(2)))
    func garbage() async {
        var g = SeededGenerator(seed: Self.seed &+ 1)
        for iteration in 0..<Self.iterations / 3 {
            if iteration % 20 == 0 { await Task.yield() }
            let bytes = (0..<Int.random(in: 0...2000, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            _ = Self.feed(bytes, boundary: "b", limits: .init(), &g)
        }
        // Worst cases for a delimiter search: near-delimiters back to back, CRLF runs, dashes.
        let boundary = String(repeating: "a", count: 70)
        let near = Array("\r\n--\(String(repeating: "a", count: 69))b".utf8)
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n".utf8)
        for _ in 0..<(2_000_000 / near.count) { body += near }
        body += Array("\r\n--\(boundary)--".utf8)
        let started = ContinuousClock.now
        let result = Self.feed(body, boundary: boundary, limits: .init(), &g)
        #expect((try? result.get())?.first?.1.count == (2_000_000 / near.count) * near.count, "every near-delimiter is data")
        let crlf = [UInt8](repeating: 0x0D, count: 1_000_000) + [UInt8](repeating: 0x0A, count: 1_000_000)
        _ = Self.feed(Array("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n".utf8) + crlf, boundary: "b", limits: .init(), &g)
        #expect(ContinuousClock.now - started < .seconds(60), "4 MB of pathological input took \(ContinuousClock.now - started)")
    }

    @Test("the streaming form reader: mutated bodies in random chunks never crash and never pass their limits", .timeLimit(.minutes(3)))
    func formReader() async {
        var g = SeededGenerator(seed: Self.seed &+ 2)
        let limits = FormLimits(maxBodyBytes: 8192, maxFileBytes: 1024, maxFieldBytes: 128,
                                multipart: .init(maxParts: 6, maxHeaderBytes: 1024, maxPreambleBytes: 1024))
        for iteration in 0..<Self.iterations / 3 {
            let (boundary, body, _) = Self.validBody(&g)
            let input = Bool.random(using: &g) ? Self.mutate(body, &g) : body
            var chunks: [ByteBuffer] = []
            var index = 0
            while index < input.count {
                let end = min(input.count, index + Int.random(in: 1...700, using: &g))
                chunks.append(ByteBuffer(bytes: input[index..<end]))
                index = end
            }
            do {
                let form = try await RequestBodyReader.readMultipart(chunks.async, boundary: boundary, fileFields: ["f0", "f1"], limits: limits)
                #expect(form.files.values.allSatisfy { $0.data.count <= limits.maxFileBytes }, "iteration \(iteration)")
                #expect(form.fields.allSatisfy { $0.value.utf8.count <= limits.maxFieldBytes }, "iteration \(iteration)")
                #expect(input.count <= limits.maxBodyBytes)
            } catch is BodyError {
                // Refused: fine.
            } catch {
                Issue.record("unexpected error \(error) (seed \(Self.seed) iteration \(iteration))")
            }
        }
    }

    @Test("base64: random and mutated text never crashes; wherever Foundation decodes, the result agrees", .timeLimit(.minutes(2)))
    func base64() async {
        var g = SeededGenerator(seed: Self.seed &+ 3)
        for iteration in 0..<Self.iterations {
            if iteration % 50 == 0 { await Task.yield() }
            let data = Data((0..<Int.random(in: 0...200, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) })
            var text = Array(data.base64EncodedString().utf8)
            if Bool.random(using: &g) { text = Self.mutate(text, &g) }
            if Int.random(in: 0..<4, using: &g) == 0 {
                text = (0..<Int.random(in: 0...64, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            }
            let ours = try? Base64.decode(text, maxBytes: 150)
            if let ours { #expect(ours.count <= 150) }
            // Where both decode, they agree; and every canonical encoding Foundation reads, we read too.
            // (Foundation is laxer about stray trailing '=' and stricter about whitespace, URL-safe
            // text and missing padding, so neither acceptance implies the other.)
            if let theirs = Data(base64Encoded: Data(text)), theirs.count <= 150 {
                if let ours { #expect(ours == theirs, "seed \(Self.seed) iteration \(iteration)") }
                if theirs.base64EncodedString() == String(decoding: text, as: UTF8.self) {
                    #expect(ours == theirs, "seed \(Self.seed) iteration \(iteration): \(String(decoding: text, as: UTF8.self).debugDescription)")
                }
            }
        }
    }

    @Test("header values, forms, timestamps and addresses: random text never crashes; addresses round-trip", .timeLimit(.minutes(2)))
    func smallParsers() async {
        var g = SeededGenerator(seed: Self.seed &+ 4)
        let headerAlphabet = Array("multipart/form-data; boundary=\"\\ ,;=\t\r\nabcXYZ019-_".utf8)
        let addressAlphabet = Array("0123456789abcdefABCDEF:.%/[]ffff".utf8)
        let timeAlphabet = Array("0123456789-:T Z+.t".utf8)
        func random(_ alphabet: [UInt8], _ n: ClosedRange<Int>) -> String {
            String(decoding: (0..<Int.random(in: n, using: &g)).map { _ in alphabet.randomElement(using: &g)! }, as: UTF8.self)
        }
        for iteration in 0..<Self.iterations {
            if iteration % 50 == 0 { await Task.yield() }
            let header = random(headerAlphabet, 0...80)
            _ = MediaTypeValue(header)
            if let boundary = MultipartParser.boundary(contentType: header) { #expect((1...70).contains(boundary.utf8.count)) }
            _ = FormURLEncoded.parse(Array(random(Array("a=b&%2G+4f%".utf8), 0...40).utf8))
            _ = ISO8601Timestamp.parse(random(timeAlphabet, 0...30))
            _ = ISO8601Timestamp.parse("2024-0\(Int.random(in: 0...9, using: &g))-\(Int.random(in: 0...39, using: &g))T\(random(timeAlphabet, 0...12))")
            let text = random(addressAlphabet, 0...45)
            if let address = IPAddress(text) {
                #expect(IPAddress(address.description) == address, "\(text) → \(address)")
                _ = address.classification
            }
            _ = AllowList.Entry(text)
            // Random binary addresses classify and print without trapping.
            let v6 = IPAddress.v6((0..<16).map { _ in UInt8.random(in: 0...255, using: &g) })
            #expect(IPAddress(v6.description) == v6)
            _ = v6.classification
            let v4 = IPAddress.v4(UInt32.random(in: 0...UInt32.max, using: &g))
            #expect(IPAddress(v4.description) == v4)
        }
    }
}

extension Array where Element == ByteBuffer {
    /// The chunks as an async sequence, as a request body delivers them.
    var async: AsyncStream<ByteBuffer> {
        AsyncStream { continuation in
            for chunk in self { continuation.yield(chunk) }
            continuation.finish()
        }
    }
}
