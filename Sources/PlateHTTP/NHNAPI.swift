import Foundation
import Hummingbird
import PlateCore

/// NHN Cloud's Vehicle Plate OCR: `POST /v1.0/appkeys/{appKey}/vehicle-plate`, a multipart
/// `image`, the secret key in `Authorization`.
///
/// Like NHN's OCR APIs, every answer is HTTP 200 and success or failure is in `header`:
/// `isSuccessful`, `resultCode` and `resultMessage`, with the codes and messages of NHN's OCR
/// error-code table (the API guide itself lists none).
struct NHNAPI: Sendable {
    let engine: SnapshotEngine

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1.0/appkeys/:appKey/vehicle-plate") { request, context in
            try await self.recognize(request, appKey: context.parameters.get("appKey") ?? "")
        }
    }

    /// NHN's OCR result codes.
    enum Code: Int {
        case unknown = -1
        case unsupportedMediaType = 415
        case invalidParameter = 4000001
        case invalidFile = 4000002
        case invalidFileType = 4000003
        case emptyFile = 4000004
        case missingHeader = 4000005
        case callLimitExceeded = 4000006
        case invalidAppKeySecretKey = 4010001
        case uploadTooLarge = 4131000

        func message(maxBytes: Int) -> String {
            switch self {
            case .unknown: "Unknown error."
            case .unsupportedMediaType: "Unsupported Media Type"
            case .invalidParameter: "Invalid parameter."
            case .invalidFile: "Invalid file."
            case .invalidFileType: "Invalid file type."
            case .emptyFile: "Uploaded file is empty."
            case .missingHeader: "Required headers are missing."
            case .callLimitExceeded: "Api call limit exceeded. If you need to adjust the limit, please contact customer service."
            case .invalidAppKeySecretKey: "Invalid appKey or secretKey."
            // NHN's limit is 5 MB; the message states this server's.
            case .uploadTooLarge: "Request size is larger than the permissible limit. The permissible limit is \(max(1, maxBytes / (1024 * 1024)))mb."
            }
        }
    }

    func failure(_ code: Code) -> Response {
        jsonResponse(.ok, .object([("header", .object([
            ("isSuccessful", .bool(false)),
            ("resultCode", .integer(code.rawValue)),
            ("resultMessage", .string(code.message(maxBytes: engine.configuration.limits.maxImageBytes))),
        ]))]))
    }

    func recognize(_ request: Request, appKey: String) async throws -> Response {
        let account: Account
        if engine.authenticationRequired {
            guard let secret = request.headers[.authorization]?.trimmingASCIIWhitespace(), !secret.isEmpty else {
                return failure(.missingHeader)
            }
            guard let found = engine.nhnKey(appKey: appKey, secret: secret) else { return failure(.invalidAppKeySecretKey) }
            account = found
        } else {
            account = engine.anonymous
        }
        switch try await engine.admit(account, cost: 1) {
        case .admitted: break
        case .throttled, .overQuota: return failure(.callLimitExceeded)
        }

        let limits = engine.configuration.limits
        guard mediaType(of: request)?.value == "multipart/form-data",
              let boundary = MultipartParser.boundary(contentType: request.headers[.contentType] ?? "") else {
            return failure(.unsupportedMediaType)
        }
        if let length = RequestBodyReader.contentLength(request), length > limits.maxBodyBytes { return failure(.uploadTooLarge) }
        let form: FormInput
        do {
            form = try await RequestBodyReader.readMultipart(
                request.body, boundary: boundary, fileFields: ["image"],
                limits: FormLimits(maxBodyBytes: limits.maxBodyBytes, maxFileBytes: limits.maxImageBytes, maxFieldBytes: limits.maxFieldBytes,
                                   multipart: .init(maxParts: limits.maxMultipartParts, maxHeaderBytes: limits.maxPartHeaderBytes)))
        } catch let error as BodyError {
            return failure(error.kind == .tooLarge ? .uploadTooLarge : .invalidParameter)
        }
        guard let part = form.files["image"] else { return failure(.invalidParameter) }

        switch await engine.recognize(part.data, account: account, cost: 1, options: RecognitionOptions()) {
        case .recognized(let result, let header, _, _):
            return jsonResponse(.ok, Self.response(result, header: header))
        case .badImage(let problem):
            switch problem {
            case .empty: return failure(.emptyFile)
            case .notAnImage, .unsupportedFormat: return failure(.invalidFileType)
            case .tooManyPixels, .outOfBounds, .undecodable: return failure(.invalidFile)
            }
        case .overQuota:
            return failure(.callLimitExceeded)
        case .failed:
            return failure(.unknown)
        }
    }

    /// The documented success body.
    static func response(_ result: RecognitionResult, header: ImageHeaderInfo) -> JSONValue {
        let size = result.imageSize
        // "normal" at HD (1280×720) or above, either way round.
        let normal = max(size.width, size.height) >= 1280 && min(size.width, size.height) >= 720
        let boxes: [JSONValue] = result.plates.map { plate in
            let corners = cornersOf(plate)
            var members: [(key: String, value: JSONValue)] = []
            for (index, corner) in corners.enumerated() {
                members.append(("x\(index + 1)", .integer(Int(corner.x.rounded()))))
                members.append(("y\(index + 1)", .integer(Int(corner.y.rounded()))))
            }
            return .object(members)
        }
        return .object([
            ("header", .object([("isSuccessful", .bool(true)), ("resultCode", .integer(0)), ("resultMessage", .string("SUCCESS"))])),
            ("result", .object([
                ("fileType", .string(header.format.fileExtension)),
                ("values", .array(result.plates.map {
                    .object([("value", .string($0.text)), ("conf", .number(score3($0.score)))])
                })),
                ("boxes", .array(boxes)),
                ("resolution", .string(normal ? "normal" : "low")),
            ])),
        ])
    }
}
