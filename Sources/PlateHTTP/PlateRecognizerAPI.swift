import Foundation
import Hummingbird
import PlateCore

/// Plate Recognizer's Snapshot API, as its on-premise SDK serves it: `POST /v1/plate-reader/`,
/// `GET /info/`, `GET /v1/statistics/`.
///
/// Errors follow the public service, a Django REST framework application: field errors as
/// `{"field": ["message"]}` with 400, everything else as `{"detail": "message"}` (403 for a
/// missing or wrong token and for a spent quota, 413 for a body too large, 415 for a media type
/// it does not parse, 429 when throttled).
struct PlateRecognizerAPI: Sendable {
    let engine: SnapshotEngine

    /// Fields that carry the image.
    static let fileFields: Set<String> = ["upload"]

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/plate-reader") { request, _ in try await self.readPlates(request) }
        router.get("/info") { request, _ in try await self.info(request) }
        router.get("/v1/statistics") { request, _ in try await self.statistics(request) }
    }

    // MARK: Errors

    static func detail(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        jsonResponse(status, .object([("detail", .string(message))]), headers: headers)
    }

    static func fieldErrors(_ errors: [(field: String, messages: [String])]) -> Response {
        jsonResponse(.badRequest, .object(errors.map { ($0.field, .array($0.messages.map { .string($0) })) }))
    }

    static func fieldError(_ field: String, _ message: String) -> Response { fieldErrors([(field, [message])]) }

    /// The account of a request, or the 403 to send.
    func authenticate(_ request: Request) -> Attempt<Account, Response> {
        guard engine.authenticationRequired else { return .success(engine.anonymous) }
        guard let header = request.headers[.authorization]?.trimmingASCIIWhitespace(), !header.isEmpty else {
            return .failure(Self.detail(.forbidden, "Authentication credentials were not provided."))
        }
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "token" else {
            return .failure(Self.detail(.forbidden, parts.count == 1 && parts[0].lowercased() == "token"
                ? "Invalid token header. No credentials provided." : "Invalid token header."))
        }
        guard let account = engine.key(matching: String(parts[1]), \.token) else {
            return .failure(Self.detail(.forbidden, "Invalid token."))
        }
        return .success(account)
    }

    /// Rate limit and quota, or the 429/403 to send.
    func admit(_ account: Account) async throws -> Response? {
        switch try await engine.admit(account, cost: 1) {
        case .admitted:
            return nil
        case .throttled(let decision):
            return Self.throttled(decision)
        case .overQuota(let limit, _, let resetsOn, _):
            return Self.overQuota(limit: limit, resetsOn: resetsOn)
        }
    }

    static func throttled(_ decision: FixedWindowRateLimit.Decision) -> Response {
        let seconds = max(1, Int(decision.retryAfter.rounded(.up)))
        return detail(.tooManyRequests, "Request was throttled. Expected available in \(seconds) second\(seconds == 1 ? "" : "s").",
                      headers: [.retryAfter: String(seconds)])
    }

    static func overQuota(limit: Int, resetsOn: Date) -> Response {
        detail(.forbidden, "Monthly call limit reached (\(limit) calls). The counter resets on \(isoSeconds(resetsOn)).")
    }

    // MARK: POST /v1/plate-reader/

    func readPlates(_ request: Request) async throws -> Response {
        let account: Account
        switch authenticate(request) {
        case .success(let a): account = a
        case .failure(let response): return response
        }
        if let refusal = try await admit(account) { return refusal }

        let limits = engine.configuration.limits
        let form: FormInput
        switch try await readForm(request, limits: limits) {
        case .success(let f): form = f
        case .failure(let response): return response
        }

        let checked: Fields
        switch Self.fields(of: form, catalog: engine.regions, now: engine.now(), maxImageBytes: limits.maxImageBytes,
                           isImage: { engine.decoder.header(of: $0) != nil }) {
        case .success(let f): checked = f
        case .failure(let response): return response
        }
        let (options, cameraID, timestamp, image, filename) =
            (checked.options, checked.cameraID, checked.timestamp, checked.image, checked.filename)

        switch await engine.recognize(image, account: account, cost: 1, options: options) {
        case .recognized(let result, _, let calls, let processing):
            let body = Self.response(result, mmc: options.mmc, calls: calls, maxCalls: account.plan?.monthlyCalls,
                                     processing: processing, filename: filename, cameraID: cameraID, timestamp: timestamp)
            if let webhooks = engine.webhooks, case .object(let members) = body {
                // Committed to the outbox before the answer goes out; a failure to queue is logged, the
                // caller still gets its result.
                do {
                    try webhooks.imageDone(data: .object(members.filter { $0.key != "usage" }), image: image,
                                           filename: filename, cameraID: cameraID)
                } catch {
                    engine.logger.error("snapshot webhook not queued", metadata: ["error": "\(error)", "filename": "\(filename)"])
                }
            }
            return jsonResponse(.ok, body)
        case .badImage(let problem):
            return Self.fieldError("upload", Self.message(for: problem))
        case .overQuota(let limit, _, let resetsOn):
            return Self.overQuota(limit: limit, resetsOn: resetsOn)
        case .failed:
            return Self.detail(.internalServerError, "Recognition failed.")
        }
    }

    /// The checked fields of a plate-reader request.
    struct Fields {
        var options: RecognitionOptions
        var cameraID: String?
        var timestamp: Date
        var image: Data
        var filename: String
    }

    /// Checks every field of a plate-reader form (all of them before the image, so that every field error comes
    /// back at once): the fields, or the 400 listing each field's errors (413 for an image over `maxImageBytes`).
    /// Pure (no engine, no I/O): the request handler and the fuzz target both call it.
    static func fields(of form: FormInput, catalog: RegionCatalog, now: Date, maxImageBytes: Int,
                       isImage: (Data) -> Bool) -> Attempt<Fields, Response> {
        var errors: [(field: String, messages: [String])] = []
        var options = RecognitionOptions()
        var regions: [String] = []
        for value in form.values("regions") {
            for code in value.split(separator: ",").map({ String($0).trimmingASCIIWhitespace() }) where !code.isEmpty {
                if let valid = catalog.validate(code) {
                    if !regions.contains(valid) { regions.append(valid) }
                } else {
                    errors.append(("regions", ["\"\(code.prefix(40))\" is not a valid region code."]))
                }
            }
        }
        options.regions = regions
        let cameraID = form.value("camera_id")
        if let cameraID, cameraID.count > 200 {
            errors.append(("camera_id", ["Ensure this field has no more than 200 characters."]))
        }
        var timestamp = now
        if let text = form.value("timestamp"), !text.isEmpty {
            if let parsed = ISO8601Timestamp.parse(text) {
                timestamp = parsed
            } else {
                errors.append(("timestamp", ["Datetime has wrong format. Use one of these formats instead: "
                    + "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]))
            }
        }
        if let text = form.value("mmc") {
            if let flag = Self.boolean(text) { options.mmc = flag } else { errors.append(("mmc", ["Must be a valid boolean."])) }
        }
        if let text = form.value("config") {
            // The CLI's parser: an unknown key is refused here too, never silently ignored.
            do {
                options = try EngineConfig.parse(text).apply(to: options)
            } catch {
                errors.append(("config", [String(describing: error)]))
            }
        }
        var image: Data?
        var filename = "upload"
        if let part = form.files["upload"] {
            if let name = part.filename, !name.isEmpty { filename = (name as NSString).lastPathComponent }
            if part.data.isEmpty {
                errors.append(("upload", ["The submitted file is empty."]))
            } else if isImage(part.data) {
                image = part.data
            } else if part.filename != nil {
                // A file: its bytes, unless they are base64 of an image (some clients upload that as a file).
                let decoded = try? Base64.decode(part.data, maxBytes: maxImageBytes)
                image = decoded.flatMap { isImage($0) ? $0 : nil } ?? part.data
            } else {
                // A field without a file name holds base64 text (the documented alternative).
                do throws(Base64.DecodingError) {
                    image = try Base64.decode(part.data, maxBytes: maxImageBytes)
                } catch where error.isTooLarge {
                    return .failure(Self.detail(.contentTooLarge, "Uploaded image is larger than \(maxImageBytes) bytes."))
                } catch {
                    errors.append(("upload", ["Upload a valid image. The base64 text is invalid: \(error.message)."]))
                }
            }
        } else {
            errors.append(("upload", ["This field is required."]))
        }
        guard errors.isEmpty, let image else { return .failure(Self.fieldErrors(Self.merge(errors))) }
        guard image.count <= maxImageBytes else {
            return .failure(Self.detail(.contentTooLarge, "Uploaded image is larger than \(maxImageBytes) bytes."))
        }
        return .success(Fields(options: options, cameraID: cameraID, timestamp: timestamp, image: image, filename: filename))
    }

    /// Reads the form in any of the media types the public API parses.
    func readForm(_ request: Request, limits: SnapshotServerConfiguration.Limits) async throws -> Attempt<FormInput, Response> {
        let formLimits = FormLimits(maxBodyBytes: limits.maxBodyBytes, maxFileBytes: Base64.encodedLength(limits.maxImageBytes) + 1024,
                                    maxFieldBytes: limits.maxFieldBytes,
                                    multipart: .init(maxParts: limits.maxMultipartParts, maxHeaderBytes: limits.maxPartHeaderBytes))
        if let length = RequestBodyReader.contentLength(request), length > formLimits.maxBodyBytes {
            return .failure(Self.detail(.contentTooLarge, "Request body is larger than \(formLimits.maxBodyBytes) bytes."))
        }
        do {
            switch mediaType(of: request)?.value {
            case "multipart/form-data":
                guard let boundary = MultipartParser.boundary(contentType: request.headers[.contentType] ?? "") else {
                    return .failure(Self.detail(.badRequest, "Multipart form parse error - Invalid boundary in multipart."))
                }
                return .success(try await RequestBodyReader.readMultipart(request.body, boundary: boundary,
                                                                          fileFields: Self.fileFields, limits: formLimits))
            case "application/x-www-form-urlencoded":
                return .success(try await RequestBodyReader.readURLEncoded(request.body, fileFields: Self.fileFields, limits: formLimits))
            case "application/json":
                let bytes = try await RequestBodyReader.collect(request.body, limit: formLimits.maxBodyBytes)
                guard let json = JSONInput.parse(bytes), let object = json.objectValue else {
                    return .failure(Self.detail(.badRequest, "JSON parse error - the body is not a JSON object."))
                }
                return .success(Self.form(fromJSON: object))
            case nil:
                // No media type: only an empty body can be read (it then lacks `upload`).
                _ = try await RequestBodyReader.collect(request.body, limit: 0)
                return .success(FormInput())
            case let other?:
                return .failure(Self.detail(.unsupportedMediaType, "Unsupported media type \"\(other.prefix(100))\" in request."))
            }
        } catch let error as BodyError {
            switch error.kind {
            case .tooLarge: return .failure(Self.detail(.contentTooLarge, error.sentence))
            case .fieldTooLong:
                return .failure(Self.detail(.badRequest, "Form field too long: \(error.message)."))
            case .malformed:
                return .failure(Self.detail(.badRequest, "Multipart form parse error - \(error.message)."))
            }
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return .failure(Self.detail(.contentTooLarge, "Request body is larger than \(formLimits.maxBodyBytes) bytes."))
        }
    }

    /// A JSON body's fields as form fields: strings as they are, other scalars as their text,
    /// `regions` as a list, `config` as JSON text.
    static func form(fromJSON object: [String: JSONInput]) -> FormInput {
        var form = FormInput()
        for (name, value) in object.sorted(by: { $0.key < $1.key }) {
            switch (name, value) {
            case ("upload", .string(let text)):
                form.files["upload"] = UploadedPart(filename: nil, contentType: nil, data: Data(text.utf8))
            case ("regions", .array(let items)):
                for case .string(let code) in items { form.fields.append(("regions", code)) }
            case ("config", .object):
                form.fields.append(("config", jsonText(value)))
            case (_, .string(let text)):
                form.fields.append((name, text))
            case (_, .bool(let flag)):
                form.fields.append((name, flag ? "true" : "false"))
            case (_, .number(let number)):
                // Int(exactly:), not Int(_:): a whole number past Int's range (1e300) would stop the process.
                form.fields.append((name, Int(exactly: number).map(String.init) ?? String(number)))
            default:
                form.fields.append((name, jsonText(value)))
            }
        }
        return form
    }

    static func jsonText(_ value: JSONInput) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let n): JSONValue.number(n).serialized()
        case .string(let s): JSONValue.string(s).serialized()
        case .array(let items): "[" + items.map(jsonText).joined(separator: ",") + "]"
        case .object(let members):
            "{" + members.sorted { $0.key < $1.key }.map { JSONValue.string($0.key).serialized() + ":" + jsonText($0.value) }
                .joined(separator: ",") + "}"
        }
    }

    /// Django REST framework's BooleanField spellings.
    static func boolean(_ text: String) -> Bool? {
        switch text.trimmingASCIIWhitespace().lowercased() {
        case "true", "1", "yes", "on", "t", "y": true
        case "false", "0", "no", "off", "f", "n": false
        default: nil
        }
    }

    /// Several messages for one field become one entry, as Django REST framework reports them.
    static func merge(_ errors: [(field: String, messages: [String])]) -> [(field: String, messages: [String])] {
        var merged: [(field: String, messages: [String])] = []
        for error in errors {
            if let index = merged.firstIndex(where: { $0.field == error.field }) {
                merged[index].messages += error.messages
            } else {
                merged.append(error)
            }
        }
        return merged
    }

    static func message(for problem: ImageProblem) -> String {
        switch problem {
        case .empty: "The submitted file is empty."
        case .notAnImage, .undecodable: "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
        case .unsupportedFormat(let format): "Unsupported image format: \(format.rawValue)."
        case .tooManyPixels(let w, let h, let limit): "Image is \(w)x\(h) pixels, more than the limit of \(limit) pixels."
        case .outOfBounds(let message): message
        }
    }

    /// The documented response, plus the on-premise SDK's `usage`.
    static func response(_ result: RecognitionResult, mmc: Bool, calls: Int, maxCalls: Int?, processing: Duration,
                         filename: String, cameraID: String?, timestamp: Date) -> JSONValue {
        let score = score3
        let items: [JSONValue] = result.plates.map { plate in
            let vehicle = result.vehicle(for: plate)
            // Never null: clients read `region.code` unguarded.
            let region = plate.region ?? .unknown
            let vehicleJSON = vehicle.map {
                StreamEventV1.Vehicle(score: score($0.score), type: $0.type.plateRecognizerName, box: PlateRecognizerJSON.Box($0.box))
            } ?? .none
            var members: [(key: String, value: JSONValue)] = [
                ("box", PlateRecognizerJSON.Box(plate.box).jsonValue),
                ("plate", .string(plate.text.lowercased())),
                ("region", StreamEventV1.Region(code: region.code, score: score(region.score)).jsonValue),
                ("vehicle", vehicleJSON.jsonValue),
                ("score", .number(score(plate.score))),
                ("candidates", .array(plate.candidates.map {
                    StreamEventV1.Candidate(score: score($0.score), plate: $0.text.lowercased()).jsonValue
                })),
                ("dscore", .number(score(plate.detectionScore))),
            ]
            if mmc {
                members.append(("model_make", .array((vehicle?.makeModel ?? []).map {
                    PlateRecognizerJSON.MakeModel(make: $0.make, model: $0.model, score: score($0.score)).jsonValue
                })))
                members.append(("color", .array((vehicle?.color ?? []).map {
                    StreamEventV1.Color(color: $0.label, score: score($0.score)).jsonValue
                })))
                members.append(("orientation", .array((vehicle?.orientation ?? []).map {
                    StreamEventV1.Orientation(orientation: $0.label, score: score($0.score)).jsonValue
                })))
            }
            return .object(members)
        }
        return .object([
            ("usage", .object([("calls", .integer(calls)), ("max_calls", maxCalls.map { .integer($0) } ?? .null)])),
            ("processing_time", .number(milliseconds(processing))),
            ("results", .array(items)),
            ("filename", .string(filename)),
            ("version", .integer(1)),
            ("camera_id", .string(cameraID)),
            ("timestamp", .string(PlateRecognizerJSON.utcTimestamp(timestamp))),
        ])
    }

    // MARK: GET /info/

    func info(_ request: Request) async throws -> Response {
        if case .failure(let response) = authenticate(request) { return response }
        let configuration = engine.configuration
        return jsonResponse(.ok, .object([
            ("version", .string(configuration.version)),
            ("license_key", .string(configuration.licenseKey)),
            ("webhooks", .array(configuration.webhooks.map { .string($0) })),
        ]))
    }

    // MARK: GET /v1/statistics/

    func statistics(_ request: Request) async throws -> Response {
        let account: Account
        switch authenticate(request) {
        case .success(let a): account = a
        case .failure(let response): return response
        }
        let usage = try await engine.usageThisMonth(account)
        return jsonResponse(.ok, .object([
            ("usage", .object([
                ("month", .integer(usage.month.month)),
                ("calls", .integer(usage.calls)),
                ("year", .integer(usage.month.year)),
                ("resets_on", .string(isoSeconds(usage.month.next.start))),
            ])),
            ("total_calls", usage.limit.map { .integer($0) } ?? .null),
        ]))
    }
}

/// `2019-01-14T00:00:00Z`: UTC, whole seconds.
func isoSeconds(_ date: Date) -> String {
    let stamp = PlateRecognizerJSON.utcTimestamp(date)
    return String(stamp.prefix(19)) + "Z"
}

/// ISO 8601 timestamps as Plate Recognizer's `timestamp` parameter takes them.
enum ISO8601Timestamp {
    /// Parses `2019-08-19T13:11:25`, with optional fractional seconds and optional `Z` or `±hh:mm`
    /// (a time without an offset is UTC, as the documentation says it must be). Minutes-only
    /// (`2019-08-19T13:11`) and a space instead of `T` are accepted too.
    static func parse(_ text: String) -> Date? {
        let s = Array(text.trimmingASCIIWhitespace().utf8)
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= s.count else { return nil }
            var value = 0
            for k in 0..<n {
                let c = s[i + k]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            i += n
            return value
        }
        func expect(_ c: Character) -> Bool {
            guard i < s.count, s[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect("-"), let month = digits(2), expect("-"), let day = digits(2) else { return nil }
        guard i < s.count, s[i] == UInt8(ascii: "T") || s[i] == UInt8(ascii: "t") || s[i] == 0x20 else { return nil }
        i += 1
        guard let hour = digits(2), expect(":"), let minute = digits(2) else { return nil }
        var second = 0, fraction = 0.0
        if expect(":") {
            guard let sec = digits(2) else { return nil }
            second = sec
            if expect(".") {
                var scale = 0.1, any = false
                while i < s.count, s[i] >= 48, s[i] <= 57 {
                    fraction += Double(s[i] - 48) * scale
                    scale /= 10
                    i += 1
                    any = true
                }
                guard any else { return nil }
            }
        }
        var offset = 0
        if i < s.count {
            if s[i] == UInt8(ascii: "Z") || s[i] == UInt8(ascii: "z") {
                i += 1
            } else if s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
                let sign = s[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let hours = digits(2) else { return nil }
                _ = expect(":")
                guard let minutes = digits(2), hours <= 23, minutes <= 59 else { return nil }
                offset = sign * (hours * 3600 + minutes * 60)
            } else {
                return nil
            }
        }
        guard i == s.count, (1...12).contains(month), (1...31).contains(day), hour <= 23, minute <= 59, second <= 59 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let date = calendar.date(from: components),
              calendar.component(.day, from: date) == day else { return nil }           // 2021-02-30 is not a date
        return date.addingTimeInterval(fraction - Double(offset))
    }
}
