import Foundation
import Metrics
import PlateCore

/// The swift-metrics instruments of one camera, created once (the `camera` dimension is fixed).
///
/// Names follow Prometheus conventions; durations are `Timer`s with milliseconds as the preferred
/// display unit, one `stage` dimension value per stage: `decode` (time blocked in `nextFrame()`), `gate` (the
/// motion gate's thumbnail and decision),
/// `queue` (a frame's wait for a worker), `recognize`, `track` (tracker + image bookkeeping per frame).
struct CameraMetrics: Sendable {
    let decoded: Counter
    let recognized: Counter
    let dropped: Counter
    let skipped: Counter
    let degraded: Counter
    let recognitionErrors: Counter
    let sourceErrors: Counter
    let reconnects: Counter
    let events: Counter
    let inputFPS: Gauge
    let recognizedFPS: Gauge
    let lag: Gauge
    let queueDepth: Gauge
    let framesHeld: Gauge
    let retainedImages: Gauge
    let decode: Metrics.Timer
    let gate: Metrics.Timer
    let queueWait: Metrics.Timer
    let recognize: Metrics.Timer
    let track: Metrics.Timer

    init(camera: CameraID, factory: any MetricsFactory) {
        let dims = [("camera", camera.rawValue)]
        func counter(_ label: String) -> Counter { Counter(label: label, dimensions: dims, factory: factory) }
        func gauge(_ label: String) -> Gauge { Gauge(label: label, dimensions: dims, factory: factory) }
        func timer(_ stage: String) -> Metrics.Timer {
            Metrics.Timer(label: "platestream_stage_duration", dimensions: dims + [("stage", stage)],
                          preferredDisplayUnit: .milliseconds, factory: factory)
        }
        decoded = counter("platestream_frames_decoded_total")
        recognized = counter("platestream_frames_recognized_total")
        dropped = counter("platestream_frames_dropped_total")
        skipped = counter("platestream_frames_skipped_total")
        degraded = counter("platestream_frames_degraded_total")
        recognitionErrors = counter("platestream_recognition_errors_total")
        sourceErrors = counter("platestream_source_errors_total")
        reconnects = counter("platestream_source_reconnects_total")
        events = counter("platestream_events_total")
        inputFPS = gauge("platestream_input_fps")
        recognizedFPS = gauge("platestream_recognized_fps")
        lag = gauge("platestream_lag_seconds")
        queueDepth = gauge("platestream_queue_depth")
        framesHeld = gauge("platestream_frames_held")
        retainedImages = gauge("platestream_retained_images")
        decode = timer("decode")
        gate = timer("gate")
        queueWait = timer("queue")
        recognize = timer("recognize")
        track = timer("track")
    }
}

/// The swift-metrics instruments of one sink (`sink` dimension).
struct SinkMetrics: Sendable {
    let delivered: Counter
    let failures: Counter
    let dropped: Counter
    let queueDepth: Gauge
    let deliver: Metrics.Timer

    init(sink: String, factory: any MetricsFactory) {
        let dims = [("sink", sink)]
        delivered = Counter(label: "platestream_sink_delivered_total", dimensions: dims, factory: factory)
        failures = Counter(label: "platestream_sink_failures_total", dimensions: dims, factory: factory)
        dropped = Counter(label: "platestream_sink_dropped_total", dimensions: dims, factory: factory)
        queueDepth = Gauge(label: "platestream_sink_queue_depth", dimensions: dims, factory: factory)
        deliver = Metrics.Timer(label: "platestream_sink_duration", dimensions: dims,
                                preferredDisplayUnit: .milliseconds, factory: factory)
    }
}

extension Metrics.Timer {
    /// Records the time from `start` to now.
    func record(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// Whether the `count`-th occurrence of a repeating problem should be logged: the first few, then one
/// in a thousand, so a model that fails on every frame does not flood the log.
func shouldLog(occurrence count: Int) -> Bool { count <= 3 || count % 1000 == 0 }
