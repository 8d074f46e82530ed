public import Foundation
public import PlateCore

/// One extra HTTP header sent with every webhook request (`webhook_header`, e.g. `Authorization: Token xyz`).
public struct WebhookHeader: Sendable, Hashable {
    /// Header name.
    public var name: String
    /// Header value; never logged.
    public var value: String

    /// Headers the outbox sets itself and a configuration may not replace.
    public static let reserved: Set<String> = ["content-type", "content-length", "idempotency-key", "transfer-encoding", "host"]

    /// A header; throws `SinkError.invalidConfiguration` for an empty or reserved name, or a name or value
    /// with characters HTTP does not allow (which would otherwise let a config inject headers).
    public init(name: String, value: String) throws {
        let trimmedName = name.trimmingCharacters(in: .whitespaces)
        let trimmedValue = value.trimmingCharacters(in: .whitespaces)
        let tokenCharacters = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        guard !trimmedName.isEmpty, trimmedName.unicodeScalars.allSatisfy({ tokenCharacters.contains($0) }) else {
            throw SinkError.invalidConfiguration("webhook_header: invalid header name '\(trimmedName)'")
        }
        guard !Self.reserved.contains(trimmedName.lowercased()) else {
            throw SinkError.invalidConfiguration("webhook_header: \(trimmedName) is set by PlateStream and cannot be configured")
        }
        guard trimmedValue.unicodeScalars.allSatisfy({ $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) }) else {
            throw SinkError.invalidConfiguration("webhook_header: the value of \(trimmedName) holds control characters")
        }
        self.name = trimmedName
        self.value = trimmedValue
    }

    /// Parses `Name: value`, as `webhook_header` is written.
    public init(parsing line: String) throws {
        guard let colon = line.firstIndex(of: ":") else {
            throw SinkError.invalidConfiguration("webhook_header: expected 'Name: value', got '\(line.prefix(40))'")
        }
        try self.init(name: String(line[..<colon]), value: String(line[line.index(after: colon)...]))
    }
}

/// How the JSON travels in a data-only webhook request (with an image, both send `multipart/form-data`
/// with the fields `json` and `upload`).
public enum WebhookFormat: String, Sendable, CaseIterable {
    /// Plate Recognizer Stream: an `application/x-www-form-urlencoded` body whose field `json` holds
    /// `{"hook": {"target", "id": camera, "event": "recognition", "filename"}, "data": event}`.
    case stream
    /// Plate Recognizer Snapshot: the same envelope as the JSON body (`application/json`), `hook.event` `image.done`.
    case snapshot
}

/// Which picture a webhook with image uploads (`webhook_image_type`).
public enum WebhookImageType: String, Sendable, CaseIterable {
    /// The vehicle cut out of the best frame (the frame when there is no vehicle crop).
    case vehicle
    /// The whole best frame.
    case original
}

/// What to do when a target's queue in the outbox is at `maxQueuedPerTarget`.
public enum WebhookOverflowPolicy: String, Sendable, CaseIterable {
    /// Remove the target's oldest queued messages to make room; each is counted (`dropped`) and logged
    /// with its idempotency key. The newest events are usually the ones that matter.
    case dropOldest
    /// Keep the queue as is and make `deliver` throw `SinkError.outboxFull`; counted (`refused`) and logged.
    case refuseNew
}

/// Configuration of the webhook outbox (config keys in brackets).
public struct WebhookConfiguration: Sendable, Equatable {
    /// Where the POSTs go (`webhook_targets`); each gets every event, in order, independently of the others.
    public var targets: [String]
    /// Extra headers (`webhook_header`).
    public var headers: [WebhookHeader]
    /// Stream (form field) or Snapshot (JSON body) request format.
    public var format: WebhookFormat
    /// Upload an image with each event (`webhook_image`, `webhook_image_type`); nil: data only.
    public var image: WebhookImageType?
    /// How long one request may take before it counts as failed (`webhook_request_timeout`).
    public var requestTimeout: Duration
    /// How long to keep trying to connect (capped by `requestTimeout`). While a target refuses connections,
    /// the HTTP client keeps retrying the connection for this long before the attempt counts as failed, so it
    /// also sets the pace of attempts against a target that is down.
    public var connectTimeout: Duration
    /// JSON version and time zones of the event data.
    public var jsonFormat: EventJSONFormat
    /// Backoff and dead-letter policy.
    public var retry: WebhookRetryPolicy
    /// The most messages kept per target (queued and dead-lettered); see `overflowPolicy`.
    public var maxQueuedPerTarget: Int
    /// What happens when a target's queue is full.
    public var overflowPolicy: WebhookOverflowPolicy
    /// Path of the SQLite file holding the outbox (created when missing); keep it across restarts.
    public var databasePath: String
    /// How long a write waits for another writer of the same file.
    public var busyTimeout: TimeInterval

    /// A configuration; the defaults are Stream's (30 s timeout, data only, Version 2).
    public init(targets: [String], headers: [WebhookHeader] = [], format: WebhookFormat = .stream,
                image: WebhookImageType? = nil, requestTimeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(10),
                jsonFormat: EventJSONFormat = EventJSONFormat(), retry: WebhookRetryPolicy = WebhookRetryPolicy(),
                maxQueuedPerTarget: Int = 100_000, overflowPolicy: WebhookOverflowPolicy = .dropOldest,
                databasePath: String, busyTimeout: TimeInterval = 10) {
        self.targets = targets
        self.headers = headers
        self.format = format
        self.image = image
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.jsonFormat = jsonFormat
        self.retry = retry
        self.maxQueuedPerTarget = maxQueuedPerTarget
        self.overflowPolicy = overflowPolicy
        self.databasePath = databasePath
        self.busyTimeout = busyTimeout
    }

    /// Checks what can be checked before start-up: at least one http(s) target with a host, a positive
    /// bound and timeout.
    public func validate() throws {
        guard !targets.isEmpty else { throw SinkError.invalidConfiguration("webhook_targets is empty") }
        for target in targets {
            guard let url = URL(string: target), let scheme = url.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", url.host?.isEmpty == false else {
                throw SinkError.invalidConfiguration("webhook_targets: not an http(s) URL: \(target)")
            }
        }
        guard maxQueuedPerTarget > 0 else { throw SinkError.invalidConfiguration("maxQueuedPerTarget must be positive") }
        guard requestTimeout > .zero else { throw SinkError.invalidConfiguration("webhook_request_timeout must be positive") }
        guard connectTimeout > .zero else { throw SinkError.invalidConfiguration("connectTimeout must be positive") }
    }
}

/// One webhook payload, as queued: the `data` of the envelope and the `hook` fields other than `target`.
///
/// `WebhookOutbox.deliver` makes one from a track event; the snapshot HTTP API makes its own
/// (`hookEvent` `image.done`, `data` the recognition result) and calls `enqueue`.
public struct WebhookMessage: Sendable, Equatable {
    /// Sent as `Idempotency-Key` on every attempt; enqueueing a key already queued does nothing.
    public var idempotencyKey: String
    /// `hook.id`: the camera for Stream, the webhook's number for Snapshot.
    public var hookID: JSONValue
    /// `hook.event`: `recognition` (Stream) or `image.done` (Snapshot).
    public var hookEvent: String
    /// `hook.filename`, when an image was saved.
    public var filename: String?
    /// The envelope's `data`.
    public var data: JSONValue
    /// The JPEG uploaded as `upload`; nil: a data-only request.
    public var image: Data?
    /// The camera, for logs and statistics.
    public var cameraID: String?

    /// A message.
    public init(idempotencyKey: String, hookID: JSONValue, hookEvent: String, filename: String? = nil,
                data: JSONValue, image: Data? = nil, cameraID: String? = nil) {
        self.idempotencyKey = idempotencyKey
        self.hookID = hookID
        self.hookEvent = hookEvent
        self.filename = filename
        self.data = data
        self.image = image
        self.cameraID = cameraID
    }
}

