public import Foundation
import GRDB
public import Logging
public import PlateCore

/// Configuration of a `MessageOutbox`.
public struct MessageOutboxConfiguration: Sendable, Equatable {
    /// Path of the SQLite file holding the outbox (created when missing); keep it across restarts.
    public var databasePath: String
    /// JSON version and time zones of the events.
    public var jsonFormat: EventJSONFormat
    /// Backoff while a broker is unreachable. Only `initialBackoff`, `maxBackoff`, `multiplier` and `jitter`
    /// apply: a broker does not refuse single messages, so nothing is ever dead-lettered.
    public var retry: WebhookRetryPolicy
    /// The most messages kept per channel; past it the oldest are dropped, counted and logged.
    public var maxQueuedPerChannel: Int
    /// How long a write waits for another writer of the same file.
    public var busyTimeout: TimeInterval

    /// A configuration; by default retries go 0.5 s doubling to 10 s, so a broker that comes back gets the
    /// queue within seconds (a broker, unlike a webhook receiver, is built to take a burst).
    public init(databasePath: String, jsonFormat: EventJSONFormat = EventJSONFormat(),
                retry: WebhookRetryPolicy = WebhookRetryPolicy(initialBackoff: .milliseconds(500), maxBackoff: .seconds(10)),
                maxQueuedPerChannel: Int = 100_000, busyTimeout: TimeInterval = 10) {
        self.databasePath = databasePath
        self.jsonFormat = jsonFormat
        self.retry = retry
        self.maxQueuedPerChannel = maxQueuedPerChannel
        self.busyTimeout = busyTimeout
    }
}

/// Durable, ordered delivery of broker messages (MQTT): the publish/subscribe sibling of `WebhookOutbox`.
///
/// `deliver` turns the event into messages with the configured `EventMessageRouter` (for MQTT: the event on
/// `<prefix>/<camera>/event`, the retained `last_plate` state) and commits them to the SQLite file in one
/// transaction, then returns: a broker that is down never slows the pipeline. `run(publishers:)` sends each
/// channel's messages (a channel is a camera: one broker connection each) in order, one at a time, through
/// that channel's `MessagePublisher`, and deletes a row only once `publish` returned, which for QoS 1 is the
/// broker's PUBACK. A failed publish (broker down, connection lost before the PUBACK) keeps the row and
/// retries with the capped, jittered backoff of `WebhookRetryStateMachine`. After a crash or restart a new
/// outbox on the same file resumes where the old one stopped. Delivery is at least once: a message whose
/// PUBACK was lost is sent again.
///
/// Why a second outbox rather than WebhookOutbox with a pluggable transport: the webhook's rows are HTTP
/// envelopes (hook id, multipart image, idempotency key, per-target dead letters for 4xx answers), none of
/// which a broker message has; what the two share, the retry state machine and the SQLite setup, is shared.
public final class MessageOutbox: ImageAwareEventSink, Sendable {
    /// The configuration.
    public let configuration: MessageOutboxConfiguration
    private let router: any EventMessageRouter
    private let database: DatabasePool
    private let logger: Logger
    private let wakeups = WakeupRegistry()
    private let started = LockedFlag()

    /// Opens (creating and migrating) the outbox file. Throws `SinkError.invalidConfiguration` for a bad
    /// configuration, or the database's error.
    public init(configuration: MessageOutboxConfiguration, router: any EventMessageRouter,
                logger: Logger = Logger(label: "platestream.outbox")) throws {
        guard configuration.maxQueuedPerChannel > 0 else {
            throw SinkError.invalidConfiguration("maxQueuedPerChannel must be positive")
        }
        self.configuration = configuration
        self.router = router
        self.logger = logger
        database = try SQLiteSupport.openPool(path: configuration.databasePath, busyTimeout: configuration.busyTimeout)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("message-outbox-v1") { db in
            try db.execute(sql: """
                CREATE TABLE outbox_message (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    channel TEXT NOT NULL,
                    enqueued_at_us INTEGER NOT NULL,
                    topic TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    qos INTEGER NOT NULL,
                    retain INTEGER NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT
                );
                CREATE INDEX outbox_message_by_channel ON outbox_message(channel, id);
                CREATE TABLE outbox_channel_stats (
                    channel TEXT PRIMARY KEY,
                    delivered INTEGER NOT NULL DEFAULT 0,
                    failed_attempts INTEGER NOT NULL DEFAULT 0,
                    dropped INTEGER NOT NULL DEFAULT 0
                );
                """)
        }
        try migrator.migrate(database)
    }

    // MARK: Enqueueing

    /// Commits the event's messages to the outbox on the camera's channel and wakes its worker.
    public func deliver(_ event: TrackEvent, images: EventImages) throws {
        guard let json = configuration.jsonFormat.jsonValue(for: event, filename: images.filename) else { return }
        try enqueue(router.messages(for: event, eventJSON: json), channel: event.cameraID.rawValue)
    }

    /// Commits messages to a channel, in order, in one transaction; when the channel is then over its bound,
    /// its oldest messages are dropped (counted and logged).
    public func enqueue(_ messages: [OutboundMessage], channel: String) throws {
        guard !messages.isEmpty else { return }
        let now = SQLiteSupport.micros(Date())
        let limit = configuration.maxQueuedPerChannel
        let dropped = try database.write { db -> Int in
            for message in messages {
                try db.execute(sql: """
                    INSERT INTO outbox_message (channel, enqueued_at_us, topic, payload, qos, retain) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [channel, now, message.topic, message.payload, message.qos, message.retain])
            }
            let queued = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox_message WHERE channel = ?",
                                          arguments: [channel]) ?? 0
            guard queued > limit else { return 0 }
            try db.execute(sql: """
                DELETE FROM outbox_message WHERE id IN
                    (SELECT id FROM outbox_message WHERE channel = ? ORDER BY id LIMIT ?)
                """, arguments: [channel, queued - limit])
            try Self.bumpStat("dropped", by: queued - limit, channel: channel, in: db)
            return queued - limit
        }
        if dropped > 0 {
            logger.warning("message outbox full: dropped the oldest queued messages",
                           metadata: ["channel": "\(channel)", "limit": "\(limit)", "dropped": "\(dropped)"])
        }
        wakeups.wake(channel)
    }

    /// Nothing to flush: every message is committed when `deliver` returns.
    public func shutdown() {}

    // MARK: Statistics

    /// Messages waiting, per channel (only channels with some).
    public func pendingCounts() throws -> [String: Int] {
        try database.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT channel, COUNT(*) AS n FROM outbox_message GROUP BY channel")
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["channel"], $0["n"]) })
        }
    }

    /// Messages waiting in all channels.
    public func pendingCount() throws -> Int { try pendingCounts().values.reduce(0, +) }

    /// Counts of one channel since the file was created: delivered, failed attempts, dropped.
    public func statistics(channel: String) throws -> (delivered: Int, failedAttempts: Int, dropped: Int) {
        try database.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT * FROM outbox_channel_stats WHERE channel = ?", arguments: [channel])
            return (row?["delivered"] ?? 0, row?["failed_attempts"] ?? 0, row?["dropped"] ?? 0)
        }
    }

    // MARK: Delivery worker

    /// Sends queued messages until the task is cancelled: one worker per channel, each in order, through
    /// the channel's publisher. Rows of channels without a publisher are kept, not sent. A second call throws.
    public func run(publishers: [String: any MessagePublisher]) async throws {
        guard started.setIfUnset() else { throw SinkError.invalidConfiguration("MessageOutbox.run() called twice") }
        let forgotten = ((try? pendingCounts()) ?? [:]).filter { publishers[$0.key] == nil }
        for (channel, count) in forgotten.sorted(by: { $0.key < $1.key }) {
            logger.warning("message outbox holds messages for a camera without a broker connection; kept, not sent",
                           metadata: ["channel": "\(channel)", "pending": "\(count)"])
        }
        await withTaskGroup(of: Void.self) { group in
            for (index, (channel, publisher)) in publishers.sorted(by: { $0.key < $1.key }).enumerated() {
                let seed = UInt64.random(in: .min ... .max) ^ UInt64(index)
                let wakeup = wakeups.stream(for: channel)
                group.addTask { await self.deliveryLoop(channel: channel, publisher: publisher, wakeup: wakeup, seed: seed) }
            }
        }
        wakeups.finishAll()
    }

    private struct Pending {
        var id: Int64
        var message: OutboundMessage
    }

    private func deliveryLoop(channel: String, publisher: any MessagePublisher, wakeup: AsyncStream<Void>, seed: UInt64) async {
        let loop = OutboxDeliveryLoop<Pending>(
            name: "message outbox", metadata: ["channel": "\(channel)"], logger: logger, policy: configuration.retry,
            seed: seed, next: { try self.nextPending(channel: channel) }, messageID: \.id,
            attempt: { head in
                do {
                    try await publisher.publish(head.message)
                    return .delivered
                } catch {
                    return Task.isCancelled ? nil : .transportFailure(String(describing: error))
                }
            },
            record: { action, head in try self.record(action, for: head, channel: channel) },
            report: { action, _, failures in
                guard case .retry(let wait, let reason) = action else { return }
                self.logger.log(level: OutboxDeliveryLoop<Pending>.failureLevel(consecutiveFailures: failures),
                                "broker unreachable; messages wait in the outbox", metadata: [
                    "channel": "\(channel)", "reason": "\(reason)", "consecutive_failures": "\(failures)", "retry_in": "\(wait)",
                ])
            })
        await loop.run(wakeup: wakeup)
    }

    private func nextPending(channel: String) throws -> Pending? {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT id, topic, payload, qos, retain FROM outbox_message WHERE channel = ? ORDER BY id LIMIT 1
                """, arguments: [channel]) else { return nil }
            return Pending(id: row["id"], message: OutboundMessage(topic: row["topic"], payload: row["payload"],
                                                                   qos: row["qos"], retain: row["retain"]))
        }
    }

    private func record(_ action: WebhookRetryStateMachine.Action, for pending: Pending, channel: String) throws {
        try database.write { db in
            switch action {
            case .markDelivered:
                try db.execute(sql: "DELETE FROM outbox_message WHERE id = ?", arguments: [pending.id])
                try Self.bumpStat("delivered", channel: channel, in: db)
            case .retry(_, let reason), .deadLetter(let reason):
                // `deadLetter` cannot come from a transport failure; kept like a retry should it ever.
                try db.execute(sql: "UPDATE outbox_message SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                               arguments: [reason, pending.id])
                try Self.bumpStat("failed_attempts", channel: channel, in: db)
            }
        }
    }

    private static func bumpStat(_ column: String, by amount: Int = 1, channel: String, in db: Database) throws {
        // `column` is one of our literals, never input.
        try db.execute(sql: """
            INSERT INTO outbox_channel_stats (channel, \(column)) VALUES (?, ?)
            ON CONFLICT(channel) DO UPDATE SET \(column) = \(column) + excluded.\(column)
            """, arguments: [channel, amount])
    }
}

/// One wake-up stream per channel, made on first use (by `enqueue` or by the worker, whichever comes first).
final class WakeupRegistry: @unchecked Sendable {
    // Why unchecked: every access to `streams` holds `lock`.
    private let lock = NSLock()
    private var streams: [String: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)] = [:]

    private func entry(_ channel: String) -> (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation) {
        lock.withLock {
            if let entry = streams[channel] { return entry }
            // Newest-1 buffering: any number of wake-ups while the worker is busy collapse into one.
            let entry = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            streams[channel] = entry
            return entry
        }
    }

    /// Wakes the channel's worker (or leaves a wake-up for it).
    func wake(_ channel: String) { entry(channel).continuation.yield() }

    /// The channel's stream, for its one worker.
    func stream(for channel: String) -> AsyncStream<Void> { entry(channel).stream }

    /// Ends every stream.
    func finishAll() {
        lock.withLock { for (_, entry) in streams { entry.continuation.finish() } }
    }
}
