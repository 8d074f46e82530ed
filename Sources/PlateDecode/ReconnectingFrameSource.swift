public import PlateCore
public import Logging
import Foundation

/// A live source that never gives up: it opens sessions from a factory (normally `FFmpegFrameSource`),
/// and after any failure waits with capped exponential backoff and jitter, then opens a new one,
/// forever, until `close()`. Each attempt is logged with the location redacted.
///
/// Frame indices and media times continue across sessions: a new session's first frame follows the
/// last frame of the previous one by the wall-clock time between them, so `mediaTime` is the position
/// since the stream began and both keep increasing. `nextFrame()` only throws `DecodeError.closed`.
public final class ReconnectingFrameSource: FrameSource, @unchecked Sendable {
    /// Opens one session; `StopSignal` is raised when the wrapper closes, so a connection attempt in
    /// progress can give up at once.
    public typealias Factory = @Sendable (StopSignal) throws -> any FrameSource

    /// The location, password redacted.
    public let sourceDescription: String

    /// The current (or last) session's stream; before the first session, a placeholder with codec `""`.
    public var info: StreamInfo { lock.withLock { lastInfo } }

    /// Counters summed over all sessions, with `reconnects` counting sessions opened after a failure.
    public var stats: SourceStats {
        lock.withLock {
            var total = finishedStats
            if let current {
                let s = current.stats
                total.decoded += s.decoded
                total.delivered += s.delivered
                total.droppedBySampling += s.droppedBySampling
                total.notDecoded += s.notDecoded
                total.corruptPackets += s.corruptPackets
            }
            total.reconnects = policy.reconnects
            return total
        }
    }

    private let factory: Factory
    private let logger: Logger
    private let stop = StopSignal()

    // Guarded by `lock` (read by `stats`/`info`/`close` from any thread); `wake` is signalled on close.
    private let lock = NSCondition()
    private var policy: ReconnectPolicy
    private var current: (any FrameSource)?
    private var finishedStats = SourceStats()
    private var lastInfo: StreamInfo

    // Touched only by the thread in nextFrame() (serialised by `readLock`).
    private let readLock = NSLock()
    private var pending: ReconnectPolicy.Action?
    private var lastError: String = ""
    private var indexBase = 0
    private var timeOffset: MediaTime = .zero
    private var needsRebase = false
    private var last: (index: Int, mediaTime: MediaTime, wallClock: Date, frameDuration: Double)?

    /// Wraps `factory` with `backoff`; `random` supplies jitter (numbers in 0..<1).
    public init(sourceDescription: String, backoff: Backoff = Backoff(),
                logger: Logger = Logger(label: "platestream.decode"),
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                factory: @escaping Factory) {
        self.sourceDescription = SourceURL.redacted(sourceDescription)
        self.factory = factory
        var logger = logger
        logger[metadataKey: "source"] = "\(self.sourceDescription)"
        self.logger = logger
        self.policy = ReconnectPolicy(backoff: backoff, random: random)
        self.lastInfo = StreamInfo(container: "", codec: "", width: 0, height: 0, fps: 0, durationSeconds: nil,
                                   frameCount: nil, bitRate: nil, isLive: true)
    }

    /// Reconnects to `location` with `FFmpegFrameSource` sessions opened with `options`.
    public convenience init(location: String, cameraID: CameraID? = nil, options: DecodeOptions = DecodeOptions(),
                            backoff: Backoff = Backoff(), logger: Logger = Logger(label: "platestream.decode")) {
        self.init(sourceDescription: location, backoff: backoff, logger: logger) { stop in
            try FFmpegFrameSource(location: location, cameraID: cameraID, options: options, logger: logger, stop: stop)
        }
    }

    /// The next frame, reconnecting as often as it takes. Throws only `DecodeError` `.closed`.
    public func nextFrame() throws -> Frame? {
        readLock.lock()
        defer { readLock.unlock() }
        var action = pending ?? lock.withLock { policy.handle(.start) }
        while true {
            if stop.isStopped { action = .stop }
            switch action {
            case .connect(let attempt):
                action = connect(attempt: attempt)
            case .wait(let delay, let attempt):
                logger.info("reconnecting in \(String(format: "%.2f", delay.seconds)) s (attempt \(attempt)) after: \(lastError)")
                action = sleep(delay) ? lock.withLock { policy.handle(.delayElapsed) } : .stop
            case .readFrames:
                let session = lock.withLock { current }
                guard let session else {
                    action = lock.withLock { policy.handle(.failed) }
                    continue
                }
                do {
                    if let frame = try session.nextFrame() {
                        let adjusted = continueTimeline(frame, session: session)
                        pending = lock.withLock { policy.handle(.frameDelivered) }
                        return adjusted
                    }
                    lastError = "\(sourceDescription): stream ended"
                } catch {
                    lastError = redactingCredentials(String(describing: error))
                }
                if stop.isStopped { action = .stop; continue }
                logger.warning("session failed: \(lastError)")
                endSession()
                action = lock.withLock { policy.handle(.failed) }
            case .stop:
                pending = .stop
                endSession()
                throw DecodeError(.closed, source: sourceDescription)
            case .none:
                // Not reachable from the states this loop drives; treat like a failure to stay alive.
                action = lock.withLock { policy.handle(.failed) }
            }
        }
    }

    /// Stops: a blocked `nextFrame()` (reading, connecting or waiting) throws `.closed` soon after.
    public func close() {
        stop.stop()
        lock.lock()
        _ = policy.handle(.closeRequested)
        let session = current
        lock.broadcast()
        lock.unlock()
        session?.close()
    }

    private func connect(attempt: Int) -> ReconnectPolicy.Action {
        if stop.isStopped { return .stop }
        logger.info("connecting (attempt \(attempt))")
        do {
            let session = try factory(stop)
            return lock.withLock {
                current = session
                lastInfo = session.info
                needsRebase = true
                let action = policy.handle(.opened)
                if policy.state == .closed { session.close() }
                return action
            }
        } catch {
            lastError = redactingCredentials(String(describing: error))
            if stop.isStopped { return .stop }
            logger.warning("connection failed: \(lastError)")
            return lock.withLock { policy.handle(.failed) }
        }
    }

    private func endSession() {
        lock.withLock {
            guard let session = current else { return }
            let s = session.stats
            finishedStats.decoded += s.decoded
            finishedStats.delivered += s.delivered
            finishedStats.droppedBySampling += s.droppedBySampling
            finishedStats.notDecoded += s.notDecoded
            finishedStats.corruptPackets += s.corruptPackets
            current = nil
            session.close()
        }
    }

    /// Waits `delay` unless closed first; false when closed.
    private func sleep(_ delay: Duration) -> Bool {
        let until = Date(timeIntervalSinceNow: delay.seconds)
        lock.lock()
        defer { lock.unlock() }
        while policy.state != .closed {
            if !lock.wait(until: until) { return policy.state != .closed }
        }
        return false
    }

    /// Renumbers a session's frame onto the source's timeline.
    private func continueTimeline(_ frame: Frame, session: any FrameSource) -> Frame {
        if needsRebase {
            needsRebase = false
            if let last {
                // The new session counts from 0. Indices continue after every frame decoded so far
                // (delivered or dropped by sampling); media time continues after the last frame by the
                // wall-clock gap (at least one frame), less where the session's own clock starts.
                indexBase = lock.withLock { finishedStats.decoded }
                let gap = max(frame.wallClock.timeIntervalSince(last.wallClock), last.frameDuration)
                timeOffset = MediaTime(seconds: last.mediaTime.seconds + gap - frame.mediaTime.seconds)
            }
        }
        let index = indexBase + frame.index
        let mediaTime = timeOffset == .zero ? frame.mediaTime : MediaTime.adding(frame.mediaTime, timeOffset)
        let fps = session.info.fps
        last = (index, mediaTime, frame.wallClock, fps > 0 ? 1 / fps : 0.001)
        // The picture as the session made it (planes stay planes) and its first-pass copy: dropping `scaled` here
        // made every live camera's first pass shrink the full picture again.
        return Frame(cameraID: frame.cameraID, index: index, mediaTime: mediaTime, wallClock: frame.wallClock,
                     picture: frame.picture, scaled: frame.scaled)
    }
}

extension MediaTime {
    /// `a + b`, exact when `b`'s timescale divides `a`'s (microsecond offsets on 90 kHz or µs clocks),
    /// else at microsecond precision.
    static func adding(_ a: MediaTime, _ b: MediaTime) -> MediaTime {
        if a.timescale % b.timescale == 0 {
            let scale = a.timescale / b.timescale
            return MediaTime(value: a.value + b.value * scale, timescale: a.timescale)
        }
        return MediaTime(seconds: a.seconds + b.seconds)
    }
}

/// Opens `location` the way its kind needs: files and pipes as one `FFmpegFrameSource` (open errors are
/// thrown here), live sources (RTSP, HTTP, devices) as a `ReconnectingFrameSource` that keeps trying,
/// unless `reconnect` is false.
public func makeFrameSource(location: String, cameraID: CameraID? = nil, options: DecodeOptions = DecodeOptions(),
                            reconnect: Bool = true, backoff: Backoff = Backoff(),
                            logger: Logger = Logger(label: "platestream.decode")) throws -> any FrameSource {
    if reconnect && SourceURL.kind(of: location).isLive {
        return ReconnectingFrameSource(location: location, cameraID: cameraID, options: options, backoff: backoff,
                                       logger: logger)
    }
    return try FFmpegFrameSource(location: location, cameraID: cameraID, options: options, logger: logger)
}
