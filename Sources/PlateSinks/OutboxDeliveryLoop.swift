import Foundation
import Logging
import PlateCore

/// The delivery loop of one outbox queue (a webhook target, a broker channel), shared by `WebhookOutbox` and
/// `MessageOutbox`: take the oldest pending item, try it, store what the retry state machine decides, wait its
/// back-off after a failure, and sleep until woken when nothing is pending. Returns when the task is cancelled.
///
/// The queues differ only in how an item is read, tried, recorded and reported, which the caller passes in.
struct OutboxDeliveryLoop<Item> {
    /// What the log lines name the queue by (`webhook outbox`, `message outbox`).
    let name: String
    /// Says which queue a log line is about (its target or channel).
    let metadata: Logger.Metadata
    let logger: Logger
    let policy: WebhookRetryPolicy
    let seed: UInt64
    /// The oldest pending item, if any.
    let next: () throws -> Item?
    /// The item's number for the retry state machine.
    let messageID: (Item) -> Int64
    /// One delivery attempt; nil when the task was cancelled (not a failure of the far end).
    let attempt: (Item) async -> WebhookRetryStateMachine.Outcome?
    /// Stores the decision (delete the row, count an attempt, dead-letter it).
    let record: (WebhookRetryStateMachine.Action, Item) throws -> Void
    /// Logs the decision; given how many attempts in a row have failed.
    let report: (WebhookRetryStateMachine.Action, Item, _ consecutiveFailures: Int) -> Void

    func run(wakeup: AsyncStream<Void>) async {
        var machine = WebhookRetryStateMachine(policy: policy, seed: seed)
        var wakeupIterator = wakeup.makeAsyncIterator()
        while !Task.isCancelled {
            let head: Item?
            do {
                head = try next()
            } catch {
                logger.error("\(name) read failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
                guard (try? await Task.sleep(for: .seconds(1))) != nil else { return }
                continue
            }
            guard let head else {
                // Nothing queued: sleep until `enqueue` wakes us (nil: cancelled).
                guard await wakeupIterator.next() != nil else { return }
                continue
            }
            guard let outcome = await attempt(head) else { return }
            let action = machine.handle(.attemptFinished(messageID: messageID(head), outcome))
            do {
                try record(action, head)
            } catch {
                // Worst case the row stays pending and is sent again: a duplicate (same key), never a loss.
                logger.error("\(name) update failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            }
            report(action, head, machine.consecutiveFailures)
            if case .retry(let wait, _) = action {
                guard (try? await Task.sleep(for: wait)) != nil else { return }
            }
        }
    }

    /// The log level of a failed attempt (`RepeatedFailure`).
    static func failureLevel(consecutiveFailures failures: Int) -> Logger.Level {
        RepeatedFailure.isLoud(failures) ? .warning : .debug
    }
}
