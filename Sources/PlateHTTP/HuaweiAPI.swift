import Foundation
import Hummingbird
import PlateCore

/// Huawei Cloud's Plate Number OCR: `POST /v2/{project_id}/ocr/license-plate`, a JSON body with
/// base64 `image` or an image `url`, the token in `X-Auth-Token`.
///
/// The documented constraints are enforced with Huawei's OCR error codes and messages: at most
/// 10 MB (`limits.max_image_bytes`), narrow edge at least 15 px, wide edge at most 4096 px,
/// JPEG, PNG, BMP or TIFF. Authentication and throttling errors use the API gateway's codes.
struct HuaweiAPI: Sendable {
    let engine: SnapshotEngine

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v2/:projectID/ocr/license-plate") { request, context in
            try await self.recognize(request, projectID: context.parameters.get("projectID") ?? "")
        }
    }

    /// Huawei's OCR and API-gateway error codes, with their documented messages.
    enum Code: String {
        case invalidParameter = "AIS.0101"
        case unsupportedFormat = "AIS.0102"
        case badSize = "AIS.0103"
        case poorImage = "AIS.0104"
        case recognitionFailed = "AIS.0105"
        case badToken = "APIG.1002"
        case noPermission = "APIG.1005"
        case throttled = "APIG.0308"

        var status: HTTPResponse.Status {
            switch self {
            case .badToken: .unauthorized
            case .noPermission: .forbidden
            case .throttled: .tooManyRequests
            case .recognitionFailed: .internalServerError
            default: .badRequest
            }
        }

        var message: String {
            switch self {
            case .invalidParameter: "The input parameter is invalid."
            case .unsupportedFormat: "The image format is not supported."
            case .badSize: "The image size does not meet the requirements."
            case .poorImage: "The image is not supported or the image quality is poor."
            case .recognitionFailed: "Recognition failed."
            case .badToken: "Incorrect token or token resolution failed"
            case .noPermission: "No permissions to request this method"
            case .throttled: "The throttling threshold has been reached"
            }
        }
    }

    static func error(_ code: Code, message: String? = nil) -> Response {
        jsonResponse(code.status, .object([("error_code", .string(code.rawValue)), ("error_msg", .string(message ?? code.message))]))
    }

    /// The narrow edge must have at least this many pixels.
    static let minNarrowEdge = 15
    /// The wide edge may have at most this many pixels.
    static let maxWideEdge = 4096

    func recognize(_ request: Request, projectID: String) async throws -> Response {
        let account: Account
        if engine.authenticationRequired {
            guard let token = request.headers[.init("X-Auth-Token")!]?.trimmingASCIIWhitespace(), !token.isEmpty,
                  let found = engine.key(matching: token, \.huaweiToken) else { return Self.error(.badToken) }
            if let expected = engine.apiKey(named: found.name)?.huaweiProjectID, expected != projectID {
                return Self.error(.noPermission)
            }
            account = found
        } else {
            account = engine.anonymous
        }
        switch try await engine.admit(account, cost: 1) {
        case .admitted: break
        case .throttled(let decision):
            // The gateway's message names the policy, the limit and the window.
            return Self.error(.throttled, message: "The throttling threshold has been reached: policy user over ratelimit,"
                + "limit:\(decision.limit),time:\(Self.window(decision))")
        case .overQuota(let limit, _, _, _):
            return Self.error(.throttled, message: "The throttling threshold has been reached: policy user over ratelimit,"
                + "limit:\(limit),time:1 month")
        }

        let limits = engine.configuration.limits
        guard mediaType(of: request)?.value == "application/json" else { return Self.error(.invalidParameter) }
        if let length = RequestBodyReader.contentLength(request), length > limits.maxBodyBytes { return Self.error(.badSize) }
        let bytes: [UInt8]
        do {
            bytes = try await RequestBodyReader.collect(request.body, limit: limits.maxBodyBytes)
        } catch is BodyError {
            return Self.error(.badSize)
        }
        let data: Data
        switch Self.imageInput(body: bytes, maxImageBytes: limits.maxImageBytes) {
        case .failure(let code): return Self.error(code)
        case .success(.image(let image)): data = image
        case .success(.url(let url)):
            do throws(URLLoadError) {
                data = try await engine.loader.load(url)
            } catch {
                return Self.error(error.isTooLarge ? .badSize : .invalidParameter)
            }
        }

        let outcome = await engine.recognize(data, account: account, cost: 1, options: RecognitionOptions()) { header in
            switch header.format {
            case .jpeg, .png, .bmp, .tiff: break
            case .webp: return .unsupportedFormat(header.format)
            }
            guard min(header.width, header.height) >= Self.minNarrowEdge, max(header.width, header.height) <= Self.maxWideEdge else {
                return .outOfBounds("image is \(header.width)x\(header.height)")
            }
            return nil
        }
        switch outcome {
        case .recognized(let result, _, _, _):
            return jsonResponse(.ok, Self.response(result))
        case .badImage(let problem):
            switch problem {
            case .notAnImage, .unsupportedFormat: return Self.error(.unsupportedFormat)
            case .empty, .tooManyPixels, .outOfBounds: return Self.error(.badSize)
            case .undecodable: return Self.error(.poorImage)
            }
        case .overQuota(let limit, _, _):
            return Self.error(.throttled, message: "The throttling threshold has been reached: policy user over ratelimit,limit:\(limit),time:1 month")
        case .failed:
            return Self.error(.recognitionFailed)
        }
    }

    /// Where a request's image comes from: decoded base64 (`image`) or a URL to load (`url`).
    enum ImageInput: Equatable {
        case image(Data)
        case url(String)
    }

    /// The image source a JSON body names (exactly one of `image`, base64, and `url`), or the error code.
    /// Pure: the handler and the fuzz target both call it.
    static func imageInput(body: [UInt8], maxImageBytes: Int) -> Attempt<ImageInput, Code> {
        guard let object = JSONInput.parse(body)?.objectValue else { return .failure(.invalidParameter) }
        switch (object["image"], object["url"]) {
        case (.string(let text)?, nil), (.string(let text)?, .null?):
            guard !text.isEmpty else { return .failure(.invalidParameter) }
            do throws(Base64.DecodingError) {
                return .success(.image(try Base64.decode(text.utf8, maxBytes: maxImageBytes)))
            } catch {
                return .failure(error.isTooLarge ? .badSize : .unsupportedFormat)
            }
        case (nil, .string(let url)?), (.null?, .string(let url)?):
            return url.isEmpty ? .failure(.invalidParameter) : .success(.url(url))
        default:
            // Neither, both, or not strings.
            return .failure(.invalidParameter)
        }
    }

    /// `1 second`, `30 seconds`, `1 minute`: the window as the gateway words it.
    static func window(_ decision: FixedWindowRateLimit.Decision) -> String {
        let seconds = decision.window
        for (unit, length) in [("hour", 3600.0), ("minute", 60.0), ("second", 1.0)]
        where seconds >= length && (seconds / length).rounded() == seconds / length {
            let count = Int(seconds / length)
            return "\(count) \(unit)\(count == 1 ? "" : "s")"
        }
        return "\(seconds) seconds"
    }

    /// The documented success body.
    static func response(_ result: RecognitionResult) -> JSONValue {
        let plates: [JSONValue] = result.plates.map { plate in
            let location: [JSONValue] = cornersOf(plate).map { corner in
                JSONValue.array([.integer(Int(corner.x.rounded())), .integer(Int(corner.y.rounded()))])
            }
            return JSONValue.object([
                ("plate_number", .string(plate.text)),
                ("plate_color", .string(plate.color?.lowercased() ?? "unknown")),
                ("confidence", .number(score3(plate.score))),
                ("plate_location", .array(location)),
            ])
        }
        return .object([("result", .array(plates))])
    }
}
