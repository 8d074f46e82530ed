public import Foundation

/// Settings of the snapshot HTTP server: where it listens, who may call it, what each caller may
/// spend, and the limits that protect it. Decoded from the `http` section of `config.json`
/// (snake_case keys); an unknown key anywhere in it is an error, never silently ignored.
///
/// ```json
/// {
///   "host": "0.0.0.0", "port": 8080,
///   "plans": {"standard": {"monthly_calls": 10000, "rate_limit": {"requests": 5, "per_seconds": 1}}},
///   "keys": [{"name": "gate-1", "plan": "standard", "token": "…", "openalpr_secret_key": "…",
///             "nhn_app_key": "…", "nhn_secret_key": "…", "huawei_token": "…", "huawei_project_id": "…"}],
///   "limits": {"max_image_bytes": 10485760, "max_pixels": 50000000},
///   "recognize_url": {"allow": ["10.1.2.0/24", "camera.lan"], "timeout_seconds": 10}
/// }
/// ```
public struct SnapshotServerConfiguration: Sendable, Equatable, Decodable {
    /// Address to listen on: `127.0.0.1` (the default), `::1`, `0.0.0.0`, a host name.
    public var host: String
    /// TCP port; 0 lets the kernel pick one (tests).
    public var port: Int
    /// Who may call: `keys` or `none`. Nil: keys when any are configured, otherwise no
    /// authentication, which start-up only allows on a loopback address.
    public var auth: AuthMode?
    /// Named plans: monthly call limits and rate limits.
    public var plans: [String: Plan]
    /// API keys; each names the account its calls are counted under.
    public var keys: [APIKey]
    /// Plan for unauthenticated calls (`auth: none`); nil means unlimited.
    public var anonymousPlan: String?
    /// Size and concurrency limits.
    public var limits: Limits
    /// OpenALPR `recognize_url` and Huawei `url`: fetching images from other servers.
    public var recognizeURL: URLFetchSettings
    /// Reported by `GET /info/` as `version`.
    public var version: String
    /// Reported by `GET /info/` as `license_key`.
    public var licenseKey: String
    /// Snapshot webhook targets: every `POST /v1/plate-reader/` result is posted to each (`image.done`,
    /// through the durable outbox); also reported by `GET /info/` as `webhooks`.
    public var webhooks: [String]
    /// Whether snapshot webhooks carry the uploaded image (`multipart/form-data`, fields `json` and `upload`).
    public var webhookImage: Bool
    /// An extra header sent with every webhook request, `Name: value` (e.g. an authorization token).
    public var webhookHeader: String?
    /// Seconds one webhook attempt may take.
    public var webhookRequestTimeout: Double
    /// Seconds a connection may stay idle (including a stalled upload) before it is closed.
    public var idleTimeoutSeconds: Double
    /// Seconds a request's header may take to arrive, from its first byte (nginx's `client_header_timeout`):
    /// a client trickling it (slowloris) gets 408 and the connection is closed.
    public var headerTimeoutSeconds: Double
    /// Seconds of grace for a request body, extended by one second per `bodyMinBytesPerSecond` bytes
    /// received (Apache mod_reqtimeout's `body=20,MinRate=500`): a body trickled below that floor gets 408.
    public var bodyTimeoutSeconds: Double
    /// The floor rate of a request body, in bytes per second (see `bodyTimeoutSeconds`).
    public var bodyMinBytesPerSecond: Double

    /// Authentication modes.
    public enum AuthMode: String, Sendable, Equatable, Decodable {
        /// Every call must carry one of the configured keys.
        case keys
        /// `none`: no authentication; every call is counted under the anonymous account.
        case disabled = "none"
    }

    /// A plan: what an account may spend.
    public struct Plan: Sendable, Equatable, Decodable {
        /// Calls (OpenALPR: credits) allowed per calendar month (UTC); nil means unlimited.
        public var monthlyCalls: Int?
        /// Requests allowed per time window; nil means unlimited.
        public var rateLimit: RateLimit?

        /// A plan.
        public init(monthlyCalls: Int? = nil, rateLimit: RateLimit? = nil) {
            self.monthlyCalls = monthlyCalls
            self.rateLimit = rateLimit
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case monthlyCalls = "monthly_calls", rateLimit = "rate_limit"
        }

        /// Decodes a plan, refusing unknown keys.
        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            monthlyCalls = try c.decodeIfPresent(Int.self, forKey: .monthlyCalls)
            rateLimit = try c.decodeIfPresent(RateLimit.self, forKey: .rateLimit)
        }
    }

    /// A rate limit: at most `requests` calls per window of `perSeconds` seconds, per account.
    public struct RateLimit: Sendable, Equatable, Decodable {
        /// Calls allowed per window.
        public var requests: Int
        /// Window length in seconds.
        public var perSeconds: Double

        /// A rate limit.
        public init(requests: Int, perSeconds: Double = 1) {
            self.requests = requests
            self.perSeconds = perSeconds
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case requests, perSeconds = "per_seconds"
        }

        /// Decodes a rate limit, refusing unknown keys.
        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            requests = try c.decode(Int.self, forKey: .requests)
            perSeconds = try c.decodeIfPresent(Double.self, forKey: .perSeconds) ?? 1
        }
    }

    /// One account's credentials for each API it may use; a nil credential means that API is closed to it.
    public struct APIKey: Sendable, Equatable, Decodable {
        /// The account's name: usage is counted and reported under it.
        public var name: String
        /// Name of the account's plan in `plans`; nil means unlimited.
        public var plan: String?
        /// Plate Recognizer: `Authorization: Token <token>`.
        public var token: String?
        /// OpenALPR: the `secret_key` query parameter.
        public var openALPRSecretKey: String?
        /// NHN Cloud: the `{appKey}` in the path.
        public var nhnAppKey: String?
        /// NHN Cloud: the `Authorization` header, which must come with `nhnAppKey`.
        public var nhnSecretKey: String?
        /// Huawei Cloud: the `X-Auth-Token` header.
        public var huaweiToken: String?
        /// Huawei Cloud: the `{project_id}` in the path; nil accepts any.
        public var huaweiProjectID: String?

        /// A key.
        public init(name: String, plan: String? = nil, token: String? = nil, openALPRSecretKey: String? = nil,
                    nhnAppKey: String? = nil, nhnSecretKey: String? = nil, huaweiToken: String? = nil,
                    huaweiProjectID: String? = nil) {
            self.name = name
            self.plan = plan
            self.token = token
            self.openALPRSecretKey = openALPRSecretKey
            self.nhnAppKey = nhnAppKey
            self.nhnSecretKey = nhnSecretKey
            self.huaweiToken = huaweiToken
            self.huaweiProjectID = huaweiProjectID
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case name, plan, token
            case openALPRSecretKey = "openalpr_secret_key"
            case nhnAppKey = "nhn_app_key", nhnSecretKey = "nhn_secret_key"
            case huaweiToken = "huawei_token", huaweiProjectID = "huawei_project_id"
        }

        /// Decodes a key, refusing unknown keys.
        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            plan = try c.decodeIfPresent(String.self, forKey: .plan)
            token = try c.decodeIfPresent(String.self, forKey: .token)
            openALPRSecretKey = try c.decodeIfPresent(String.self, forKey: .openALPRSecretKey)
            nhnAppKey = try c.decodeIfPresent(String.self, forKey: .nhnAppKey)
            nhnSecretKey = try c.decodeIfPresent(String.self, forKey: .nhnSecretKey)
            huaweiToken = try c.decodeIfPresent(String.self, forKey: .huaweiToken)
            huaweiProjectID = try c.decodeIfPresent(String.self, forKey: .huaweiProjectID)
        }
    }

    /// Limits on what one request may make the server hold or do.
    public struct Limits: Sendable, Equatable, Decodable {
        /// Largest image, in encoded bytes (Huawei's documented limit: 10 MB). Request bodies may be
        /// a little larger (base64 is 4/3 of the bytes, plus form fields); anything beyond is refused
        /// while it streams in.
        public var maxImageBytes: Int
        /// Largest image by declared pixel count (width × height), checked from the header before decoding.
        public var maxPixels: Int
        /// Recognitions (decode + recognize) running at once; more requests wait their turn.
        public var maxConcurrentRecognitions: Int
        /// Parts allowed in one multipart body.
        public var maxMultipartParts: Int
        /// Bytes allowed in the header block of one multipart part.
        public var maxPartHeaderBytes: Int
        /// Bytes allowed in one text form field (`regions`, `config`, ...).
        public var maxFieldBytes: Int

        /// Limits; the defaults suit one recognizer on a small machine.
        public init(maxImageBytes: Int = 10 * 1024 * 1024, maxPixels: Int = 50_000_000,
                    maxConcurrentRecognitions: Int = max(1, ProcessInfo.processInfo.activeProcessorCount),
                    maxMultipartParts: Int = 32, maxPartHeaderBytes: Int = 8 * 1024, maxFieldBytes: Int = 64 * 1024) {
            self.maxImageBytes = maxImageBytes
            self.maxPixels = maxPixels
            self.maxConcurrentRecognitions = maxConcurrentRecognitions
            self.maxMultipartParts = maxMultipartParts
            self.maxPartHeaderBytes = maxPartHeaderBytes
            self.maxFieldBytes = maxFieldBytes
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case maxImageBytes = "max_image_bytes", maxPixels = "max_pixels"
            case maxConcurrentRecognitions = "max_concurrent_recognitions"
            case maxMultipartParts = "max_multipart_parts", maxPartHeaderBytes = "max_part_header_bytes"
            case maxFieldBytes = "max_field_bytes"
        }

        /// Decodes limits, refusing unknown keys; absent keys keep their defaults.
        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Limits()
            maxImageBytes = try c.decodeIfPresent(Int.self, forKey: .maxImageBytes) ?? d.maxImageBytes
            maxPixels = try c.decodeIfPresent(Int.self, forKey: .maxPixels) ?? d.maxPixels
            maxConcurrentRecognitions = try c.decodeIfPresent(Int.self, forKey: .maxConcurrentRecognitions)
                ?? d.maxConcurrentRecognitions
            maxMultipartParts = try c.decodeIfPresent(Int.self, forKey: .maxMultipartParts) ?? d.maxMultipartParts
            maxPartHeaderBytes = try c.decodeIfPresent(Int.self, forKey: .maxPartHeaderBytes) ?? d.maxPartHeaderBytes
            maxFieldBytes = try c.decodeIfPresent(Int.self, forKey: .maxFieldBytes) ?? d.maxFieldBytes
        }

        /// The most bytes a request body may hold: a base64-encoded image of `maxImageBytes` plus
        /// room for the other fields and multipart framing.
        public var maxBodyBytes: Int { Base64.encodedLength(maxImageBytes) + 64 * 1024 }
    }

    /// How `recognize_url` (OpenALPR) and `url` (Huawei) fetch images.
    public struct URLFetchSettings: Sendable, Equatable, Decodable {
        /// Whether URL fetching is offered at all.
        public var enabled: Bool
        /// Addresses (`10.0.0.7`, `10.1.0.0/16`, `fd00::/8`) and host names (`camera.lan`) that may be
        /// fetched even though they are loopback, private, link-local or metadata addresses.
        public var allow: [String]
        /// Seconds for the whole fetch, redirects included.
        public var timeoutSeconds: Double
        /// Largest body accepted; the default is `limits.maxImageBytes`.
        public var maxBytes: Int?
        /// Redirects followed before giving up.
        public var maxRedirects: Int

        /// Fetch settings.
        public init(enabled: Bool = true, allow: [String] = [], timeoutSeconds: Double = 10, maxBytes: Int? = nil,
                    maxRedirects: Int = 3) {
            self.enabled = enabled
            self.allow = allow
            self.timeoutSeconds = timeoutSeconds
            self.maxBytes = maxBytes
            self.maxRedirects = maxRedirects
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case enabled, allow, timeoutSeconds = "timeout_seconds", maxBytes = "max_bytes", maxRedirects = "max_redirects"
        }

        /// Decodes fetch settings, refusing unknown keys.
        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = URLFetchSettings()
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? d.enabled
            allow = try c.decodeIfPresent([String].self, forKey: .allow) ?? d.allow
            timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? d.timeoutSeconds
            maxBytes = try c.decodeIfPresent(Int.self, forKey: .maxBytes)
            maxRedirects = try c.decodeIfPresent(Int.self, forKey: .maxRedirects) ?? d.maxRedirects
        }
    }

    /// A configuration; the defaults listen on 127.0.0.1:8080 with no keys.
    public init(host: String = "127.0.0.1", port: Int = 8080, auth: AuthMode? = nil, plans: [String: Plan] = [:],
                keys: [APIKey] = [], anonymousPlan: String? = nil, limits: Limits = Limits(),
                recognizeURL: URLFetchSettings = URLFetchSettings(), version: String = "1.0.0", licenseKey: String = "",
                webhooks: [String] = [], webhookImage: Bool = false, webhookHeader: String? = nil,
                webhookRequestTimeout: Double = 30, idleTimeoutSeconds: Double = 60, headerTimeoutSeconds: Double = 20,
                bodyTimeoutSeconds: Double = 20, bodyMinBytesPerSecond: Double = 500) {
        self.host = host
        self.port = port
        self.auth = auth
        self.plans = plans
        self.keys = keys
        self.anonymousPlan = anonymousPlan
        self.limits = limits
        self.recognizeURL = recognizeURL
        self.version = version
        self.licenseKey = licenseKey
        self.webhooks = webhooks
        self.webhookImage = webhookImage
        self.webhookHeader = webhookHeader
        self.webhookRequestTimeout = webhookRequestTimeout
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.bodyTimeoutSeconds = bodyTimeoutSeconds
        self.bodyMinBytesPerSecond = bodyMinBytesPerSecond
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, auth, plans, keys, anonymousPlan = "anonymous_plan", limits
        case recognizeURL = "recognize_url", version, licenseKey = "license_key", webhooks
        case webhookImage = "webhook_image", webhookHeader = "webhook_header", webhookRequestTimeout = "webhook_request_timeout"
        case idleTimeoutSeconds = "idle_timeout_seconds", headerTimeoutSeconds = "header_timeout_seconds"
        case bodyTimeoutSeconds = "body_timeout_seconds", bodyMinBytesPerSecond = "body_min_bytes_per_second"
    }

    /// Decodes the `http` section, refusing unknown keys; absent keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SnapshotServerConfiguration()
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port
        auth = try c.decodeIfPresent(AuthMode.self, forKey: .auth)
        plans = try c.decodeIfPresent([String: Plan].self, forKey: .plans) ?? d.plans
        keys = try c.decodeIfPresent([APIKey].self, forKey: .keys) ?? d.keys
        anonymousPlan = try c.decodeIfPresent(String.self, forKey: .anonymousPlan)
        limits = try c.decodeIfPresent(Limits.self, forKey: .limits) ?? d.limits
        recognizeURL = try c.decodeIfPresent(URLFetchSettings.self, forKey: .recognizeURL) ?? d.recognizeURL
        version = try c.decodeIfPresent(String.self, forKey: .version) ?? d.version
        licenseKey = try c.decodeIfPresent(String.self, forKey: .licenseKey) ?? d.licenseKey
        webhooks = try c.decodeIfPresent([String].self, forKey: .webhooks) ?? d.webhooks
        webhookImage = try c.decodeIfPresent(Bool.self, forKey: .webhookImage) ?? d.webhookImage
        webhookHeader = try c.decodeIfPresent(String.self, forKey: .webhookHeader)
        webhookRequestTimeout = try c.decodeIfPresent(Double.self, forKey: .webhookRequestTimeout) ?? d.webhookRequestTimeout
        idleTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .idleTimeoutSeconds) ?? d.idleTimeoutSeconds
        headerTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .headerTimeoutSeconds) ?? d.headerTimeoutSeconds
        bodyTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .bodyTimeoutSeconds) ?? d.bodyTimeoutSeconds
        bodyMinBytesPerSecond = try c.decodeIfPresent(Double.self, forKey: .bodyMinBytesPerSecond) ?? d.bodyMinBytesPerSecond
    }

    /// Decodes a configuration from the JSON text of the `http` section; decoding errors come back
    /// as a `ConfigurationError` naming the offending key path.
    public static func decode(json: Data) throws(ConfigurationError) -> SnapshotServerConfiguration {
        do {
            return try JSONDecoder().decode(SnapshotServerConfiguration.self, from: json)
        } catch let error as ConfigurationError {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.keyNotFound(_, context), let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            throw ConfigurationError.invalid("http\(path.isEmpty ? "" : ".")\(path): \(context.debugDescription)")
        } catch {
            throw ConfigurationError.invalid("http: \(error)")
        }
    }

    /// The authentication mode start-up settles on.
    public var effectiveAuth: AuthMode { auth ?? (keys.isEmpty ? .disabled : .keys) }

    /// Whether `host` is a loopback address (127.0.0.0/8, ::1 or `localhost`).
    public var listensOnLoopbackOnly: Bool {
        let h = host.lowercased()
        if h == "localhost" { return true }
        guard let address = IPAddress(h.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) else { return false }
        return address.classification == .loopback
    }

    /// Checks everything start-up needs; the message says what to change.
    ///
    /// Refuses in particular to listen on a non-loopback address without keys unless `auth` is
    /// `none` explicitly: a snapshot server reachable from the network should not be open by accident.
    public func validate() throws(ConfigurationError) {
        guard (0...65535).contains(port) else { throw .invalid("http.port: \(port) is not a TCP port (0...65535)") }
        switch (auth, keys.isEmpty) {
        case (.keys?, true):
            throw .invalid("http.auth is \"keys\" but http.keys is empty: add a key, or set \"auth\": \"none\"")
        case (.disabled?, false):
            throw .invalid("http.auth is \"none\" but http.keys lists \(keys.count) key(s): remove them, or set \"auth\": \"keys\"")
        case (nil, true) where !listensOnLoopbackOnly:
            throw .invalid("refusing to listen on \(host):\(port) without API keys: anyone who can reach it could use it. "
                + "Add keys to http.keys, listen on 127.0.0.1, or set \"auth\": \"none\" to serve without authentication")
        default:
            break
        }
        for (index, target) in webhooks.enumerated() {
            guard let url = URL(string: target), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw .invalid("http.webhooks[\(index)]: \"\(target)\" is not an http(s) URL")
            }
        }
        if let header = webhookHeader, !header.contains(":") {
            throw .invalid("http.webhook_header: \"\(header)\" is not \"Name: value\"")
        }
        guard webhookRequestTimeout > 0, webhookRequestTimeout.isFinite else {
            throw .invalid("http.webhook_request_timeout must be > 0 seconds")
        }
        for (name, plan) in plans {
            if let calls = plan.monthlyCalls, calls < 0 { throw .invalid("http.plans.\(name).monthly_calls must be >= 0") }
            if let rate = plan.rateLimit {
                guard rate.requests >= 1 else { throw .invalid("http.plans.\(name).rate_limit.requests must be >= 1") }
                guard rate.perSeconds > 0, rate.perSeconds.isFinite else {
                    throw .invalid("http.plans.\(name).rate_limit.per_seconds must be > 0")
                }
            }
        }
        var names = Set<String>()
        var secrets: [String: String] = [:]
        for (index, key) in keys.enumerated() {
            let label = "http.keys[\(index)]"
            guard !key.name.isEmpty else { throw .invalid("\(label).name must not be empty") }
            guard names.insert(key.name).inserted else { throw .invalid("\(label).name \"\(key.name)\" is used twice") }
            if let plan = key.plan, plans[plan] == nil {
                throw .invalid("\(label).plan \"\(plan)\" is not in http.plans (known: \(plans.keys.sorted().joined(separator: ", ")))")
            }
            if (key.nhnAppKey == nil) != (key.nhnSecretKey == nil) {
                throw .invalid("\(label): nhn_app_key and nhn_secret_key go together")
            }
            let credentials: [(String, String?)] = [("token", key.token), ("openalpr_secret_key", key.openALPRSecretKey),
                                                    ("nhn_app_key", key.nhnAppKey), ("huawei_token", key.huaweiToken)]
            guard credentials.contains(where: { $0.1 != nil }) else {
                throw .invalid("\(label) (\(key.name)) has no credential: set token, openalpr_secret_key, nhn_app_key or huawei_token")
            }
            for (field, value) in credentials {
                guard let value else { continue }
                guard !value.isEmpty else { throw .invalid("\(label).\(field) must not be empty") }
                if let other = secrets["\(field)=\(value)"] {
                    throw .invalid("\(label).\(field) is the same as \(other)'s: each key must be unique")
                }
                secrets["\(field)=\(value)"] = key.name
            }
        }
        if let plan = anonymousPlan, plans[plan] == nil {
            throw .invalid("http.anonymous_plan \"\(plan)\" is not in http.plans")
        }
        guard limits.maxImageBytes >= 1024 else { throw .invalid("http.limits.max_image_bytes must be >= 1024") }
        guard limits.maxPixels >= 1 else { throw .invalid("http.limits.max_pixels must be >= 1") }
        guard limits.maxConcurrentRecognitions >= 1 else { throw .invalid("http.limits.max_concurrent_recognitions must be >= 1") }
        guard limits.maxMultipartParts >= 1 else { throw .invalid("http.limits.max_multipart_parts must be >= 1") }
        guard limits.maxPartHeaderBytes >= 256 else { throw .invalid("http.limits.max_part_header_bytes must be >= 256") }
        guard limits.maxFieldBytes >= 256 else { throw .invalid("http.limits.max_field_bytes must be >= 256") }
        guard recognizeURL.timeoutSeconds > 0 else { throw .invalid("http.recognize_url.timeout_seconds must be > 0") }
        guard recognizeURL.maxRedirects >= 0 else { throw .invalid("http.recognize_url.max_redirects must be >= 0") }
        if let maxBytes = recognizeURL.maxBytes, maxBytes < 1 { throw .invalid("http.recognize_url.max_bytes must be >= 1") }
        for entry in recognizeURL.allow where AllowList.Entry(entry) == nil {
            throw .invalid("http.recognize_url.allow: \"\(entry)\" is neither an address, a CIDR block nor a host name")
        }
        guard idleTimeoutSeconds > 0 else { throw .invalid("http.idle_timeout_seconds must be > 0") }
        guard headerTimeoutSeconds > 0, headerTimeoutSeconds.isFinite else { throw .invalid("http.header_timeout_seconds must be > 0") }
        guard bodyTimeoutSeconds > 0, bodyTimeoutSeconds.isFinite else { throw .invalid("http.body_timeout_seconds must be > 0") }
        guard bodyMinBytesPerSecond >= 0, bodyMinBytesPerSecond.isFinite else {
            throw .invalid("http.body_min_bytes_per_second must be >= 0")
        }
    }
}

/// Why the snapshot server's configuration cannot be used; the message says what to change.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    private enum Kind: Equatable { case invalid }
    private let kind: Kind
    /// What is wrong, and how to fix it.
    public let message: String

    /// An invalid setting.
    public static func invalid(_ message: String) -> ConfigurationError { .init(kind: .invalid, message: message) }

    /// The message.
    public var description: String { message }
}

/// Refuses JSON object keys a type does not know (STYLE rule 6: no silent fallback).
enum StrictKeys {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func check(_ decoder: any Decoder, allowed: [String]) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let unknown = container.allKeys.map(\.stringValue).filter { !allowed.contains($0) }
        guard unknown.isEmpty else {
            let path = decoder.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            throw ConfigurationError.invalid("http\(path.isEmpty ? "" : ".")\(path): unknown key(s) "
                + unknown.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                + "; known: " + allowed.joined(separator: ", "))
        }
    }
}
