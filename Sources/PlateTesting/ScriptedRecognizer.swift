import Foundation
public import PlateCore

/// Errors the fake recognizers throw.
public struct ScriptedRecognizerError: Error, Hashable, Sendable {
    /// The frame whose recognition was told to fail (nil when the image carried no stamp).
    public let frameIndex: Int?

    /// An injected failure for `frameIndex`.
    public init(frameIndex: Int?) { self.frameIndex = frameIndex }
}

/// What a fake recognizer was asked, in call order.
public struct RecognizerCall: Equatable, Sendable {
    /// The stamp of the image (nil when it carried none).
    public var stamp: ImageStamp?
    /// The options it was called with.
    public var options: RecognitionOptions

    /// A call record.
    public init(stamp: ImageStamp?, options: RecognitionOptions) {
        self.stamp = stamp
        self.options = options
    }
}

/// Counts calls and concurrency for the fake recognizers; thread-safe.
final class CallLog: @unchecked Sendable {
    // Why @unchecked: every var is guarded by `lock`.
    private let lock = NSLock()
    private var calls: [RecognizerCall] = []
    private var running = 0
    private var maxRunning = 0
    private var completed = 0

    func begin(_ call: RecognizerCall) {
        lock.withLock {
            calls.append(call)
            running += 1
            maxRunning = max(maxRunning, running)
        }
    }

    func end() { lock.withLock { running -= 1; completed += 1 } }

    var snapshot: (calls: [RecognizerCall], maxRunning: Int, completed: Int, running: Int) {
        lock.withLock { (calls, maxRunning, completed, running) }
    }
}

/// A `PlateRecognizer` that answers from a script keyed by the frame's `ImageStamp`, optionally slowly
/// (`delay`, like an overloaded CPU) or held at a `TestGate`, and records every call.
///
/// The stamp is how it knows which frame it got: the pipeline calls it from several threads in no
/// particular order, so "the n-th call" would not be deterministic.
public final class ScriptedRecognizer: PlateRecognizer, @unchecked Sendable {
    // Why @unchecked: the script, delay and gate are immutable; `log` is thread-safe.

    /// Makes the result for one image: its stamp (nil if none), the image, the options.
    public typealias Script = @Sendable (ImageStamp?, Image, RecognitionOptions) throws -> RecognitionResult

    private let script: Script
    private let delay: Duration?
    private let gate: TestGate?
    private let log = CallLog()

    /// A recognizer answering with `script`, after `delay` and after `gate` opens, when given.
    public init(delay: Duration? = nil, gate: TestGate? = nil, script: @escaping Script) {
        self.script = script
        self.delay = delay
        self.gate = gate
    }

    /// A recognizer that reads `platesByFrame[frameIndex]` (nothing for other frames) in every image,
    /// whatever its tag, and throws `ScriptedRecognizerError` for `failingFrames`.
    public convenience init(platesByFrame: [Int: [PlateRead]] = [:], failingFrames: Set<Int> = [],
                            delay: Duration? = nil, gate: TestGate? = nil) {
        self.init(delay: delay, gate: gate) { stamp, image, _ in
            let index = stamp?.frameIndex
            if let index, failingFrames.contains(index) { throw ScriptedRecognizerError(frameIndex: index) }
            return RecognitionResult(imageSize: ImageSize(width: image.width, height: image.height),
                                     plates: index.flatMap { platesByFrame[$0] } ?? [])
        }
    }

    /// Waits for the gate, sleeps the delay, then answers from the script.
    public func recognize(_ image: Image, options: RecognitionOptions) throws -> RecognitionResult {
        let stamp = ImageStamp(reading: image)
        log.begin(RecognizerCall(stamp: stamp, options: options))
        defer { log.end() }
        gate?.wait()
        if let delay { Thread.sleep(forTimeInterval: delay.timeInterval) }
        return try script(stamp, image, options)
    }

    /// Every call so far, in the order they started.
    public var calls: [RecognizerCall] { log.snapshot.calls }
    /// Calls started so far.
    public var callCount: Int { log.snapshot.calls.count }
    /// Calls finished (returned or thrown) so far.
    public var completedCount: Int { log.snapshot.completed }
    /// Calls running right now.
    public var runningCount: Int { log.snapshot.running }
    /// The most calls that ran at the same time.
    public var maxConcurrentCalls: Int { log.snapshot.maxRunning }
}

/// A `PlateRecognizer` that sleeps `delay` on every call and then asks `inner` (by default one that
/// finds nothing): an overloaded CPU, for back-pressure and drop tests.
public final class SlowRecognizer: PlateRecognizer, @unchecked Sendable {
    // Why @unchecked: `inner` is Sendable by protocol, `delay` immutable, `log` thread-safe.
    private let inner: any PlateRecognizer
    private let delay: Duration
    private let log = CallLog()

    /// Wraps `inner`, sleeping `delay` per call (e.g. `.milliseconds(50)`).
    public init(delay: Duration, wrapping inner: any PlateRecognizer = ScriptedRecognizer()) {
        self.delay = delay
        self.inner = inner
    }

    /// Sleeps, then delegates.
    public func recognize(_ image: Image, options: RecognitionOptions) throws -> RecognitionResult {
        log.begin(RecognizerCall(stamp: ImageStamp(reading: image), options: options))
        defer { log.end() }
        Thread.sleep(forTimeInterval: delay.timeInterval)
        return try inner.recognize(image, options: options)
    }

    /// Calls started so far.
    public var callCount: Int { log.snapshot.calls.count }
    /// Calls finished so far.
    public var completedCount: Int { log.snapshot.completed }
    /// The most calls that ran at the same time.
    public var maxConcurrentCalls: Int { log.snapshot.maxRunning }
    /// Every call so far, in the order they started.
    public var calls: [RecognizerCall] { log.snapshot.calls }
}
