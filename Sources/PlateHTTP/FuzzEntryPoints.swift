import Foundation
import Hummingbird
import PlateCore

/// Entry points for the coverage-guided fuzz targets (Tests/Fuzz, built only by scripts/fuzz): each takes raw
/// bytes and drives one parser of the snapshot APIs exactly as a request handler does, returning only whether
/// the input was accepted. `package`, so the parsers themselves stay internal.
package enum HTTPFuzzEntryPoints {
    /// Limits small enough that the fuzzer reaches every "too large" branch.
    static let limits = FormLimits(maxBodyBytes: 64 * 1024, maxFileBytes: 4096, maxFieldBytes: 512,
                                   multipart: .init(maxParts: 8, maxHeaderBytes: 512, maxPreambleBytes: 1024))

    /// A multipart request: the first line is the Content-Type header, the first byte after it how the rest (the
    /// body) is cut into chunks; read as Plate Recognizer's form (`upload` a file field), then its fields checked.
    package static func multipart(_ data: [UInt8]) -> Bool {
        guard let newline = data.firstIndex(of: 0x0A), newline + 1 < data.count else { return false }
        let contentType = String(decoding: data[..<newline], as: UTF8.self)
        guard let boundary = MultipartParser.boundary(contentType: contentType) else { return false }
        let chunkSize = Int(data[newline + 1]) + 1
        let body = Array(data[(newline + 2)...])
        guard let form = readBlocking({
            try await RequestBodyReader.readMultipart(chunks(body, size: chunkSize), boundary: boundary,
                                                      fileFields: PlateRecognizerAPI.fileFields, limits: limits)
        }) else { return false }
        return checkPlateRecognizerFields(form)
    }

    /// An `application/x-www-form-urlencoded` body, read as Plate Recognizer's form, then its fields checked.
    package static func form(_ data: [UInt8]) -> Bool {
        guard let form = readBlocking({
            try await RequestBodyReader.readURLEncoded(chunks(data, size: 64), fileFields: PlateRecognizerAPI.fileFields,
                                                       limits: limits)
        }) else { return false }
        return checkPlateRecognizerFields(form)
    }

    /// Base64 text as clients send images: decoded with a limit; what decodes must re-encode to text that decodes
    /// to the same bytes (a broken round trip traps, so the fuzzer reports it).
    package static func base64(_ data: [UInt8]) -> Bool {
        guard let decoded = try? Base64.decode(data, maxBytes: 8192) else { return false }
        let again = try? Base64.decode(Array(Base64.encode(decoded).utf8))
        precondition(again == decoded, "base64 round trip changed the data")
        return true
    }

    /// Plate Recognizer's `application/json` body: parsed, turned into the form, every field checked.
    package static func plateRecognizerJSON(_ data: [UInt8]) -> Bool {
        guard let object = JSONInput.parse(data)?.objectValue else { return false }
        return checkPlateRecognizerFields(PlateRecognizerAPI.form(fromJSON: object))
    }

    /// OpenALPR: the first line is the query string (`country=us&topn=5`), the rest the `recognize_bytes` body.
    package static func openALPR(_ data: [UInt8]) -> Bool {
        let newline = data.firstIndex(of: 0x0A) ?? data.endIndex
        let query = FormURLEncoded.parse(Array(data[..<newline])) ?? []
        let body = newline < data.endIndex ? Array(data[(newline + 1)...]) : []
        var accepted = false
        if case .success = OpenALPRAPI.parameters(query, regions: .anyWellFormed) { accepted = true }
        if case .success = OpenALPRAPI.parameters(query, regions: RegionCatalog(codes: ["us", "eu", "de", "us-ca"])) { accepted = true }
        if case .success = OpenALPRAPI.base64Image(body: body, maxImageBytes: 8192) { accepted = true }
        return accepted
    }

    /// NHN's multipart upload: the first line is the Content-Type header, the rest the body (`image` the file field).
    package static func nhn(_ data: [UInt8]) -> Bool {
        guard let newline = data.firstIndex(of: 0x0A) else { return false }
        guard let boundary = MultipartParser.boundary(contentType: String(decoding: data[..<newline], as: UTF8.self)) else { return false }
        let form = readBlocking {
            try await RequestBodyReader.readMultipart(chunks(Array(data[(newline + 1)...]), size: 97), boundary: boundary,
                                                      fileFields: ["image"], limits: limits)
        }
        return form?.files["image"] != nil
    }

    /// Huawei's JSON body: `image` (base64) or `url`.
    package static func huawei(_ data: [UInt8]) -> Bool {
        if case .success = HuaweiAPI.imageInput(body: data, maxImageBytes: 8192) { return true }
        return false
    }

    /// The snapshot server's configuration (config.json's `http` section): decoded, then validated.
    package static func configuration(_ data: [UInt8]) -> Bool {
        guard let configuration = try? SnapshotServerConfiguration.decode(json: Data(data)) else { return false }
        return (try? configuration.validate()) != nil
    }

    private static func checkPlateRecognizerFields(_ form: FormInput) -> Bool {
        let result = PlateRecognizerAPI.fields(of: form, catalog: .anyWellFormed, now: Date(timeIntervalSince1970: 0),
                                               maxImageBytes: 4096, isImage: { $0.first == 0xFF })
        if case .success = result { return true }
        return false
    }

    /// The body as a request delivers it: chunks of `size` bytes.
    private static func chunks(_ bytes: [UInt8], size: Int) -> ChunkedBody {
        ChunkedBody(chunks: stride(from: 0, to: bytes.count, by: size).map {
            ByteBuffer(bytes: bytes[$0..<min($0 + size, bytes.count)])
        })
    }

    /// Runs an async body reader to completion from the fuzzer's (synchronous) thread; nil when it throws.
    private static func readBlocking<T: Sendable>(_ read: @escaping @Sendable () async throws -> T) -> T? {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.value = try? await read()
            done.signal()
        }
        done.wait()
        return box.value
    }
}

/// A request body already in memory, as chunks.
struct ChunkedBody: AsyncSequence, Sendable {
    let chunks: [ByteBuffer]
    func makeAsyncIterator() -> Iterator { Iterator(chunks: chunks) }
    struct Iterator: AsyncIteratorProtocol {
        var chunks: [ByteBuffer]
        var index = 0
        mutating func next() async -> ByteBuffer? {
            guard index < chunks.count else { return nil }
            defer { index += 1 }
            return chunks[index]
        }
    }
}

/// Carries a result out of a task; the semaphore orders the write before the read.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
