import Testing
import PlateDecode

/// The reconnect state machine: backoff, cap, jitter, reset, close.
@Suite struct ReconnectPolicyTests {
    private func seconds(_ action: ReconnectPolicy.Action) -> Double? {
        guard case .wait(let delay, _) = action else { return nil }
        let (s, atto) = delay.components
        return Double(s) + Double(atto) * 1e-18
    }

    private func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-9 } ?? false }

    @Test func startsByConnecting() {
        var policy = ReconnectPolicy(random: { 0 })
        #expect(policy.state == .idle)
        #expect(policy.handle(.start) == .connect(attempt: 1))
        #expect(policy.state == .connecting)
        #expect(policy.handle(.opened) == .readFrames)
        #expect(policy.state == .streaming)
        #expect(policy.handle(.frameDelivered) == .readFrames)
        #expect(policy.reconnects == 0)
    }

    @Test func backoffDoublesThenCaps() {
        var policy = ReconnectPolicy(backoff: Backoff(initial: .milliseconds(500), maximum: .seconds(5), multiplier: 2, jitter: 0.25),
                                     random: { 0 })
        _ = policy.handle(.start)
        var waits: [Double] = []
        var attempts: [Int] = []
        for _ in 0..<8 {
            let action = policy.handle(.failed)
            waits.append(seconds(action) ?? -1)
            #expect(policy.state == .waiting)
            guard case .connect(let attempt) = policy.handle(.delayElapsed) else {
                Issue.record("expected connect after the wait")
                return
            }
            attempts.append(attempt)
        }
        #expect(waits == [0.5, 1, 2, 4, 5, 5, 5, 5])
        #expect(attempts == [2, 3, 4, 5, 6, 7, 8, 9])
        #expect(policy.consecutiveFailures == 8)
    }

    @Test func jitterOnlyShortensWithinItsFraction() {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(8), multiplier: 2, jitter: 0.25)
        for r in stride(from: 0.0, to: 1.0, by: 0.05) {
            var policy = ReconnectPolicy(backoff: backoff, random: { r })
            _ = policy.handle(.start)
            for failures in 1...6 {
                let base = min(pow2(failures - 1), 8)
                let wait = seconds(policy.handle(.failed)) ?? -1
                #expect(wait <= base + 1e-9 && wait >= base * 0.75 - 1e-9, "r=\(r) failures=\(failures) wait=\(wait)")
                #expect(close(wait, base * (1 - 0.25 * r)))
                _ = policy.handle(.delayElapsed)
            }
        }
    }

    @Test func jitterUsesTheInjectedRandomEachTime() {
        let values = [0.0, 0.5, 0.999]
        let box = Counter()
        var policy = ReconnectPolicy(backoff: Backoff(initial: .seconds(4), maximum: .seconds(4), jitter: 0.5),
                                     random: { values[box.next() % values.count] })
        _ = policy.handle(.start)
        var waits: [Double] = []
        for _ in 0..<3 {
            waits.append(seconds(policy.handle(.failed)) ?? -1)
            _ = policy.handle(.delayElapsed)
        }
        #expect(close(waits[0], 4) && close(waits[1], 3) && close(waits[2], 4 * (1 - 0.5 * 0.999)))
    }

    @Test func resetsOnlyAfterASessionDeliversAFrame() {
        var policy = ReconnectPolicy(backoff: Backoff(initial: .seconds(1), maximum: .seconds(60), jitter: 0), random: { 0 })
        _ = policy.handle(.start)
        #expect(close(seconds(policy.handle(.failed)), 1))
        _ = policy.handle(.delayElapsed)
        // Opens, then fails before any frame: still backing off.
        #expect(policy.handle(.opened) == .readFrames)
        #expect(close(seconds(policy.handle(.failed)), 2))
        _ = policy.handle(.delayElapsed)
        #expect(policy.handle(.opened) == .readFrames)
        #expect(policy.reconnects == 2)
        // A frame: the session is healthy, so the next failure starts over at the initial delay.
        #expect(policy.handle(.frameDelivered) == .readFrames)
        #expect(policy.consecutiveFailures == 0)
        #expect(close(seconds(policy.handle(.failed)), 1))
        #expect(policy.handle(.delayElapsed) == .connect(attempt: 2))
    }

    @Test func retriesForeverWithoutOverflow() {
        var policy = ReconnectPolicy(backoff: Backoff(initial: .milliseconds(1), maximum: .seconds(30), jitter: 0), random: { 0 })
        _ = policy.handle(.start)
        var last = 0.0
        for _ in 0..<10_000 {
            last = seconds(policy.handle(.failed)) ?? -1
            _ = policy.handle(.delayElapsed)
        }
        #expect(close(last, 30))
        #expect(policy.state == .connecting)
    }

    @Test func closeStopsFromEveryState() {
        let events: [[ReconnectPolicy.Event]] = [[], [.start], [.start, .opened], [.start, .failed], [.start, .opened, .frameDelivered]]
        for prefix in events {
            var policy = ReconnectPolicy(random: { 0 })
            for event in prefix { _ = policy.handle(event) }
            #expect(policy.handle(.closeRequested) == .stop)
            #expect(policy.state == .closed)
            // Whatever happens afterwards, it stays stopped.
            for event in [ReconnectPolicy.Event.start, .opened, .failed, .delayElapsed, .frameDelivered] {
                #expect(policy.handle(event) == .stop)
            }
        }
    }

    @Test func ignoresEventsThatDoNotApply() {
        var policy = ReconnectPolicy(random: { 0 })
        #expect(policy.handle(.opened) == .none)
        #expect(policy.handle(.failed) == .none)
        #expect(policy.state == .idle)
        _ = policy.handle(.start)
        #expect(policy.handle(.delayElapsed) == .none)
        #expect(policy.handle(.frameDelivered) == .none)
        #expect(policy.state == .connecting)
    }

    private func pow2(_ n: Int) -> Double { Double(1 << n) }
}

/// A thread-safe counter for the injected random closure.
private final class Counter: @unchecked Sendable {
    private var value = 0
    func next() -> Int {
        defer { value += 1 }
        return value
    }
}
