import Foundation
import Hummingbird

/// Why a request body was refused while it was read.
struct BodyError: Error, Equatable, CustomStringConvertible {
    enum Kind: Equatable {
        /// More bytes than allowed arrived (or were announced by Content-Length).
        case tooLarge
        /// A text field is longer than allowed.
        case fieldTooLong
        /// The framing is broken (multipart syntax, percent escapes).
        case malformed
    }
    let kind: Kind
    let message: String

    static func tooLarge(_ limit: Int) -> BodyError { .init(kind: .tooLarge, message: "request body is larger than \(limit) bytes") }
    static func fileTooLarge(_ name: String, _ limit: Int) -> BodyError {
        .init(kind: .tooLarge, message: "file \"\(name)\" is larger than \(limit) bytes")
    }
    static func fieldTooLong(_ name: String, _ limit: Int) -> BodyError {
        .init(kind: .fieldTooLong, message: "field \"\(name)\" is longer than \(limit) bytes")
    }
    static func malformed(_ message: String) -> BodyError { .init(kind: .malformed, message: message) }

    var description: String { message }

    /// The message as a sentence: capitalised, with a full stop.
    var sentence: String { message.prefix(1).uppercased() + message.dropFirst() + "." }
}

/// One uploaded part: a file, or a field named as a file field (`upload` may be base64 text).
struct UploadedPart: Sendable {
    var filename: String?
    var contentType: String?
    var data: Data
}

/// The fields and files of a form body.
struct FormInput: Sendable {
    var fields: [(name: String, value: String)] = []
    var files: [String: UploadedPart] = [:]

    /// Every value of field `name`, in order.
    func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }
    /// The first value of field `name`.
    func value(_ name: String) -> String? { fields.first { $0.name == name }?.value }
}

/// Limits for reading one form body.
struct FormLimits: Sendable {
    /// Bytes allowed in the whole body.
    var maxBodyBytes: Int
    /// Bytes allowed in one file part.
    var maxFileBytes: Int
    /// Bytes allowed in one text field.
    var maxFieldBytes: Int
    /// Multipart framing limits.
    var multipart: MultipartParser.Limits
}

/// Reads request bodies as they stream in, refusing them the moment they pass a limit: memory
/// stays bounded by the limits, whatever the client sends.
enum RequestBodyReader {
    /// Collects a body of at most `limit` bytes.
    static func collect<Body: AsyncSequence>(_ body: Body, limit: Int) async throws -> [UInt8] where Body.Element == ByteBuffer {
        var out: [UInt8] = []
        for try await chunk in body {
            guard out.count + chunk.readableBytes <= limit else { throw BodyError.tooLarge(limit) }
            out.append(contentsOf: chunk.readableBytesView)
        }
        return out
    }

    /// Reads a `multipart/form-data` body: parts named in `fileFields` become files (the first of
    /// each name; later ones are discarded), other named parts become text fields.
    static func readMultipart<Body: AsyncSequence>(
        _ body: Body, boundary: String, fileFields: Set<String>, limits: FormLimits
    ) async throws -> FormInput where Body.Element == ByteBuffer {
        var reader = MultipartFormReader(boundary: boundary, fileFields: fileFields, limits: limits)
        for try await chunk in body {
            try chunk.readableBytesView.withContiguousStorageIfAvailable { try reader.feed($0) }
                ?? reader.feed(Array(chunk.readableBytesView))
        }
        return try reader.finish()
    }

    /// Reads an `application/x-www-form-urlencoded` body; fields named in `fileFields` become
    /// files (their value is base64 text, decoded later).
    static func readURLEncoded<Body: AsyncSequence>(
        _ body: Body, fileFields: Set<String>, limits: FormLimits
    ) async throws -> FormInput where Body.Element == ByteBuffer {
        try urlEncodedForm(try await collect(body, limit: limits.maxBodyBytes), fileFields: fileFields, limits: limits)
    }

    /// The form of a whole `application/x-www-form-urlencoded` body.
    static func urlEncodedForm(_ bytes: [UInt8], fileFields: Set<String>, limits: FormLimits) throws(BodyError) -> FormInput {
        guard bytes.count <= limits.maxBodyBytes else { throw BodyError.tooLarge(limits.maxBodyBytes) }
        guard let pairs = FormURLEncoded.parse(bytes) else { throw BodyError.malformed("malformed percent-encoding in form body") }
        var form = FormInput()
        for (name, value) in pairs {
            if fileFields.contains(name) {
                if form.files[name] == nil { form.files[name] = UploadedPart(filename: nil, contentType: nil, data: Data(value.utf8)) }
            } else {
                guard value.utf8.count <= limits.maxFieldBytes else { throw BodyError.fieldTooLong(name, limits.maxFieldBytes) }
                form.fields.append((name, value))
            }
        }
        guard form.fields.count + form.files.count <= limits.multipart.maxParts else {
            throw BodyError.malformed("more than \(limits.multipart.maxParts) form fields")
        }
        return form
    }

    /// The announced body length, when the request has a valid Content-Length.
    static func contentLength(_ request: Request) -> Int? {
        request.headers[.contentLength].flatMap { Int($0.trimmingASCIIWhitespace()) }
    }
}

/// Turns a `multipart/form-data` body, fed chunk by chunk, into a form: parts named in `fileFields` become files
/// (the first of each name; later ones are discarded), other named parts become text fields. Synchronous and
/// without I/O: `RequestBodyReader` drives it from the request body, the fuzz target from bytes.
struct MultipartFormReader {
    private var parser: MultipartParser
    private let fileFields: Set<String>
    private let limits: FormLimits
    private var form = FormInput()
    private var total = 0
    private var current: (head: MultipartPartHead, isFile: Bool, keep: Bool)?
    private var fileData = Data()
    private var fieldBytes: [UInt8] = []

    /// A reader for a body with `boundary`.
    init(boundary: String, fileFields: Set<String>, limits: FormLimits) {
        parser = MultipartParser(boundary: boundary, limits: limits.multipart)
        self.fileFields = fileFields
        self.limits = limits
    }

    /// Reads the next chunk of the body.
    /// The part of a chunk that crosses the body limit is parsed up to the limit first, so a part that passed
    /// its own (smaller) limit within those bytes is named, however the network cut the body into chunks.
    mutating func feed(_ chunk: some Collection<UInt8>) throws(BodyError) {
        let room = limits.maxBodyBytes - total
        total += chunk.count
        guard chunk.count > room else { return try parse(chunk) }
        if room > 0 { try parse(chunk.prefix(room)) }
        throw BodyError.tooLarge(limits.maxBodyBytes)
    }

    private mutating func parse(_ bytes: some Collection<UInt8>) throws(BodyError) {
        let events: [MultipartParser.Event]
        do {
            events = try parser.feed(bytes)
        } catch {
            throw BodyError.malformed(error.message)
        }
        for event in events { try handle(event) }
    }

    /// The form, once the whole body was fed; throws when it ended before the closing boundary.
    func finish() throws(BodyError) -> FormInput {
        do {
            try parser.finish()
        } catch {
            throw BodyError.malformed(error.message)
        }
        return form
    }

    private mutating func handle(_ event: MultipartParser.Event) throws(BodyError) {
        switch event {
        case .begin(let head):
            let isFile = fileFields.contains(head.name)
            current = (head, isFile, isFile && form.files[head.name] == nil)
            fileData = Data()
            fieldBytes = []
        case .body(let bytes):
            guard let part = current else { return }
            if part.isFile {
                guard part.keep else { return }
                guard fileData.count + bytes.count <= limits.maxFileBytes else {
                    throw BodyError.fileTooLarge(part.head.name, limits.maxFileBytes)
                }
                fileData.append(contentsOf: bytes)
            } else if part.head.filename == nil {
                guard fieldBytes.count + bytes.count <= limits.maxFieldBytes else {
                    throw BodyError.fieldTooLong(part.head.name, limits.maxFieldBytes)
                }
                fieldBytes.append(contentsOf: bytes)
            }
            // A file in a field nobody asked for is read past and dropped.
        case .end:
            guard let part = current else { return }
            if part.isFile, part.keep {
                form.files[part.head.name] = UploadedPart(filename: part.head.filename, contentType: part.head.contentType, data: fileData)
            } else if !part.isFile, part.head.filename == nil {
                guard let text = String(bytes: fieldBytes, encoding: .utf8) else {
                    throw BodyError.malformed("field \"\(part.head.name)\" is not UTF-8 text")
                }
                form.fields.append((part.head.name, text))
            }
            current = nil
            fileData = Data()
            fieldBytes = []
        case .finished:
            break
        }
    }
}
