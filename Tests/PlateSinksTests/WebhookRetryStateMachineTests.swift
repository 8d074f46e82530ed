import PlateSinks
import Testing

@Suite struct WebhookRetryStateMachineTests {
    let policy = WebhookRetryPolicy(initialBackoff: .seconds(1), maxBackoff: .seconds(60), multiplier: 2, jitter: 0, maxRejections: 3)

    private func wait(_ action: WebhookRetryStateMachine.Action) -> Duration? {
        if case .retry(let after, _) = action { return after }
        return nil
    }

    @Test func backoffDoublesUpToTheCap() {
        var machine = WebhookRetryStateMachine(policy: policy, seed: 1)
        let waits = (0..<10).map { _ in wait(machine.handle(.attemptFinished(messageID: 1, .transportFailure("refused")))) }
        #expect(waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60].map { Duration.seconds($0) })
        #expect(machine.consecutiveFailures == 10)
    }

    @Test func successResetsTheBackoff() {
        var machine = WebhookRetryStateMachine(policy: policy, seed: 1)
        _ = machine.handle(.attemptFinished(messageID: 1, .status(503)))
        _ = machine.handle(.attemptFinished(messageID: 1, .status(503)))
        #expect(machine.handle(.attemptFinished(messageID: 1, .delivered)) == .markDelivered)
        #expect(machine.consecutiveFailures == 0)
        #expect(wait(machine.handle(.attemptFinished(messageID: 2, .status(500)))) == .seconds(1))
    }

    @Test func backoffKeepsGrowingAcrossMessagesWhileTheTargetIsDown() {
        var machine = WebhookRetryStateMachine(policy: policy, seed: 1)
        _ = machine.handle(.attemptFinished(messageID: 1, .transportFailure("refused")))
        // A different head (the first was dropped by the bound) does not make a down target look healthy.
        #expect(wait(machine.handle(.attemptFinished(messageID: 2, .transportFailure("refused")))) == .seconds(2))
    }

    @Test func jitterStaysWithinItsFractionAndIsReproducible() {
        let jittery = WebhookRetryPolicy(initialBackoff: .seconds(10), maxBackoff: .seconds(10), jitter: 0.5)
        var a = WebhookRetryStateMachine(policy: jittery, seed: 42)
        var b = WebhookRetryStateMachine(policy: jittery, seed: 42)
        var seen = Set<Duration>()
        for _ in 0..<200 {
            let wa = wait(a.handle(.attemptFinished(messageID: 1, .status(502))))!
            let wb = wait(b.handle(.attemptFinished(messageID: 1, .status(502))))!
            #expect(wa == wb)
            #expect(wa >= .seconds(5) && wa <= .seconds(10))
            seen.insert(wa)
        }
        #expect(seen.count > 50)   // actually spread
    }

    @Test func retryAfterIsAFloorButNotAboveTheCap() {
        var machine = WebhookRetryStateMachine(policy: policy, seed: 1)
        #expect(wait(machine.handle(.attemptFinished(messageID: 1, .status(429, retryAfter: .seconds(30))))) == .seconds(30))
        #expect(wait(machine.handle(.attemptFinished(messageID: 1, .status(503, retryAfter: .seconds(3600))))) == .seconds(60))
    }

    @Test func aMessageTheTargetKeepsRefusingIsDeadLettered() {
        var machine = WebhookRetryStateMachine(policy: policy, seed: 1)
        #expect(wait(machine.handle(.attemptFinished(messageID: 7, .status(400)))) != nil)
        #expect(wait(machine.handle(.attemptFinished(messageID: 7, .status(422)))) != nil)
        guard case .deadLetter = machine.handle(.attemptFinished(messageID: 7, .status(400))) else {
            Issue.record("expected a dead letter")
            return
        }
        // The next message starts afresh, without waiting.
        #expect(machine.consecutiveFailures == 0)
        #expect(machine.rejections == 0)
        #expect(wait(machine.handle(.attemptFinished(messageID: 8, .status(400)))) == .seconds(1))
    }

    @Test func rejectionsCountPerMessage() {
        var machine = WebhookRetryStateMachine(policy: policy, seed: 1)
        _ = machine.handle(.attemptFinished(messageID: 1, .status(400)))
        _ = machine.handle(.attemptFinished(messageID: 1, .status(400)))
        // Message 1 left the queue some other way; message 2 has its own count.
        #expect(wait(machine.handle(.attemptFinished(messageID: 2, .status(400)))) != nil)
        #expect(machine.rejections == 1)
    }

    @Test(arguments: [401, 403, 404, 408, 409, 429, 500, 502, 503, 504, 301, 302])
    func statusesThatDoNotBlameTheMessageAreRetriedForever(_ status: Int) {
        var machine = WebhookRetryStateMachine(policy: policy, seed: 1)
        for _ in 0..<50 {
            #expect(wait(machine.handle(.attemptFinished(messageID: 1, .status(status)))) != nil)
        }
    }

    @Test func policyClampsNonsense() {
        let clamped = WebhookRetryPolicy(initialBackoff: .seconds(5), maxBackoff: .seconds(1), multiplier: 0.5, jitter: 3, maxRejections: 0)
        #expect(clamped.maxBackoff == .seconds(5))
        #expect(clamped.multiplier == 1)
        #expect(clamped.jitter == 1)
        #expect(clamped.maxRejections == 1)
        let machine = WebhookRetryStateMachine(policy: WebhookRetryPolicy(multiplier: 1), seed: 0)
        #expect(machine.nominalBackoff(afterFailures: 1_000_000) == .seconds(1))
    }
}
