import AsyncHTTPClient
public import Foundation
import GRDB
public import Logging
public import PlateCore

/// Per-target delivery counts of the webhook outbox.
public struct WebhookTargetStatistics: Sendable, Hashable {
    /// The target URL.
    public var target: String
    /// Whether the target is in the current configuration (rows of a removed target are kept, not sent).
    public var isConfigured: Bool
    /// Messages waiting to be sent.
    public var pending: Int
    /// Messages set aside after the target refused them `maxRejections` times (kept in the outbox).
    public var deadLettered: Int
    /// Messages delivered (2xx) since the outbox file was created.
    public var delivered: Int
    /// Attempts that failed (each retry counts).
    public var failedAttempts: Int
    /// Messages removed unsent because the queue was full (`dropOldest`).
    public var dropped: Int
    /// Events not queued because the queue was full (`refuseNew`).
    public var refused: Int
    /// When the oldest pending message was queued.
    public var oldestPending: Date?
}

/// Webhook delivery that never loses an event: a durable outbox in SQLite and a background worker
/// (config keys `webhook_targets`, `webhook_header`, `webhook_image`, `webhook_image_type`,
/// `webhook_request_timeout`).
///
/// `deliver` only commits the event to the outbox file (one message, one delivery row per target) and
/// returns: a slow or dead target never slows the pipeline. `run()` posts each target's messages in order,
/// one at a time, retrying with capped exponential backoff and jitter (`WebhookRetryStateMachine`) while
/// the target is down. Delivered rows are deleted. A message stays in the file until every target has it,
/// so after a crash or restart a new outbox on the same file resumes where the old one stopped.
/// Delivery is at least once: a request that reached the target but whose answer was lost is sent again,
/// with the same `Idempotency-Key` (the event's `EventIdentifier`), for the receiver to recognise.
///
/// Run `run()` once, in a task that lives as long as the process (the CLI makes it a Service); cancel the
/// task to stop. What is still queued then is sent by the next run.
public final class WebhookOutbox: ImageAwareEventSink, Sendable {
    /// The stable config key of this sink.
    public static let configKey = "webhook_targets"

    /// The configuration.
    public let configuration: WebhookConfiguration
    private let targets: [String]
    private let database: DatabasePool
    private let encodeJPEG: JPEGEncoder?
    private let logger: Logger
    private let wakeups: [String: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)]
    private let started = LockedFlag()

    /// Opens (creating and migrating) the outbox file. `encodeJPEG` is required when `configuration.image`
    /// is set. Throws `SinkError.invalidConfiguration` for a bad configuration.
    public init(configuration: WebhookConfiguration, encodeJPEG: JPEGEncoder? = nil,
                logger: Logger = Logger(label: "platestream.webhook")) throws {
        try configuration.validate()
        if configuration.image != nil && encodeJPEG == nil {
            throw SinkError.invalidConfiguration("webhook_image needs a JPEG encoder")
        }
        self.configuration = configuration
        var seen = Set<String>()
        targets = configuration.targets.filter { seen.insert($0).inserted }
        self.encodeJPEG = encodeJPEG
        self.logger = logger
        var wakeups: [String: (AsyncStream<Void>, AsyncStream<Void>.Continuation)] = [:]
        for target in targets {
            // Newest-1 buffering: any number of wake-ups while the worker is busy collapse into one.
            wakeups[target] = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        }
        self.wakeups = wakeups
        database = try SQLiteSupport.openPool(path: configuration.databasePath, busyTimeout: configuration.busyTimeout)
        try Self.migrator.migrate(database)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("webhook-outbox-v1") { db in
            try db.execute(sql: """
                CREATE TABLE webhook_message (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    idempotency_key TEXT NOT NULL UNIQUE,
                    enqueued_at_us INTEGER NOT NULL,
                    camera_id TEXT,
                    hook_id TEXT NOT NULL,
                    hook_event TEXT NOT NULL,
                    filename TEXT,
                    data TEXT NOT NULL,
                    image BLOB
                );
                CREATE TABLE webhook_delivery (
                    target TEXT NOT NULL,
                    message_id INTEGER NOT NULL REFERENCES webhook_message(id) ON DELETE CASCADE,
                    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_attempt_us INTEGER,
                    last_error TEXT,
                    PRIMARY KEY (target, message_id)
                ) WITHOUT ROWID;
                CREATE INDEX webhook_delivery_by_message ON webhook_delivery(message_id);
                CREATE TABLE webhook_target_stats (
                    target TEXT PRIMARY KEY,
                    delivered INTEGER NOT NULL DEFAULT 0,
                    failed_attempts INTEGER NOT NULL DEFAULT 0,
                    dead_lettered INTEGER NOT NULL DEFAULT 0,
                    dropped INTEGER NOT NULL DEFAULT 0,
                    refused INTEGER NOT NULL DEFAULT 0
                );
                """)
        }
        return migrator
    }

    // MARK: Enqueueing

    /// Queues the event for every target (the Version-2 or -1 JSON as `data`, `hook.id` the camera,
    /// `hook.event` `recognition` or, in Snapshot format, `image.done`), with the configured image when one
    /// is wanted and available. Returns once the event is committed to the outbox file.
    public func deliver(_ event: TrackEvent, images: EventImages) throws {
        guard let data = configuration.jsonFormat.jsonValue(for: event, filename: images.filename) else { return }
        var jpeg: Data?
        if let type = configuration.image, let encodeJPEG {
            let picture = type == .vehicle ? (images.vehicleCrop ?? images.frame) : images.frame
            if let picture {
                do {
                    jpeg = try encodeJPEG(picture)
                } catch {
                    // The event still goes, without its picture: losing the event over an image would be worse.
                    logger.error("webhook image encoding failed; sending data only",
                                 metadata: ["camera": "\(event.cameraID)", "error": "\(error)"])
                }
            }
        }
        let message = WebhookMessage(
            idempotencyKey: EventIdentifier.make(for: event), hookID: .string(event.cameraID.rawValue),
            hookEvent: configuration.format == .stream ? "recognition" : "image.done",
            filename: images.filename, data: data, image: jpeg, cameraID: event.cameraID.rawValue)
        do {
            try enqueue(message)
        } catch let error as DatabaseError {
            // Why wrapped: SQLite's own message ("database or disk is full") does not say which file.
            throw SinkError.io("cannot queue the webhook (SQLite: \(error.message ?? "\(error.resultCode)"))",
                               path: configuration.databasePath)
        }
    }

    /// Queues a message for every target. Returns false when a message with the same idempotency key is
    /// still in the outbox (nothing is added). Throws `SinkError.outboxFull` when a target's queue is full
    /// under `refuseNew` (the other targets still get it), or when the database fails.
    @discardableResult
    public func enqueue(_ message: WebhookMessage) throws -> Bool {
        let now = SQLiteSupport.micros(Date())
        let limit = configuration.maxQueuedPerTarget
        let policy = configuration.overflowPolicy
        let targets = self.targets
        let (inserted, refused, dropped) = try database.write { db -> (Bool, [String], [(String, [String])]) in
            try db.execute(sql: """
                INSERT INTO webhook_message (idempotency_key, enqueued_at_us, camera_id, hook_id, hook_event, filename, data, image)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(idempotency_key) DO NOTHING
                """, arguments: [message.idempotencyKey, now, message.cameraID, message.hookID.serialized(),
                                 message.hookEvent, message.filename, message.data.serialized(), message.image])
            guard db.changesCount > 0 else { return (false, [], []) }
            let messageID = db.lastInsertedRowID
            var refused: [String] = []
            var dropped: [(String, [String])] = []
            for target in targets {
                let queued = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_delivery WHERE target = ?",
                                              arguments: [target]) ?? 0
                if queued >= limit && policy == .refuseNew {
                    refused.append(target)
                    try Self.bumpStat("refused", target: target, in: db)
                    continue
                }
                try db.execute(sql: "INSERT INTO webhook_delivery (target, message_id) VALUES (?, ?)",
                               arguments: [target, messageID])
                if queued + 1 > limit {
                    let excess = queued + 1 - limit
                    let victims = try Row.fetchAll(db, sql: """
                        SELECT d.message_id, m.idempotency_key FROM webhook_delivery d
                        JOIN webhook_message m ON m.id = d.message_id
                        WHERE d.target = ? ORDER BY d.message_id LIMIT ?
                        """, arguments: [target, excess])
                    for victim in victims {
                        try Self.removeDelivery(target: target, messageID: victim["message_id"], in: db)
                    }
                    try Self.bumpStat("dropped", by: victims.count, target: target, in: db)
                    dropped.append((target, victims.map { $0["idempotency_key"] }))
                }
            }
            if refused.count == targets.count {
                // No target took it: keep no orphan message.
                try db.execute(sql: "DELETE FROM webhook_message WHERE id = ?", arguments: [messageID])
            }
            return (true, refused, dropped)
        }
        for (target, keys) in dropped {
            logger.warning("webhook outbox full: dropped the oldest queued messages", metadata: [
                "target": "\(SourceURL.redacted(target))", "limit": "\(limit)", "dropped": "\(keys.count)",
                "idempotency_keys": "\(keys.joined(separator: ","))",
            ])
        }
        for target in targets where !refused.contains(target) {
            wakeups[target]?.continuation.yield()
        }
        if !refused.isEmpty {
            let names = refused.map(SourceURL.redacted).joined(separator: ", ")
            logger.error("webhook outbox full: event refused", metadata: [
                "targets": "\(names)", "limit": "\(limit)", "idempotency_key": "\(message.idempotencyKey)",
            ])
            throw SinkError.outboxFull("webhook outbox full (\(limit) per target) for \(names); event \(message.idempotencyKey) not queued there")
        }
        return inserted
    }

    /// Nothing to flush: every event is committed when `deliver` returns. The worker keeps sending until
    /// its task is cancelled; what is left is sent by the next run.
    public func shutdown() {}

    // MARK: Statistics and maintenance

    /// Counts per target: every configured target, and any other target with rows left in the file.
    public func statistics() throws -> [WebhookTargetStatistics] {
        let configured = targets
        return try database.read { db in
            var names = configured
            let others = try String.fetchAll(db, sql: """
                SELECT target FROM webhook_delivery UNION SELECT target FROM webhook_target_stats ORDER BY target
                """)
            names += others.filter { !configured.contains($0) }
            return try names.map { target in
                let counts = try Row.fetchOne(db, sql: """
                    SELECT
                        (SELECT COUNT(*) FROM webhook_delivery WHERE target = ?1 AND state = 'pending') AS pending,
                        (SELECT COUNT(*) FROM webhook_delivery WHERE target = ?1 AND state = 'dead') AS dead,
                        (SELECT MIN(m.enqueued_at_us) FROM webhook_delivery d JOIN webhook_message m ON m.id = d.message_id
                            WHERE d.target = ?1 AND d.state = 'pending') AS oldest
                    """, arguments: [target])
                let stats = try Row.fetchOne(db, sql: "SELECT * FROM webhook_target_stats WHERE target = ?", arguments: [target])
                return WebhookTargetStatistics(
                    target: target, isConfigured: configured.contains(target),
                    pending: counts?["pending"] ?? 0, deadLettered: counts?["dead"] ?? 0,
                    delivered: stats?["delivered"] ?? 0, failedAttempts: stats?["failed_attempts"] ?? 0,
                    dropped: stats?["dropped"] ?? 0, refused: stats?["refused"] ?? 0,
                    oldestPending: (counts?["oldest"] as Int64?).map(SQLiteSupport.date(micros:)))
            }
        }
    }

    /// Puts dead-lettered messages back in the queue (of one target, or all); returns how many.
    @discardableResult
    public func requeueDeadLetters(target: String? = nil) throws -> Int {
        let count = try database.write { db in
            if let target {
                try db.execute(sql: "UPDATE webhook_delivery SET state = 'pending', attempts = 0 WHERE state = 'dead' AND target = ?",
                               arguments: [target])
            } else {
                try db.execute(sql: "UPDATE webhook_delivery SET state = 'pending', attempts = 0 WHERE state = 'dead'")
            }
            return db.changesCount
        }
        for (_, wakeup) in wakeups { wakeup.continuation.yield() }
        return count
    }

    // MARK: Delivery worker

    /// Sends queued messages until the task is cancelled: one worker per target, each in order.
    /// Call once per outbox; a second call throws.
    public func run() async throws {
        guard started.setIfUnset() else { throw SinkError.invalidConfiguration("WebhookOutbox.run() called twice") }
        logForgottenTargets()
        var clientConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        // Connect timeout bounded by the request timeout; the per-request deadline bounds the rest.
        let timeoutMilliseconds = Int64(configuration.requestTimeout.seconds * 1000)
        let connectMilliseconds = Int64(configuration.connectTimeout.seconds * 1000)
        clientConfiguration.timeout = .init(connect: .milliseconds(min(timeoutMilliseconds, connectMilliseconds)),
                                            read: .milliseconds(timeoutMilliseconds))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        await withTaskGroup(of: Void.self) { group in
            for (index, target) in targets.enumerated() {
                let seed = UInt64.random(in: .min ... .max) ^ UInt64(index)
                group.addTask { await self.deliveryLoop(target: target, client: client, seed: seed) }
            }
        }
        try? await client.shutdown()
        for (_, wakeup) in wakeups { wakeup.continuation.finish() }
    }

    private struct PendingDelivery {
        var messageID: Int64
        var key: String
        var hookIDJSON: String
        var hookEvent: String
        var filename: String?
        var data: String
        var image: Data?
        var attempts: Int
    }

    private func deliveryLoop(target: String, client: HTTPClient, seed: UInt64) async {
        guard let wakeup = wakeups[target] else { return }
        let redacted = SourceURL.redacted(target)
        let loop = OutboxDeliveryLoop<PendingDelivery>(
            name: "webhook outbox", metadata: ["target": "\(redacted)"], logger: logger, policy: configuration.retry,
            seed: seed, next: { try self.nextPending(target: target) }, messageID: \.messageID,
            attempt: { head in await self.attempt(head, target: target, client: client) },
            record: { action, head in try self.record(action, for: head, target: target) },
            report: { action, head, failures in
                switch action {
                case .markDelivered:
                    self.logger.debug("webhook delivered", metadata: ["target": "\(redacted)", "idempotency_key": "\(head.key)"])
                case .retry(let wait, let reason):
                    self.logger.log(level: OutboxDeliveryLoop<PendingDelivery>.failureLevel(consecutiveFailures: failures),
                                    "webhook target failing; will retry", metadata: [
                        "target": "\(redacted)", "reason": "\(reason)", "consecutive_failures": "\(failures)",
                        "retry_in": "\(wait)", "idempotency_key": "\(head.key)",
                    ])
                case .deadLetter(let reason):
                    self.logger.error("webhook message refused repeatedly; dead-lettered (kept in the outbox)", metadata: [
                        "target": "\(redacted)", "reason": "\(reason)", "idempotency_key": "\(head.key)",
                    ])
                }
            })
        await loop.run(wakeup: wakeup.stream)
    }

    private func nextPending(target: String) throws -> PendingDelivery? {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT d.message_id, d.attempts, m.idempotency_key, m.hook_id, m.hook_event, m.filename, m.data, m.image
                FROM webhook_delivery d JOIN webhook_message m ON m.id = d.message_id
                WHERE d.target = ? AND d.state = 'pending'
                ORDER BY d.message_id LIMIT 1
                """, arguments: [target]) else { return nil }
            return PendingDelivery(messageID: row["message_id"], key: row["idempotency_key"], hookIDJSON: row["hook_id"],
                                   hookEvent: row["hook_event"], filename: row["filename"], data: row["data"],
                                   image: row["image"], attempts: row["attempts"])
        }
    }

    /// One POST; nil when the task was cancelled (not a failure of the target).
    private func attempt(_ delivery: PendingDelivery, target: String, client: HTTPClient) async -> WebhookRetryStateMachine.Outcome? {
        let built = WebhookRequest(dataJSON: delivery.data, hookIDJSON: delivery.hookIDJSON, hookEvent: delivery.hookEvent,
                                   filename: delivery.filename, image: delivery.image, idempotencyKey: delivery.key,
                                   target: target, format: configuration.format, headers: configuration.headers,
                                   boundary: "PlateStream-" + UUID().uuidString)
        var request = HTTPClientRequest(url: target)
        request.method = .POST
        for header in built.headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(built.body)
        do {
            let timeout = Int64(configuration.requestTimeout.seconds * 1000)
            let response = try await client.execute(request, timeout: .milliseconds(timeout), logger: nil)
            let status = Int(response.status.code)
            let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            // Read the answer to the end so the connection can be reused; its content does not matter.
            do {
                for try await _ in response.body {}
            } catch {
                logger.debug("webhook response body not read", metadata: ["error": "\(error)"])
            }
            if (200..<300).contains(status) { return .delivered }
            return .status(status, retryAfter: retryAfter.map { .seconds($0) })
        } catch {
            if Task.isCancelled { return nil }
            return .transportFailure(String(describing: error))
        }
    }

    private func record(_ action: WebhookRetryStateMachine.Action, for delivery: PendingDelivery, target: String) throws {
        let now = SQLiteSupport.micros(Date())
        try database.write { db in
            switch action {
            case .markDelivered:
                try Self.removeDelivery(target: target, messageID: delivery.messageID, in: db)
                try Self.bumpStat("delivered", target: target, in: db)
            case .retry(_, let reason):
                try db.execute(sql: """
                    UPDATE webhook_delivery SET attempts = attempts + 1, last_attempt_us = ?, last_error = ?
                    WHERE target = ? AND message_id = ?
                    """, arguments: [now, reason, target, delivery.messageID])
                try Self.bumpStat("failed_attempts", target: target, in: db)
            case .deadLetter(let reason):
                try db.execute(sql: """
                    UPDATE webhook_delivery SET state = 'dead', attempts = attempts + 1, last_attempt_us = ?, last_error = ?
                    WHERE target = ? AND message_id = ?
                    """, arguments: [now, reason, target, delivery.messageID])
                try Self.bumpStat("failed_attempts", target: target, in: db)
                try Self.bumpStat("dead_lettered", target: target, in: db)
            }
        }
    }

    /// Deletes one delivery row, and its message when no target needs it any more.
    private static func removeDelivery(target: String, messageID: Int64, in db: Database) throws {
        try db.execute(sql: "DELETE FROM webhook_delivery WHERE target = ? AND message_id = ?", arguments: [target, messageID])
        try db.execute(sql: """
            DELETE FROM webhook_message WHERE id = ? AND NOT EXISTS (SELECT 1 FROM webhook_delivery WHERE message_id = ?)
            """, arguments: [messageID, messageID])
    }

    private static func bumpStat(_ column: String, by amount: Int = 1, target: String, in db: Database) throws {
        // `column` is one of our literals, never input.
        try db.execute(sql: """
            INSERT INTO webhook_target_stats (target, \(column)) VALUES (?, ?)
            ON CONFLICT(target) DO UPDATE SET \(column) = \(column) + excluded.\(column)
            """, arguments: [target, amount])
    }

    private func logForgottenTargets() {
        guard let stats = try? statistics() else { return }
        for stat in stats where !stat.isConfigured && (stat.pending > 0 || stat.deadLettered > 0) {
            logger.warning("webhook outbox holds messages for a target no longer configured; kept, not sent", metadata: [
                "target": "\(SourceURL.redacted(stat.target))", "pending": "\(stat.pending)", "dead_lettered": "\(stat.deadLettered)",
            ])
        }
    }
}

/// A flag set once, safely from any thread.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    /// Sets the flag; false when it was already set.
    func setIfUnset() -> Bool {
        lock.withLock {
            defer { value = true }
            return !value
        }
    }
}
