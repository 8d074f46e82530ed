import Foundation

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
///
/// For tests that wait on other threads: deadlines are generous (the default is 30 s) because the
/// machines that run them are shared and slow; a passing test returns as soon as the condition holds.
/// Sleeps between polls with `Task.sleep`, so it does not hold a cooperative thread.
public func eventually(timeout: Duration = .seconds(30), pollingEvery interval: Duration = .milliseconds(5),
                       _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: interval)
    }
}
