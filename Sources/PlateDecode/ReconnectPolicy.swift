/// Capped exponential backoff with jitter: the waits between reconnection attempts.
public struct Backoff: Sendable, Equatable {
    /// Wait after the first failure.
    public var initial: Duration
    /// Longest wait, however many failures.
    public var maximum: Duration
    /// Growth per consecutive failure (2 doubles).
    public var multiplier: Double
    /// Fraction of the wait that jitter may take off (0...1): the wait is `base * (1 - jitter * r)` for a
    /// random `r` in 0..<1, so cameras that failed together do not reconnect together, and the cap holds.
    public var jitter: Double

    /// 0.5 s doubling up to 30 s, up to 25 % jitter.
    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30),
                multiplier: Double = 2, jitter: Double = 0.25) {
        precondition(initial > .zero && maximum >= initial, "backoff needs 0 < initial <= maximum")
        precondition(multiplier >= 1, "backoff multiplier must be at least 1")
        precondition((0...1).contains(jitter), "jitter must be within 0...1")
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The wait before the next attempt after `failures` consecutive failures (>= 1), before jitter.
    public func baseDelay(afterFailures failures: Int) -> Duration {
        let initialSeconds = initial.seconds, maximumSeconds = maximum.seconds
        var seconds = initialSeconds
        // Multiply step by step so a long outage cannot overflow to infinity.
        for _ in 1..<max(failures, 1) where seconds < maximumSeconds { seconds *= multiplier }
        return .seconds(min(seconds, maximumSeconds))
    }

    /// `baseDelay` with jitter from `random` (a number in 0..<1).
    public func delay(afterFailures failures: Int, random: Double) -> Duration {
        let r = min(max(random, 0), 1)
        return .seconds(baseDelay(afterFailures: failures).seconds * (1 - jitter * r))
    }
}

/// When a live source connects, reads and waits: a pure state machine (no I/O, no clock), fed the events
/// the `ReconnectingFrameSource` sees and answering with what it should do next. It retries forever,
/// until closed; the backoff starts over once a session delivers a frame.
public struct ReconnectPolicy: Sendable {
    /// What happened.
    public enum Event: Sendable, Equatable {
        /// The owner wants frames: connect for the first time.
        case start
        /// The source opened.
        case opened
        /// The open session delivered a frame.
        case frameDelivered
        /// Opening or reading failed (any error: a camera that refuses now may accept later).
        case failed
        /// The wait asked for by `.wait` is over.
        case delayElapsed
        /// The owner closed the source.
        case closeRequested
    }

    /// What to do next.
    public enum Action: Sendable, Equatable {
        /// Open the source; `attempt` counts attempts since the last healthy session (1 = first try).
        case connect(attempt: Int)
        /// Read frames from the open session.
        case readFrames
        /// Wait this long, then send `.delayElapsed`; `attempt` is the attempt that will follow.
        case wait(Duration, attempt: Int)
        /// Stop: the source is closed.
        case stop
        /// Nothing: the event does not apply in this state.
        case none
    }

    /// Where the machine is.
    public enum State: Sendable, Equatable {
        /// Not started.
        case idle
        /// Opening the source.
        case connecting
        /// Reading from an open session.
        case streaming
        /// Waiting before the next attempt.
        case waiting
        /// Closed for good.
        case closed
    }

    /// The backoff between attempts.
    public let backoff: Backoff
    /// The current state.
    public private(set) var state: State = .idle
    /// Failures since the last session that delivered a frame.
    public private(set) var consecutiveFailures = 0
    /// Sessions opened after a failure (successful reconnections).
    public private(set) var reconnects = 0

    private let random: @Sendable () -> Double
    private var hasFailed = false
    private var sessionHealthy = false

    /// A machine using `backoff`; `random` gives numbers in 0..<1 for jitter (inject a fixed one in tests).
    public init(backoff: Backoff = Backoff(), random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.backoff = backoff
        self.random = random
    }

    /// Feeds one event and returns what to do.
    public mutating func handle(_ event: Event) -> Action {
        switch (state, event) {
        case (.closed, _):
            return .stop
        case (_, .closeRequested):
            state = .closed
            return .stop
        case (.idle, .start):
            state = .connecting
            return .connect(attempt: 1)
        case (.connecting, .opened):
            state = .streaming
            sessionHealthy = false
            if hasFailed { reconnects += 1 }
            return .readFrames
        case (.streaming, .frameDelivered):
            if !sessionHealthy {
                // Reset only once a session proves healthy: a camera that accepts and then drops at once
                // must not be hammered at the initial delay.
                sessionHealthy = true
                consecutiveFailures = 0
            }
            return .readFrames
        case (.connecting, .failed), (.streaming, .failed):
            hasFailed = true
            consecutiveFailures += 1
            state = .waiting
            let delay = backoff.delay(afterFailures: consecutiveFailures, random: random())
            return .wait(delay, attempt: consecutiveFailures + 1)
        case (.waiting, .delayElapsed):
            state = .connecting
            return .connect(attempt: consecutiveFailures + 1)
        default:
            return .none
        }
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}
