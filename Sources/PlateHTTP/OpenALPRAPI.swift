import Foundation
import Hummingbird
import PlateCore

/// The OpenALPR Cloud API v3: `POST /v3/recognize`, `/v3/recognize_bytes`, `/v3/recognize_url`
/// and `GET /v3/config`, with the swagger's `api_200`…`api_403` bodies: `{"error": "..."}` for
/// 400 (bad parameter), 401 (missing or wrong `secret_key`), 402 (monthly credits spent) and 403
/// (rate limit), and the `X-RateLimit-*` headers whenever the account has a rate limit.
struct OpenALPRAPI: Sendable {
    let engine: SnapshotEngine

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v3/recognize") { request, _ in try await self.recognize(request, source: .multipart) }
        router.post("/v3/recognize_bytes") { request, _ in try await self.recognize(request, source: .base64Body) }
        router.post("/v3/recognize_url") { request, _ in try await self.recognize(request, source: .url) }
        router.get("/v3/config") { _, _ in self.config() }
    }

    enum Source { case multipart, base64Body, url }

    /// Parameters shared by the three recognize calls.
    struct Parameters {
        var country: String
        var recognizeVehicle: Bool
        var returnImage: Bool
        var topN: Int
        var isCropped: Bool
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, rate: FixedWindowRateLimit.Decision? = nil) -> Response {
        jsonResponse(status, .object([("error", .string(message))]), headers: rateHeaders(rate))
    }

    /// `X-RateLimit-Limit`, `X-Ratelimit-Remaining`, `X-Ratelimit-Reset`, spelled as the swagger spells them.
    static func rateHeaders(_ decision: FixedWindowRateLimit.Decision?) -> HTTPFields {
        guard let decision else { return [:] }
        var fields = HTTPFields()
        fields[.init("X-RateLimit-Limit")!] = String(decision.limit)
        fields[.init("X-Ratelimit-Remaining")!] = String(decision.remaining)
        fields[.init("X-Ratelimit-Reset")!] = String(Int(decision.resetAt.rounded(.up)))
        return fields
    }

    func recognize(_ request: Request, source: Source) async throws -> Response {
        let query = queryPairs(request)

        // secret_key → 401
        let account: Account
        if engine.authenticationRequired {
            guard let secret = first("secret_key", in: query), !secret.isEmpty else {
                return Self.error(.unauthorized, "secret_key is required")
            }
            guard let found = engine.key(matching: secret, \.openALPRSecretKey) else {
                return Self.error(.unauthorized, "Invalid secret_key")
            }
            account = found
        } else {
            account = engine.anonymous
        }

        // Parameters → 400 (checked before the rate limit counts the call, so a typo costs nothing).
        let parameters: Parameters
        switch Self.parameters(query, regions: engine.regions) {
        case .success(let p): parameters = p
        case .failure(let message): return Self.error(.badRequest, message)
        }
        let cost = parameters.recognizeVehicle ? 2 : 1

        // Rate limit → 403, monthly credits → 402.
        let rate: FixedWindowRateLimit.Decision?
        switch try await engine.admit(account, cost: cost) {
        case .admitted(let decision): rate = decision
        case .throttled(let decision):
            return Self.error(.forbidden, "Rate limit exceeded: \(decision.limit) requests per window; retry after "
                + "\(max(1, Int(decision.retryAfter.rounded(.up)))) s", rate: decision)
        case .overQuota(let limit, let used, _, let decision):
            return Self.error(.paymentRequired, "Monthly usage limit exceeded: \(used) of \(limit) credits used", rate: decision)
        }

        // The image → 400.
        let image: Data
        switch try await readImage(request, source: source, query: query) {
        case .success(let data): image = data
        case .failure(let message): return Self.error(.badRequest, message, rate: rate)
        }

        var options = RecognitionOptions()
        options.regions = [parameters.country]
        options.topN = parameters.topN
        options.mmc = parameters.recognizeVehicle
        options.cropped = parameters.isCropped
        switch await engine.recognize(image, account: account, cost: cost, options: options) {
        case .recognized(let result, _, let calls, let processing):
            let body = Self.response(result, parameters: parameters, cost: cost, used: calls, total: account.plan?.monthlyCalls,
                                     processing: processing, epoch: engine.now(), image: parameters.returnImage ? image : nil)
            return jsonResponse(.ok, body, headers: Self.rateHeaders(rate))
        case .badImage(let problem):
            return Self.error(.badRequest, Self.message(for: problem), rate: rate)
        case .overQuota(let limit, let used, _):
            return Self.error(.paymentRequired, "Monthly usage limit exceeded: \(used) of \(limit) credits used", rate: rate)
        case .failed:
            return Self.error(.internalServerError, "Recognition failed", rate: rate)
        }
    }

    static func parameters(_ query: [(name: String, value: String)], regions: RegionCatalog) -> Attempt<Parameters, String> {
        var flags: [String: Bool] = [:]
        for name in ["recognize_vehicle", "return_image", "is_cropped"] {
            guard let text = first(name, in: query) else { flags[name] = false; continue }
            switch text {
            case "0": flags[name] = false
            case "1": flags[name] = true
            default: return .failure("\(name) must be 0 or 1")
            }
        }
        guard let countryText = first("country", in: query), !countryText.isEmpty else {
            return .failure("country is required (for example \"us\" or \"eu\")")
        }
        guard let country = regions.validate(countryText) else { return .failure("Unknown country: \(countryText.prefix(40))") }
        var topN = 10
        if let text = first("topn", in: query) {
            guard let value = Int(text), (1...1000).contains(value) else { return .failure("topn must be an integer from 1 to 1000") }
            topN = value
        }
        return .success(Parameters(country: country, recognizeVehicle: flags["recognize_vehicle"]!,
                                   returnImage: flags["return_image"]!, topN: topN, isCropped: flags["is_cropped"]!))
    }

    /// The image of a `recognize_bytes` body: base64 text, a JSON string of it, or `{"image_bytes": "..."}`; or the
    /// 400 message. Pure: the handler and the fuzz target both call it.
    static func base64Image(body: [UInt8], maxImageBytes: Int) -> Attempt<Data, String> {
        var bytes = body
        // The body is the base64 text itself; a JSON string or {"image_bytes": "..."} is accepted too.
        let first = bytes.first { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "{") {
            switch JSONInput.parse(bytes) {
            case .string(let text)?: bytes = Array(text.utf8)
            case .object(let object)?:
                guard let text = object["image_bytes"]?.stringValue else { return .failure("Missing required parameter: image_bytes") }
                bytes = Array(text.utf8)
            default: return .failure("The body is neither base64 text nor a JSON string")
            }
        }
        guard bytes.contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }) else {
            return .failure("Missing required parameter: image_bytes (the body is empty)")
        }
        do throws(Base64.DecodingError) {
            return .success(try Base64.decode(bytes, maxBytes: maxImageBytes))
        } catch {
            return .failure(error.isTooLarge ? "The image is larger than \(maxImageBytes) bytes"
                : "image_bytes is not valid base64: \(error.message)")
        }
    }

    /// The image bytes of the request, or the 400 message.
    func readImage(_ request: Request, source: Source, query: [(name: String, value: String)]) async throws -> Attempt<Data, String> {
        let limits = engine.configuration.limits
        let bodyLimit = limits.maxBodyBytes
        if let length = RequestBodyReader.contentLength(request), length > bodyLimit {
            return .failure("Request body is larger than \(bodyLimit) bytes")
        }
        let type = mediaType(of: request)?.value
        do {
            switch source {
            case .multipart:
                guard type == "multipart/form-data",
                      let boundary = MultipartParser.boundary(contentType: request.headers[.contentType] ?? "") else {
                    return .failure("The image must be sent as multipart/form-data with an \"image\" file field")
                }
                let form = try await RequestBodyReader.readMultipart(
                    request.body, boundary: boundary, fileFields: ["image"],
                    limits: FormLimits(maxBodyBytes: bodyLimit, maxFileBytes: limits.maxImageBytes, maxFieldBytes: limits.maxFieldBytes,
                                       multipart: .init(maxParts: limits.maxMultipartParts, maxHeaderBytes: limits.maxPartHeaderBytes)))
                guard let part = form.files["image"] else { return .failure("Missing required parameter: image") }
                guard !part.data.isEmpty else { return .failure("The image file is empty") }
                return .success(part.data)
            case .base64Body:
                if let type, type.hasPrefix("multipart/") {
                    return .failure("recognize_bytes takes the image as base64 text in the body, not as a multipart form")
                }
                let bytes = try await RequestBodyReader.collect(request.body, limit: bodyLimit)
                return Self.base64Image(body: bytes, maxImageBytes: limits.maxImageBytes)
            case .url:
                _ = try await RequestBodyReader.collect(request.body, limit: limits.maxFieldBytes)
                guard let url = first("image_url", in: query), !url.isEmpty else { return .failure("Missing required parameter: image_url") }
                do throws(URLLoadError) {
                    return .success(try await engine.loader.load(url))
                } catch {
                    return .failure(error.message)
                }
            }
        } catch let error as BodyError {
            switch error.kind {
            case .tooLarge: return .failure(String(error.sentence.dropLast()))
            case .fieldTooLong, .malformed: return .failure("Malformed request body: \(error.message)")
            }
        }
    }

    static func message(for problem: ImageProblem) -> String {
        switch problem {
        case .empty: "The image file is empty"
        case .notAnImage: "The file is not a supported image (JPEG, PNG, BMP, TIFF or WebP)"
        case .unsupportedFormat(let format): "Unsupported image format: \(format.rawValue)"
        case .tooManyPixels(let w, let h, let limit): "The image is \(w)x\(h) pixels, more than the limit of \(limit) pixels"
        case .outOfBounds(let message): message
        case .undecodable: "The image could not be decoded (truncated or corrupt)"
        }
    }

    /// A percentage with 3 decimals, as OpenALPR reports confidences.
    static func percent(_ score: Double) -> Double { (score * 100_000).rounded() / 1000 }

    /// OpenALPR's region code: the state part of `us-ca`, or the country (`gb`).
    static func regionCode(_ code: String) -> String {
        code.split(separator: "-").last.map(String.init) ?? code
    }

    static func roi(x: Double, y: Double, width: Double, height: Double) -> JSONValue {
        .object([("x", .integer(Int(x.rounded()))), ("y", .integer(Int(y.rounded()))),
                 ("width", .integer(Int(width.rounded()))), ("height", .integer(Int(height.rounded())))])
    }

    static func candidates(_ list: [(name: String, score: Double)]) -> JSONValue {
        .array(list.map { .object([("name", .string($0.name)), ("confidence", .number(percent($0.score)))]) })
    }

    /// `vehicle_details`: every list the swagger names; `year` is empty (not estimated).
    static func vehicleDetails(_ vehicle: VehicleDetection?) -> JSONValue {
        let bodyType: String = switch vehicle?.type {
        case .car?: "sedan-standard"
        case .truck?: "truck-standard"
        case .bus?: "bus"
        case .motorcycle?: "motorcycle"
        default: "unknown"
        }
        var makes: [(name: String, score: Double)] = []
        for guess in vehicle?.makeModel ?? [] {
            let make = guess.make.lowercased()
            if let index = makes.firstIndex(where: { $0.name == make }) {
                makes[index].score = max(makes[index].score, guess.score)
            } else {
                makes.append((make, guess.score))
            }
        }
        return .object([
            ("color", candidates((vehicle?.color ?? []).map { ($0.label.lowercased(), $0.score) })),
            ("make", candidates(makes)),
            ("make_model", candidates((vehicle?.makeModel ?? []).map {
                ("\($0.make)_\($0.model)".lowercased().replacingOccurrences(of: " ", with: "-"), $0.score)
            })),
            ("body_type", candidates(vehicle.map { [(bodyType, $0.score)] } ?? [])),
            ("year", .array([])),
            ("orientation", candidates((vehicle?.orientation ?? []).map { ($0.label.lowercased(), $0.score) })),
        ])
    }

    /// The `api_200` body.
    static func response(_ result: RecognitionResult, parameters: Parameters, cost: Int, used: Int, total: Int?,
                         processing: Duration, epoch: Date, image: Data?) -> JSONValue {
        let size = result.imageSize
        let perPlate = result.plates.isEmpty ? 0 : result.readMilliseconds / Double(result.plates.count)
        let results: [JSONValue] = result.plates.map { plate in
            let corners = cornersOf(plate)
            let vehicle = result.vehicle(for: plate)
            let region = vehicle?.box ?? BoundingBox(x: 0, y: 0, width: Double(size.width), height: Double(size.height))
            var members: [(key: String, value: JSONValue)] = [
                ("plate", .string(plate.text)),
                ("confidence", .number(percent(plate.score))),
                ("matches_template", .integer(plate.matchesTemplate ? 1 : 0)),
                ("region", .string(regionCode((plate.region ?? .unknown).code))),
                ("region_confidence", .number(percent((plate.region ?? .unknown).score))),
                ("processing_time_ms", .number((perPlate * 1000).rounded() / 1000)),
                ("requested_topn", .integer(parameters.topN)),
                ("coordinates", .array(corners.map {
                    .object([("x", .integer(Int($0.x.rounded()))), ("y", .integer(Int($0.y.rounded())))])
                })),
                ("candidates", .array(plate.candidates.prefix(parameters.topN).enumerated().map { index, candidate in
                    .object([("plate", .string(candidate.text)), ("confidence", .number(percent(candidate.score))),
                             ("matches_template", .integer(index == 0 && plate.matchesTemplate ? 1 : 0))])
                })),
                ("vehicle_region", roi(x: region.xmin, y: region.ymin, width: region.width, height: region.height)),
            ]
            if parameters.recognizeVehicle { members.append(("vehicle", vehicleDetails(vehicle))) }
            return .object(members)
        }
        let vehicles: [JSONValue] = parameters.recognizeVehicle ? result.vehicles.map { vehicle in
            .object([("x", .integer(Int(vehicle.box.xmin.rounded()))), ("y", .integer(Int(vehicle.box.ymin.rounded()))),
                     ("width", .integer(Int(vehicle.box.width.rounded()))), ("height", .integer(Int(vehicle.box.height.rounded()))),
                     ("details", vehicleDetails(vehicle))])
        } : []
        let totalMilliseconds = milliseconds(processing)
        let plateMilliseconds = ((result.detectMilliseconds + result.readMilliseconds) * 1000).rounded() / 1000
        var members: [(key: String, value: JSONValue)] = [
            ("version", .integer(2)),
            ("data_type", .string("alpr_results")),
            ("epoch_time", .integer(Int((epoch.timeIntervalSince1970 * 1000).rounded()))),
            ("img_width", .integer(size.width)),
            ("img_height", .integer(size.height)),
            ("processing_time", .object([
                ("total", .number(totalMilliseconds)),
                ("plates", .number(plateMilliseconds)),
                ("vehicles", .number(parameters.recognizeVehicle ? max(0, ((totalMilliseconds - plateMilliseconds) * 1000).rounded() / 1000) : 0)),
            ])),
            ("regions_of_interest", .array([roi(x: 0, y: 0, width: Double(size.width), height: Double(size.height))])),
            ("results", .array(results)),
            ("vehicles", .array(vehicles)),
            ("credits_monthly_used", .integer(used)),
            ("credits_monthly_total", total.map { .integer($0) } ?? .null),
            ("credit_cost", .integer(cost)),
        ]
        // Not in the swagger's schema, but what the service sends back with return_image=1.
        if let image { members.append(("image_bytes", .string(Base64.encode(image)))) }
        return .object(members)
    }

    // MARK: GET /v3/config

    func config() -> Response {
        let codes = (engine.regions.codes ?? ["us", "eu"]).sorted()
        let countries: [JSONValue] = codes.map { code in
            .object([("code", .string(code)), ("name", .string(engine.regions.names[code] ?? code.uppercased()))])
        }
        return jsonResponse(.ok, .object([
            ("countries", .array(countries)),
            ("vehicle_labels", .object([
                ("bodytype", .array(["sedan-standard", "truck-standard", "bus", "motorcycle", "unknown"].map { .string($0) })),
                ("color", .array(["black", "blue", "brown", "green", "red", "silver", "white", "yellow", "unknown"].map { .string($0) })),
                ("make", .array([])),
                ("makemodel", .array([])),
                ("orientation", .array(["front", "rear", "unknown"].map { .string($0) })),
                ("year", .array([])),
            ])),
        ]))
    }
}
