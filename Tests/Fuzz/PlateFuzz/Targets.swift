import Foundation
import PlateCore
import PlateHTTP
import PlateSinks
import PlateVision

/// The fuzz targets, by the name scripts/fuzz uses; each takes the fuzzer's bytes and returns whether the input
/// was accepted (the answer itself is not checked: a target fails only by crashing, leaking or hanging).
let targets: [(name: String, run: @Sendable ([UInt8]) -> Bool)] = [
    ("multipart", HTTPFuzzEntryPoints.multipart),
    ("form", HTTPFuzzEntryPoints.form),
    ("base64", HTTPFuzzEntryPoints.base64),
    ("plate-recognizer-json", HTTPFuzzEntryPoints.plateRecognizerJSON),
    ("openalpr-query", HTTPFuzzEntryPoints.openALPR),
    ("nhn-multipart", HTTPFuzzEntryPoints.nhn),
    ("huawei-json", HTTPFuzzEntryPoints.huawei),
    ("image-header", imageHeader),
    ("image-decode", imageDecode),
    ("config", config),
    ("event-store", EventStoreTarget.run),
    ("source-url", sourceURL),
]

/// The target this process runs, chosen by PLATESTREAM_FUZZ_TARGET before the first input.
nonisolated(unsafe) var selected: (@Sendable ([UInt8]) -> Bool)?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    let name = ProcessInfo.processInfo.environment["PLATESTREAM_FUZZ_TARGET"] ?? ""
    if name == "--list" {
        for target in targets { print(target.name) }
        exit(0)
    }
    guard let target = targets.first(where: { $0.name == name }) else {
        FileHandle.standardError.write(Data("PLATESTREAM_FUZZ_TARGET must be one of: \(targets.map(\.name).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    selected = target.run
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    _ = selected!(bytes)
    return 0
}

/// The image header sniffer: format and declared size; a parsed header must agree with the sniffed format.
func imageHeader(_ bytes: [UInt8]) -> Bool {
    let data = Data(bytes)
    let format = ImageHeader.sniffFormat(data)
    guard let header = ImageHeader.parse(data) else { return false }
    precondition(header.format == format && header.width > 0 && header.height > 0, "header disagrees with the sniffer")
    return true
}

/// The image decoder entry the snapshot APIs and `read` use (OpenCV's imdecode behind the header checks), with a
/// pixel cap so that a declared 60 000 x 60 000 image is refused, not allocated.
func imageDecode(_ bytes: [UInt8]) -> Bool {
    guard let image = try? ImageCodec.decode(Data(bytes), maxPixels: 4_000_000) else { return false }
    precondition(image.width > 0 && image.height > 0 && image.width * image.height <= 4_000_000)
    return true
}

/// config.json's parts that the libraries parse: the snapshot server's `http` section and the engine's `config`
/// (as the CLI's `--config-json` and the API's `config` field give it).
func config(_ bytes: [UInt8]) -> Bool {
    let http = HTTPFuzzEntryPoints.configuration(bytes)
    let engine = (try? EngineConfig.parse(String(decoding: bytes, as: UTF8.self)))?.apply(to: RecognitionOptions()) != nil
    return http || engine
}

/// Camera locations (rtsp://, http:// MJPEG, files, devices) as logs and events show them, and the address
/// parser that guards image URLs: redaction never leaves the password, never changes the kind, and is stable.
func sourceURL(_ bytes: [UInt8]) -> Bool {
    let text = String(decoding: bytes, as: UTF8.self)
    let kind = SourceURL.kind(of: text)
    let redacted = SourceURL.redacted(text)
    let bare = SourceURL.withoutCredentials(text)
    precondition(SourceURL.kind(of: redacted) == kind && SourceURL.kind(of: bare) == kind, "redaction changed the kind")
    precondition(SourceURL.redacted(redacted) == redacted, "redaction is not stable")
    precondition(SourceURL.withoutCredentials(bare) == bare, "credential removal is not stable")
    if let address = IPAddress(text) {
        precondition(IPAddress(address.description) == address, "an address does not survive its own description")
        return true
    }
    return kind != .file
}
