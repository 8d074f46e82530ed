import Foundation
import Logging
import PlateCore

/// A frame waiting for a recognition worker.
struct QueuedFrame: Sendable {
    let frame: Frame
    let enqueuedAt: ContinuousClock.Instant
    /// Where the first pass should look (the motion gate's changed areas); nil: everywhere.
    var searchAreas: [BoundingBox]? = nil
}

/// A frame whose recognition finished (or threw), waiting for its turn at the tracker.
struct Completion: Sendable {
    let frame: Frame
    let outcome: Result<RecognitionResult, any Error>
}

/// A frame a worker took, with its per-camera sequence number.
struct Job: Sendable {
    let camera: Int
    let sequence: Int
    let queued: QueuedFrame
    /// Recognize in `mode: fast`: the camera is behind (`PipelineConfiguration.degradeWhenBehind`).
    let degraded: Bool
}

/// Closes a source from another thread. `FrameSource.close()` is documented safe from any thread;
/// nothing else of the source is touched through this box.
final class SourceCloser: @unchecked Sendable {
    // Why @unchecked: FrameSource is not Sendable (nextFrame is single-threaded), but close() is
    // thread-safe by contract and is the only method called through this box.
    private let source: any FrameSource
    init(_ source: any FrameSource) { self.source = source }
    func close() { source.close() }
}

/// The scheduling and bookkeeping state of one camera, inside the pipeline's lock.
///
/// Sequence numbers: a frame gets the camera's next `sequence` when a worker takes it from the queue
/// (not when it is decoded), so the frames that reach workers are numbered without gaps and dropped
/// frames never leave a hole the tracker would wait for. Workers finish in any order; `ready` holds the
/// results until `nextTrackSeq` comes up.
struct CameraSlot {
    var policy: OverflowPolicy = .dropOldest
    /// Whether a frame taken while the camera is behind goes to recognition in `mode: fast`.
    var degradable = false
    var pending: [QueuedFrame] = []
    var nextDequeueSeq = 0
    var nextTrackSeq = 0
    var trackedCount = 0
    var ready: [Int: Completion] = [:]
    /// Whether some thread is running this camera's tracker now (see `Pipeline.drain`).
    var draining = false
    var phase: CameraState = .starting
    var end: CameraEnd?
    var sourceEnded = false
    var flushed = false
    var closer: SourceCloser?
    var sourceDescription: String?
    var lastMediaTime: MediaTime?
    var sourceStats = SourceStats()
    var reportedReconnects = 0

    var decoded = 0
    /// Frames the motion gate kept from recognition.
    var skipped = 0
    /// Frames recognized in `mode: fast` because the camera was behind.
    var degraded = 0
    /// Tracks alive in the camera's tracker after the last frame it took (read by the motion gate).
    var liveTracks = 0
    var recognized = 0
    var dropped = 0
    var recognitionErrors = 0
    var events = 0
    var suppressed = 0
    var decoderWaits = 0
    var queueHighWater = 0
    var heldHighWater = 0
    var retained = 0
    var retainedHighWater = 0
    var imagesUnavailable = 0
    var lag: Double?
    var maxLag: Double?
    var lastError: String?
    var inputRate = RateWindow()
    var recognizedRate = RateWindow()

    /// Frames taken by workers and not yet through the tracker.
    var inFlight: Int { nextDequeueSeq - trackedCount }
    /// Frames whose images are held for recognition.
    var held: Int { pending.count + inFlight }

    mutating func noteHeld() {
        queueHighWater = max(queueHighWater, pending.count)
        heldHighWater = max(heldHighWater, held)
    }
}

/// Everything the pipeline's threads share, guarded by one lock: each operation under it is O(cameras)
/// at most, so one lock is simpler than several and costs nothing measurable.
struct PipelineState {
    var cameras: [CameraSlot]
    /// Workers recognizing a frame now.
    var activeWorkers = 0
    var workersHighWater = 0
    /// Round-robin position: the camera the next free worker looks at first, for fairness.
    var cursor = 0
    var started = false
    var stopRequested = false
    var endedCameras = 0
    var sinksClosing = false
    var finished = false
    var waiters: [CheckedContinuation<Void, Never>] = []

    /// Whether some camera has a queued frame a worker may take.
    func hasEligibleWork(maxInFlight: Int) -> Bool {
        cameras.contains { !$0.pending.isEmpty && $0.inFlight < maxInFlight }
    }

    /// Takes the next frame, round-robin over cameras, or nil when there is nothing a worker may take. A frame of
    /// a degradable live camera with another of its frames waiting behind it is marked degraded.
    mutating func takeJob(maxInFlight: Int) -> Job? {
        let count = cameras.count
        for step in 0..<count {
            let index = (cursor + step) % count
            guard !cameras[index].pending.isEmpty, cameras[index].inFlight < maxInFlight else { continue }
            cursor = (index + 1) % count
            let queued = cameras[index].pending.removeFirst()
            let sequence = cameras[index].nextDequeueSeq
            cameras[index].nextDequeueSeq += 1
            cameras[index].noteHeld()
            // A file's decoder waits for room and always has the next frame queued: only a live camera is behind.
            let degraded = cameras[index].degradable && cameras[index].policy == .dropOldest && !cameras[index].pending.isEmpty
            if degraded { cameras[index].degraded += 1 }
            return Job(camera: index, sequence: sequence, queued: queued, degraded: degraded)
        }
        return nil
    }
}
