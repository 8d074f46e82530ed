/// When and how often the webhook worker retries a target.
public struct WebhookRetryPolicy: Sendable, Hashable {
    /// Wait after the first failure.
    public var initialBackoff: Duration
    /// The longest wait between attempts, however long the target has been down.
    public var maxBackoff: Duration
    /// Growth of the wait per consecutive failure (2: 1 s, 2 s, 4 s, ...).
    public var multiplier: Double
    /// Fraction of each wait that is random (0...1): waits are spread over `[(1 - jitter) * w, w]`, so
    /// many PlateStreams behind one receiver that comes back do not all retry in the same instant.
    public var jitter: Double
    /// How many times one message may be refused with a status that blames the message itself
    /// (400, 413, 415, 422) before it is set aside as dead-lettered so the messages behind it can go.
    /// Every other failure (connection refused, timeout, 5xx, 401, 404, 429, ...) is retried without limit.
    public var maxRejections: Int

    /// A policy; the defaults suit production (1 s doubling to 5 min, 20 % jitter, 5 rejections).
    public init(initialBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(300), multiplier: Double = 2,
                jitter: Double = 0.2, maxRejections: Int = 5) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = max(maxBackoff, initialBackoff)
        self.multiplier = max(1, multiplier)
        self.jitter = min(1, max(0, jitter))
        self.maxRejections = max(1, maxRejections)
    }
}

/// The retry logic of one webhook target, as a pure state machine: the worker reports each attempt's
/// outcome and does what it is told. No I/O and no clock; randomness comes from a seeded generator in the
/// state, so a test replays exactly.
///
/// Messages of a target go in order, one at a time: a failing head message holds the ones behind it
/// (a receiver sees events in the order they happened), until it is delivered or dead-lettered.
public struct WebhookRetryStateMachine: Sendable {
    /// How an attempt ended.
    public enum Outcome: Sendable, Hashable {
        /// The target answered 2xx.
        case delivered
        /// The target answered with another status; `retryAfter` is its `Retry-After`, when it sent one.
        case status(Int, retryAfter: Duration? = nil)
        /// No answer: connection refused, reset, DNS failure, timeout.
        case transportFailure(String)
    }

    /// What happens to the target's queue.
    public enum Event: Sendable, Hashable {
        /// An attempt to send the message with this outbox id ended so.
        case attemptFinished(messageID: Int64, Outcome)
    }

    /// What the worker does next.
    public enum Action: Sendable, Hashable {
        /// Remove the message from the queue (delivered) and send the next one now.
        case markDelivered
        /// Keep the message, record the failure, wait this long, then send the head of the queue again.
        case retry(after: Duration, reason: String)
        /// Set the message aside (kept in the outbox, counted, logged) and send the next one now.
        case deadLetter(reason: String)
    }

    /// The policy.
    public let policy: WebhookRetryPolicy
    /// Failures in a row of this target, whatever the message: the backoff grows with them.
    public private(set) var consecutiveFailures = 0
    /// The message the rejection count is about.
    public private(set) var currentMessageID: Int64?
    /// How often the current message was refused with a status that blames it.
    public private(set) var rejections = 0
    private var random: SplitMix64

    /// A machine with no failures yet; `seed` feeds the jitter.
    public init(policy: WebhookRetryPolicy, seed: UInt64) {
        self.policy = policy
        self.random = SplitMix64(seed: seed)
    }

    /// Takes an event and says what to do.
    public mutating func handle(_ event: Event) -> Action {
        switch event {
        case .attemptFinished(let messageID, let outcome):
            if messageID != currentMessageID {
                currentMessageID = messageID
                rejections = 0
            }
            switch outcome {
            case .delivered:
                consecutiveFailures = 0
                rejections = 0
                return .markDelivered
            case .status(let code, let retryAfter):
                if Self.blamesMessage(code) {
                    rejections += 1
                    if rejections >= policy.maxRejections {
                        // The target is up and answering; only this message is the problem.
                        consecutiveFailures = 0
                        rejections = 0
                        return .deadLetter(reason: "HTTP \(code), \(policy.maxRejections) times")
                    }
                }
                return fail(reason: "HTTP \(code)", floor: retryAfter)
            case .transportFailure(let reason):
                return fail(reason: reason, floor: nil)
            }
        }
    }

    /// Whether a status says the request itself is bad, so sending it again cannot help.
    public static func blamesMessage(_ status: Int) -> Bool {
        [400, 413, 415, 422].contains(status)
    }

    /// The wait before attempt `failures + 1` without jitter: `initial * multiplier^(failures - 1)`, capped.
    public func nominalBackoff(afterFailures failures: Int) -> Duration {
        let cap = policy.maxBackoff.seconds
        var wait = policy.initialBackoff.seconds
        var step = 1
        // Stops at the cap: a target down for a month has millions of failures, not millions of multiplications.
        while step < failures && wait < cap && policy.multiplier > 1 {
            wait *= policy.multiplier
            step += 1
        }
        return .milliseconds(Int64((min(wait, cap) * 1000).rounded()))
    }

    private mutating func fail(reason: String, floor: Duration?) -> Action {
        consecutiveFailures += 1
        let nominal = nominalBackoff(afterFailures: consecutiveFailures).seconds
        let factor = 1 - policy.jitter * random.nextUnit()
        var wait = nominal * factor
        // A Retry-After asks for at least that long; honoured up to the cap, so a bogus one cannot stall us.
        if let floor { wait = max(wait, min(floor.seconds, policy.maxBackoff.seconds)) }
        return .retry(after: .milliseconds(Int64((wait * 1000).rounded())), reason: reason)
    }
}

/// SplitMix64: a tiny, fast, seedable generator; plenty for spreading retries (and for generating the
/// same benchmark data on every run).
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A number in `0..<1`.
    mutating func nextUnit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (whole, attos) = components
        return Double(whole) + Double(attos) / 1e18
    }
}
