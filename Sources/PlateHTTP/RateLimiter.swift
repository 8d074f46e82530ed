import Foundation

/// A fixed-window rate limit for one account: at most `limit` calls per window of `window`
/// seconds, windows aligned to the Unix epoch so that `X-Ratelimit-Reset` is one instant for all.
///
/// A pure state machine (no clock, no I/O): the caller passes the time in.
/// Why fixed windows rather than a token bucket: OpenALPR's headers and Django REST framework's
/// "expected available in N seconds" both describe a window with a count and an end.
struct FixedWindowRateLimit: Sendable, Equatable {
    /// Calls allowed per window.
    let limit: Int
    /// Window length in seconds.
    let window: Double
    private var windowStart: Double = -.infinity
    private var used = 0

    /// What the limit says about one call.
    struct Decision: Sendable, Equatable {
        /// Whether the call may go ahead (it is then counted).
        var allowed: Bool
        /// Calls allowed per window.
        var limit: Int
        /// Window length in seconds.
        var window: Double
        /// Calls left in the current window after this one.
        var remaining: Int
        /// When the current window ends (seconds since 1970).
        var resetAt: Double
        /// Seconds until a refused call could succeed (0 when allowed).
        var retryAfter: Double
    }

    /// A limit of `limit` calls per `window` seconds.
    init(limit: Int, window: Double) {
        precondition(limit >= 1 && window > 0, "rate limit must allow at least one call per positive window")
        self.limit = limit
        self.window = window
    }

    /// Counts a call made at `now` (seconds since 1970) if the window has room.
    mutating func handle(now: Double) -> Decision {
        let start = (now / window).rounded(.down) * window
        if start != windowStart {
            windowStart = start
            used = 0
        }
        let resetAt = start + window
        guard used < limit else {
            return Decision(allowed: false, limit: limit, window: window, remaining: 0, resetAt: resetAt, retryAfter: max(0, resetAt - now))
        }
        used += 1
        return Decision(allowed: true, limit: limit, window: window, remaining: limit - used, resetAt: resetAt, retryAfter: 0)
    }
}

/// The rate limits of every account, kept in memory (a restart forgives the current window).
actor RateLimiter {
    private var limits: [String: FixedWindowRateLimit] = [:]

    /// Counts a call by `account` under `rate`.
    func check(account: String, rate: SnapshotServerConfiguration.RateLimit, now: Date) -> FixedWindowRateLimit.Decision {
        var state = limits[account] ?? FixedWindowRateLimit(limit: rate.requests, window: rate.perSeconds)
        if state.limit != rate.requests || state.window != rate.perSeconds {
            state = FixedWindowRateLimit(limit: rate.requests, window: rate.perSeconds)
        }
        let decision = state.handle(now: now.timeIntervalSince1970)
        limits[account] = state
        return decision
    }
}
