import Foundation
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
        guard let form = readMultipart(body, chunkSize: chunkSize, boundary: boundary,
                                       fileFields: PlateRecognizerAPI.fileFields) else { return false }
        return checkPlateRecognizerFields(form)
    }

    /// An `application/x-www-form-urlencoded` body, read as Plate Recognizer's form, then its fields checked.
    package static func form(_ data: [UInt8]) -> Bool {
        guard let form = try? RequestBodyReader.urlEncodedForm(data, fileFields: PlateRecognizerAPI.fileFields, limits: limits)
        else { return false }
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
        let form = readMultipart(Array(data[(newline + 1)...]), chunkSize: 97, boundary: boundary, fileFields: ["image"])
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

    /// The form of a multipart body fed in chunks of `chunkSize` bytes, as a request delivers it; nil when refused.
    private static func readMultipart(_ body: [UInt8], chunkSize: Int, boundary: String, fileFields: Set<String>) -> FormInput? {
        var reader = MultipartFormReader(boundary: boundary, fileFields: fileFields, limits: limits)
        do {
            for start in stride(from: 0, to: body.count, by: chunkSize) {
                try reader.feed(body[start..<min(start + chunkSize, body.count)])
            }
            return try reader.finish()
        } catch {
            return nil
        }
    }
}
