import Dispatch
import Foundation
import Logging
import PlateConsole
import PlateCore
import PlatePipeline
import PlateSinks
import ServiceLifecycle

/// The pipeline as a `Service`: runs until every source ended, or until graceful shutdown (SIGTERM,
/// SIGINT) asks it to stop, after which it drains in-flight frames and flushes every sink before returning.
struct PipelineService: Service {
    /// The pipeline.
    let pipeline: Pipeline

    func run() async throws {
        await withGracefulShutdownHandler {
            await pipeline.run()
        } onGracefulShutdown: {
            pipeline.requestShutdown()
        }
    }
}

/// A webhook outbox's delivery worker as a `Service`. At graceful shutdown, which the group sends only after
/// the pipeline service has finished (services shut down in reverse order), every event is already committed
/// to the outbox file; the worker then goes on while deliveries still make progress (up to `drainLimit`, and
/// no longer than `stallLimit` without one going out: a target that is down is not waited for), and what is
/// still queued when it stops is sent by the next run.
struct WebhookService: Service {
    /// The outbox.
    let outbox: WebhookOutbox
    /// The longest the worker goes on after shutdown was asked for.
    var drainLimit: Duration = .seconds(30)
    /// How long without any delivery before it stops waiting.
    var stallLimit: Duration = .seconds(3)
    var logger = Logger(label: "platestream.webhook")

    func run() async throws {
        let worker = Task { try await outbox.run() }
        await withGracefulShutdownHandler {
            _ = await worker.result
        } onGracefulShutdown: {
            Task { await drainThenStop(worker) }
        }
        _ = await worker.result
    }

    private func pending() -> Int {
        ((try? outbox.statistics()) ?? []).filter(\.isConfigured).reduce(0) { $0 + $1.pending }
    }

    private func drainThenStop(_ worker: Task<Void, any Error>) async {
        await drainOutboxThenStop(worker, what: "webhook deliveries", drainLimit: drainLimit, stallLimit: stallLimit,
                                  logger: logger, pending: pending)
    }
}

/// Lets an outbox worker go on after shutdown was asked for while deliveries still make progress (up to
/// `drainLimit`, and no longer than `stallLimit` without one going out: a receiver that is down is not
/// waited for), then cancels it. Shared by the webhook and MQTT services.
func drainOutboxThenStop(_ worker: Task<Void, any Error>, what: String, drainLimit: Duration = .seconds(30),
                         stallLimit: Duration = .seconds(3), logger: Logger, pending: () -> Int) async {
    let clock = ContinuousClock()
    let start = clock.now
    var last = pending()
    var lastProgress = start
    if last > 0 {
        logger.info("waiting for \(what) before exit", metadata: ["pending": "\(last)"])
    }
    while last > 0, clock.now - start < drainLimit, clock.now - lastProgress < stallLimit {
        try? await Task.sleep(for: .milliseconds(100))
        let now = pending()
        if now < last { lastProgress = clock.now }
        last = now
    }
    if last > 0 {
        logger.warning("\(what) still queued; the next run sends them", metadata: ["pending": "\(last)"])
    }
    worker.cancel()
}

/// Keeps the console's event streams alive (an SSE comment every `interval`) and ends them at graceful
/// shutdown, so that the HTTP server, which waits for requests in flight, can stop.
struct ConsoleFeedService: Service {
    /// The console's broadcaster.
    let broadcaster: ConsoleBroadcaster
    /// Time between pings.
    var interval: Duration = .seconds(15)

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                broadcaster.ping()
            }
        }
        broadcaster.finish()
    }
}

/// Writes this node's camera health to the event store every `interval` (its heartbeat), and once more at
/// shutdown, so that the console of every node sharing the store shows these cameras and sees them go stale
/// when this node dies. A failed write is logged and retried at the next beat, never fatal.
struct HeartbeatService: Service {
    /// Seconds between heartbeats.
    static let interval: TimeInterval = 2
    /// Where this node's cameras come from.
    let health: PipelineHealthBox
    /// The store written.
    let store: any EventStore
    /// For failed writes.
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var failing = false
            while !Task.isCancelled {
                failing = beat(failing: failing)
                try await Task.sleep(for: .seconds(Self.interval))
            }
        }
        _ = beat(failing: false)
    }

    /// Writes one heartbeat; returns whether it failed. The first of a run of failures is logged.
    private func beat(failing: Bool) -> Bool {
        do {
            try store.recordHealth(health.heartbeat())
            return false
        } catch {
            if !failing { logger.warning("camera heartbeat not written", metadata: ["error": "\(error)"]) }
            return true
        }
    }
}

/// Reports the progress over a file on stderr: a redrawn bar with frames, fps and ETA on a terminal,
/// plain lines every few seconds otherwise (logs, pipes, tests).
struct ProgressService: Service {
    /// The pipeline whose single camera is reported.
    let pipeline: Pipeline
    /// The camera.
    let cameraID: CameraID
    /// What the file says about itself (duration, frame count, fps).
    let info: StreamInfo
    /// Whether stderr is a terminal.
    let isTerminal: Bool

    func run() async throws {
        let start = ContinuousClock.now
        let interval: Duration = isTerminal ? .milliseconds(500) : .seconds(2)
        // Stops at graceful shutdown (group shutdown after the pipeline finished, or a signal).
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                report(since: start, final: false)
            }
        }
    }

    /// Writes one progress report; `final` ends the bar's line.
    func report(since start: ContinuousClock.Instant, final: Bool) {
        guard let camera = pipeline.health()[camera: cameraID] else { return }
        let elapsed = (ContinuousClock.now - start).runSeconds
        let text = Self.describe(camera, info: info, elapsed: elapsed, final: final)
        if isTerminal {
            printError("\r\u{1B}[K" + text + (final ? "\n" : ""))
        } else {
            printError("progress: " + text + "\n")
        }
    }

    /// `[####----] 42%  frame 120/250  12.3 fps  ETA 0:11  events 2`.
    static func describe(_ camera: CameraHealth, info: StreamInfo, elapsed: Double, final: Bool) -> String {
        let decoded = camera.sourceStats.decoded
        let total = info.frameCount ?? info.durationSeconds.map { Int(($0 * info.fps).rounded()) }
        var fraction: Double?
        if let total, total > 0 {
            fraction = min(1, Double(decoded) / Double(total))
        } else if let duration = info.durationSeconds, duration > 0, let time = camera.lastMediaTime {
            fraction = min(1, time.seconds / duration)
        }
        if final, camera.end == .endOfStream { fraction = 1 }
        let fps = elapsed > 0 ? Double(camera.framesRecognized) / elapsed : 0
        var parts: [String] = []
        if let fraction {
            let width = 24
            let filled = Int((fraction * Double(width)).rounded(.down))
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]")
            parts.append(String(format: "%3.0f%%", fraction * 100))
        }
        parts.append("frame \(decoded)" + (total.map { "/\($0)" } ?? ""))
        parts.append("recognized \(camera.framesRecognized)")
        parts.append(String(format: "%.1f fps", fps))
        if let fraction, fraction > 0, fraction < 1, !final {
            parts.append("ETA " + formatDuration(elapsed * (1 - fraction) / fraction))
        } else if final {
            parts.append("took " + formatDuration(elapsed))
        }
        parts.append("events \(camera.events)")
        return parts.joined(separator: "  ")
    }

    /// `m:ss` or `h:mm:ss`.
    static func formatDuration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }
}

extension Duration {
    /// Seconds as a Double.
    var runSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

/// Runs async work from a synchronous command and waits for it.
///
/// Why: the root command is a synchronous `ParsableCommand`, and argument-parser only runs an async
/// subcommand under an async root; blocking the main thread (which is not one of the cooperative pool's
/// threads) on a semaphore is safe.
func runBlocking(_ body: @escaping @Sendable () async throws -> Void) throws {
    final class Outcome: @unchecked Sendable {
        var error: (any Error)?
    }
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { try await body() } catch { outcome.error = error }
        done.signal()
    }
    done.wait()
    if let error = outcome.error { throw error }
}
