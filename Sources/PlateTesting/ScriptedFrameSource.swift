public import Foundation
public import PlateCore

/// Errors a `ScriptedFrameSource` throws.
public struct ScriptedSourceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, for assertions and logs.
    public let message: String

    /// An error with `message`.
    public init(_ message: String) { self.message = message }

    /// `nextFrame()` after `close()`, or a blocked `nextFrame()` that `close()` woke.
    public static let closed = ScriptedSourceError("closed")
    /// The failure `ScriptedFrameSource.frames(..., failAt:)` injects.
    public static let injected = ScriptedSourceError("injected failure")

    /// The message.
    public var description: String { message }
}

/// A `FrameSource` that plays a script: frames of synthetic images at given media times, pauses,
/// failures, reconnections, a clean end or a live stream that never ends.
///
/// Every frame's image carries an `ImageStamp` (the source's `tag`, the frame's index), so fakes
/// downstream know which frame they got. Counters (`framesDelivered`, `finishedPulling`, `closeCount`)
/// let tests check what the consumer pulled. Thread-safe: `close()` wakes a blocked `nextFrame()`.
public final class ScriptedFrameSource: FrameSource, @unchecked Sendable {
    // Why @unchecked: all mutable state is guarded by `condition`; the script itself is immutable.

    /// One step of a script.
    public enum Step: Sendable {
        /// Deliver a frame.
        case frame(ScriptedFrame)
        /// Sleep this long before the next step (a slow camera); `close()` cuts it short.
        case delay(Duration)
        /// Block until `gate` opens (or the source closes).
        case wait(TestGate)
        /// Throw this error from `nextFrame()`; the script goes on after it if called again.
        case fail(any Error)
        /// Count a reconnection in `stats.reconnects` (what a reconnecting live source reports).
        case reconnect
        /// The clean end of a finite source: `nextFrame()` returns nil from now on.
        case end
        /// A live stream with nothing more to send: block until `close()`, then throw `.closed`.
        case stall
    }

    /// A frame in a script.
    public struct ScriptedFrame: Sendable {
        /// Width in pixels (at least 6, for the stamp).
        public var width: Int
        /// Height in pixels.
        public var height: Int
        /// Fill colour.
        public var color: TestColor
        /// Media time; nil uses `index / fps`.
        public var mediaTime: MediaTime?
        /// Wall-clock time; nil uses the source's clock at delivery.
        public var wallClock: Date?

        /// A frame description.
        public init(width: Int = 64, height: Int = 48, color: TestColor = .gray, mediaTime: MediaTime? = nil,
                    wallClock: Date? = nil) {
            self.width = width
            self.height = height
            self.color = color
            self.mediaTime = mediaTime
            self.wallClock = wallClock
        }
    }

    /// The camera the frames claim to come from.
    public let cameraID: CameraID
    /// The tag written into every frame's stamp.
    public let tag: UInt32
    /// Nominal frames per second, for default media times.
    public let fps: Int
    /// What `sourceDescription` says.
    public let sourceDescription: String
    /// Stream properties: raw frames, the first frame's size, `fps`, live or not.
    public let info: StreamInfo

    private let script: [Step]
    private let clock: (@Sendable () -> Date)?
    private let condition = NSCondition()
    private var position = 0
    private var nextIndex = 0
    private var statsStorage = SourceStats()
    private var closed = false
    private var closes = 0
    private var calls = 0
    private var finished = false

    /// A source playing `script`. `clock` gives frames' wall-clock time (default: `Date()`).
    /// After the last step the source ends cleanly (as if the script ended with `.end`).
    public init(cameraID: CameraID = "camera-1", sourceDescription: String? = nil, tag: UInt32 = 0, fps: Int = 25,
                isLive: Bool = false, clock: (@Sendable () -> Date)? = nil, script: [Step]) {
        precondition(fps > 0, "fps must be positive")
        self.cameraID = cameraID
        self.tag = tag
        self.fps = fps
        self.sourceDescription = sourceDescription ?? "scripted://\(cameraID)"
        self.clock = clock
        self.script = script
        let frames = script.compactMap { step -> ScriptedFrame? in
            if case .frame(let frame) = step { return frame }
            return nil
        }
        self.info = StreamInfo(container: "scripted", codec: "rawvideo", width: frames.first?.width ?? 64,
                               height: frames.first?.height ?? 48, fps: Double(fps),
                               durationSeconds: isLive ? nil : Double(frames.count) / Double(fps),
                               frameCount: isLive ? nil : frames.count, bitRate: nil, isLive: isLive)
    }

    /// `count` identical frames, optionally `delay` apart, optionally throwing `ScriptedSourceError.injected`
    /// instead of delivering frame `failAt`; then a clean end, or for `isLive` a stall until `close()`.
    public static func frames(_ count: Int, cameraID: CameraID = "camera-1", tag: UInt32 = 0, fps: Int = 25,
                              width: Int = 64, height: Int = 48, color: TestColor = .gray,
                              delay: Duration? = nil, failAt: Int? = nil, isLive: Bool = false,
                              clock: (@Sendable () -> Date)? = nil) -> ScriptedFrameSource {
        var script: [Step] = []
        for index in 0..<count {
            if index == failAt {
                script.append(.fail(ScriptedSourceError.injected))
                break
            }
            if let delay { script.append(.delay(delay)) }
            script.append(.frame(ScriptedFrame(width: width, height: height, color: color)))
        }
        script.append(isLive ? .stall : .end)
        return ScriptedFrameSource(cameraID: cameraID, tag: tag, fps: fps, isLive: isLive, clock: clock,
                                   script: script)
    }

    /// Counters: `decoded` and `delivered` count frames handed out, `reconnects` the `.reconnect` steps.
    public var stats: SourceStats { condition.withLock { statsStorage } }

    /// Frames handed out so far.
    public var framesDelivered: Int { condition.withLock { statsStorage.delivered } }
    /// Calls to `nextFrame()` so far.
    public var nextFrameCalls: Int { condition.withLock { calls } }
    /// Whether the script reached its end, a failure, or a stall (nothing more will be pulled).
    public var finishedPulling: Bool { condition.withLock { finished } }
    /// Calls to `close()` so far.
    public var closeCount: Int { condition.withLock { closes } }
    /// Whether `close()` was called.
    public var isClosed: Bool { condition.withLock { closed } }

    /// Plays the script up to the next frame, end, failure or stall.
    public func nextFrame() throws -> Frame? {
        condition.lock()
        defer { condition.unlock() }
        calls += 1
        while true {
            if closed { throw ScriptedSourceError.closed }
            guard position < script.count else {
                finished = true
                return nil
            }
            let step = script[position]
            switch step {
            case .frame(let scripted):
                position += 1
                return makeFrame(scripted)
            case .delay(let duration):
                position += 1
                let deadline = Date().addingTimeInterval(duration.timeInterval)
                while !closed && condition.wait(until: deadline) {}
            case .wait(let gate):
                // Why not gate.wait() under our lock: close() must be able to take the lock and wake us.
                condition.unlock()
                while !gate.wait(timeout: .milliseconds(20)) && !isClosed {}
                condition.lock()
                position += 1
            case .fail(let error):
                position += 1
                finished = true
                throw error
            case .reconnect:
                position += 1
                statsStorage.reconnects += 1
            case .end:
                finished = true
                return nil
            case .stall:
                finished = true
                while !closed { condition.wait() }
            }
        }
    }

    /// Stops the source; a blocked `nextFrame()` throws `ScriptedSourceError.closed` at once.
    public func close() {
        condition.lock()
        closed = true
        closes += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Called with `condition` held.
    private func makeFrame(_ scripted: ScriptedFrame) -> Frame {
        let index = nextIndex
        nextIndex += 1
        statsStorage.decoded += 1
        statsStorage.delivered += 1
        let image = SyntheticImage.make(width: scripted.width, height: scripted.height, color: scripted.color,
                                        stamp: ImageStamp(tag: tag, frameIndex: index))
        return Frame(cameraID: cameraID, index: index,
                     mediaTime: scripted.mediaTime ?? MediaTime(value: Int64(index), timescale: Int64(fps)),
                     wallClock: scripted.wallClock ?? clock?() ?? Date(), image: image)
    }
}
