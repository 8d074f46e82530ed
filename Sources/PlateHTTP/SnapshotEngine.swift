public import Foundation
import Logging
public import PlateCore

/// The region codes the server accepts in `regions` (Plate Recognizer) and `country` (OpenALPR).
public struct RegionCatalog: Sendable {
    /// Known codes, lower case; nil accepts any well-formed code.
    public let codes: Set<String>?
    /// Display names by code, for OpenALPR's `GET /v3/config`.
    public let names: [String: String]

    /// A catalog of `codes` (e.g. PlateVision's template keys plus their countries: `us`, `us-ca`, `de`).
    public init(codes: Set<String>, names: [String: String] = [:]) {
        self.codes = Set(codes.map { $0.lowercased() })
        self.names = names
    }

    /// Accepts any well-formed code (`xx` or `xx-yyy`): for tests, or before the templates are wired.
    public static let anyWellFormed = RegionCatalog(codes: nil)

    private init(codes: Set<String>?) {
        self.codes = codes
        self.names = [:]
    }

    /// The canonical (lower-case) code, or nil when `code` is malformed or not in the catalog.
    public func validate(_ code: String) -> String? {
        let lower = code.trimmingASCIIWhitespace().lowercased()
        let parts = lower.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts[0].count == 2, parts[0].allSatisfy({ $0.isASCII && $0.isLetter }),
              parts.count == 1 || ((1...3).contains(parts[1].count) && parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return nil }
        if let codes, !codes.contains(lower) { return nil }
        return lower
    }
}

/// An account calls are counted under: a configured key's name, or `anonymous` without authentication.
struct Account: Sendable, Equatable {
    let name: String
    let plan: SnapshotServerConfiguration.Plan?
}

/// What the rate limit and the monthly quota say about a call, before its body is read.
enum Admission: Sendable {
    case admitted(rate: FixedWindowRateLimit.Decision?)
    case throttled(FixedWindowRateLimit.Decision)
    case overQuota(limit: Int, used: Int, resetsOn: Date, rate: FixedWindowRateLimit.Decision?)
}

/// Why an image was refused before recognition.
enum ImageProblem: Error, Equatable {
    case empty
    case notAnImage
    case unsupportedFormat(ImageFileFormat)
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// Refused by an API's own header check (Huawei's edge limits).
    case outOfBounds(String)
    case undecodable(String)
}

/// What came of a recognition.
enum RecognitionOutcome: Sendable {
    case recognized(RecognitionResult, header: ImageHeaderInfo, calls: Int, processing: Duration)
    case badImage(ImageProblem)
    case overQuota(limit: Int, used: Int, resetsOn: Date)
    case failed(String)
}

/// Where `POST /v1/plate-reader/` results go as Plate Recognizer snapshot webhooks (`image.done`).
///
/// `platestream` implements it with PlateSinks' durable outbox; `imageDone` returns once the message is
/// committed, so a result that was answered is never lost to the webhook targets.
public protocol SnapshotWebhooks: Sendable {
    /// Queues one result: `data` is the response body without `usage` (the documented payload), `image` the
    /// uploaded bytes, `filename` the upload's name.
    func imageDone(data: JSONValue, image: Data, filename: String, cameraID: String?) throws
}

/// Everything the four APIs share: accounts, admission, quota, bounded recognition.
final class SnapshotEngine: Sendable {
    let configuration: SnapshotServerConfiguration
    let recognizer: any PlateRecognizer
    let decoder: any ImageDecoding
    let usage: any UsageStore
    let loader: URLImageLoader
    let regions: RegionCatalog
    let now: @Sendable () -> Date
    let logger: Logger
    let webhooks: (any SnapshotWebhooks)?
    let rateLimiter = RateLimiter()
    let gate: AsyncGate
    private let queue = DispatchQueue(label: "platestream.http.recognize", attributes: .concurrent)
    private let accounts: [String: Account]

    init(configuration: SnapshotServerConfiguration, recognizer: any PlateRecognizer, decoder: any ImageDecoding,
         usage: any UsageStore, fetcher: (any ImageURLFetcher)?, resolver: any HostResolver, regions: RegionCatalog,
         webhooks: (any SnapshotWebhooks)? = nil, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.configuration = configuration
        self.webhooks = webhooks
        self.recognizer = recognizer
        self.decoder = decoder
        self.usage = usage
        self.regions = regions
        self.now = now
        self.logger = logger
        self.gate = AsyncGate(permits: configuration.limits.maxConcurrentRecognitions)
        let fetch = configuration.recognizeURL
        self.loader = URLImageLoader(fetcher: fetch.enabled ? fetcher : nil, resolver: resolver, allowList: AllowList(fetch.allow),
                                     maxBytes: fetch.maxBytes ?? configuration.limits.maxImageBytes,
                                     timeoutSeconds: fetch.timeoutSeconds, maxRedirects: fetch.maxRedirects)
        var accounts: [String: Account] = [:]
        for key in configuration.keys {
            accounts[key.name] = Account(name: key.name, plan: key.plan.flatMap { configuration.plans[$0] })
        }
        self.accounts = accounts
    }

    var authenticationRequired: Bool { configuration.effectiveAuth == .keys }

    /// The account of unauthenticated calls.
    var anonymous: Account {
        Account(name: "anonymous", plan: configuration.anonymousPlan.flatMap { configuration.plans[$0] })
    }

    /// The key whose credential `field` equals `secret`; every key is compared, so the time taken
    /// does not tell which (or whether one) matched.
    func key(matching secret: String, _ field: KeyPath<SnapshotServerConfiguration.APIKey, String?>) -> Account? {
        var found: SnapshotServerConfiguration.APIKey?
        for key in configuration.keys {
            if let candidate = key[keyPath: field], constantTimeEquals(candidate, secret), found == nil { found = key }
        }
        return found.flatMap { accounts[$0.name] }
    }

    /// The NHN key with app key `appKey` and secret `secret`.
    func nhnKey(appKey: String, secret: String) -> Account? {
        var found: SnapshotServerConfiguration.APIKey?
        for key in configuration.keys {
            guard let app = key.nhnAppKey, let expected = key.nhnSecretKey else { continue }
            let match = constantTimeEquals(app, appKey) && constantTimeEquals(expected, secret)
            if match, found == nil { found = key }
        }
        return found.flatMap { accounts[$0.name] }
    }

    /// The configured key named `name`.
    func apiKey(named name: String) -> SnapshotServerConfiguration.APIKey? { configuration.keys.first { $0.name == name } }

    /// Counts the call against the account's rate limit and checks its monthly quota.
    func admit(_ account: Account, cost: Int) async throws -> Admission {
        var rate: FixedWindowRateLimit.Decision?
        if let limit = account.plan?.rateLimit {
            let decision = await rateLimiter.check(account: account.name, rate: limit, now: now())
            guard decision.allowed else { return .throttled(decision) }
            rate = decision
        }
        if let monthly = account.plan?.monthlyCalls {
            let month = UsageMonth(containing: now())
            let used = try await usage.calls(account: account.name, month: month)
            if used + cost > monthly { return .overQuota(limit: monthly, used: used, resetsOn: month.next.start, rate: rate) }
        }
        return .admitted(rate: rate)
    }

    /// Calls counted for the account this month, and its limit.
    func usageThisMonth(_ account: Account) async throws -> (month: UsageMonth, calls: Int, limit: Int?) {
        let month = UsageMonth(containing: now())
        return (month, try await usage.calls(account: account.name, month: month), account.plan?.monthlyCalls)
    }

    /// Checks the header, counts the call, decodes and recognizes `data`, at most
    /// `limits.maxConcurrentRecognitions` at a time, off the cooperative thread pool.
    ///
    /// `check` adds an API's own constraints on the declared format and size (Huawei's edge limits),
    /// applied before anything is decoded or counted.
    func recognize(_ data: Data, account: Account, cost: Int, options: RecognitionOptions,
                   check: @Sendable (ImageHeaderInfo) -> ImageProblem? = { _ in nil }) async -> RecognitionOutcome {
        let started = ContinuousClock.now
        guard !data.isEmpty else { return .badImage(.empty) }
        guard let header = decoder.header(of: data) else { return .badImage(.notAnImage) }
        if let problem = check(header) { return .badImage(problem) }
        let limit = configuration.limits.maxPixels
        // Multiply in Double: a forged header may declare sizes whose product overflows Int on 32 bits.
        guard header.width > 0, header.height > 0, Double(header.width) * Double(header.height) <= Double(limit) else {
            return .badImage(.tooManyPixels(width: header.width, height: header.height, limit: limit))
        }
        let month = UsageMonth(containing: now())
        let calls: Int
        do {
            guard let count = try await usage.reserve(account: account.name, month: month, cost: cost,
                                                      limit: account.plan?.monthlyCalls) else {
                let used = (try? await usage.calls(account: account.name, month: month)) ?? 0
                return .overQuota(limit: account.plan?.monthlyCalls ?? 0, used: used, resetsOn: month.next.start)
            }
            calls = count
        } catch {
            logger.error("usage store failed", metadata: ["error": "\(error)"])
            return .failed("usage store failed")
        }
        let outcome: Result<RecognitionResult, any Error> = await gate.withPermit {
            await withCheckedContinuation { continuation in
                queue.async { [decoder, recognizer] in
                    continuation.resume(returning: Result {
                        let image: Image
                        do {
                            image = try decoder.decode(data)
                        } catch {
                            throw ImageProblem.undecodable(String(describing: error))
                        }
                        return try recognizer.recognize(image, options: options)
                    })
                }
            }
        }
        switch outcome {
        case .success(let result):
            return .recognized(result, header: header, calls: calls, processing: ContinuousClock.now - started)
        case .failure(let error):
            // A call that produced nothing is not charged.
            try? await usage.release(account: account.name, month: month, cost: cost)
            if let problem = error as? ImageProblem { return .badImage(problem) }
            logger.error("recognition failed", metadata: ["error": "\(error)"])
            return .failed(String(describing: error))
        }
    }
}

/// A counting semaphore for async code: at most `permits` bodies run at once, the rest wait in order.
actor AsyncGate {
    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) { available = permits }

    func withPermit<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        await acquire()
        let value = await body()
        release()
        return value
    }

    private func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            available += 1
        } else {
            // The permit passes straight to the next waiter.
            waiting.removeFirst().resume()
        }
    }
}
