import Foundation
import Logging
import PlateCore
import PlatePipeline
import PlateTesting
import Testing

/// A sink whose infrastructure fails for a while (a full disk) and then comes back: one error per outage in
/// the log, and with `retryAfterFailure` the events wait in memory, bounded, instead of being lost.
@Suite("Pipeline: sink outages")
struct PipelineSinkOutageTests {
    /// Four passages TRK1..TRK4 ending at frames 5, 15, 25, 35; the source waits at `pause` before frame
    /// `pauseAt`.
    private static func fourPassages(pause: TestGate, at pauseAt: Int) -> (ScriptedFrameSource, ScriptedRecognizer) {
        var script: [ScriptedFrameSource.Step] = []
        for index in 0..<40 {
            if index == pauseAt { script.append(.wait(pause)) }
            script.append(.frame(.init()))
        }
        var reads: [Int: [PlateRead]] = [:]
        for (n, start) in [0, 10, 20, 30].enumerated() {
            reads = reads.merging(plates("TRK\(n + 1)", from: start, scores: [0.8, 0.9, 0.7, 0.7, 0.7]))
        }
        return (ScriptedFrameSource(script: script), ScriptedRecognizer(platesByFrame: reads))
    }

    private static func configuration(_ log: LogLines) -> PipelineConfiguration {
        var configuration = testConfiguration()
        configuration.logger = Logger(label: "test") { _ in LinesLogHandler(lines: log) }
        return configuration
    }

    @Test("a failing sink logs one error for the whole outage, then one line when it delivers again")
    func oneErrorPerOutage() async throws {
        let pause = TestGate()
        let (source, recognizer) = Self.fourPassages(pause: pause, at: 20)  // after TRK1 and TRK2
        let log = LogLines()
        let sink = RecordingEventSink(behavior: .fail(RecordingEventSink.InjectedError()))
        let pipeline = try Pipeline(configuration: Self.configuration(log), cameras: [camera(source)], recognizer: recognizer,
                                    sinks: [SinkRegistration(name: "disk", eventSink: sink)])
        Task.detached { await pipeline.run() }
        try #require(await eventually { sink.failures == 2 })
        sink.behavior = .record
        pause.open()
        try #require(await eventually { pipeline.isFinished })
        #expect(sink.events.compactMap { $0.plate?.text } == ["TRK3", "TRK4"])
        #expect(pipeline.health()[sink: "disk"]?.failures == 2)
        let errors = log.lines.filter { $0.contains("sink cannot deliver events") }
        #expect(errors.count == 1, "\(log.lines)")
        #expect(errors.first?.contains("failed events are counted and dropped") == true)
        #expect(log.lines.filter { $0.contains("sink delivers again") }.count == 1, "\(log.lines)")
    }

    @Test("with retryAfterFailure the events wait in memory, the oldest dropped past the capacity, and go out in order once the sink recovers")
    func retriedEventsWaitBounded() async throws {
        // The source holds after the last event: a pipeline that is closing gives failed events one last try only.
        let pause = TestGate()
        let (source, recognizer) = Self.fourPassages(pause: pause, at: 39)
        let log = LogLines()
        let sink = RecordingEventSink(behavior: .fail(RecordingEventSink.InjectedError()))
        let pipeline = try Pipeline(configuration: Self.configuration(log), cameras: [camera(source)], recognizer: recognizer,
                                    sinks: [SinkRegistration(name: "outbox", capacity: 3, sink: EventSinkAdapter(sink),
                                                             retryAfterFailure: .milliseconds(20))])
        Task.detached { await pipeline.run() }
        // All four events reached the sink's queue of three while it kept failing: exactly one (TRK1) went.
        try #require(await eventually { pipeline.health().cameras.first?.events == 4 && sink.failures >= 4 })
        let during = try #require(pipeline.health()[sink: "outbox"])
        #expect(during.dropped == 1)
        #expect(during.delivered == 0)
        sink.behavior = .record
        try #require(await eventually { sink.events.count == 3 })
        pause.open()
        try #require(await eventually { pipeline.isFinished })
        #expect(sink.events.compactMap { $0.plate?.text } == ["TRK2", "TRK3", "TRK4"])
        #expect(pipeline.health()[sink: "outbox"]?.delivered == 3)
        let errors = log.lines.filter { $0.contains("sink cannot deliver events") }
        #expect(errors.count == 1, "\(log.lines)")
        #expect(errors.first?.contains("they wait in memory") == true)
        #expect(log.lines.filter { $0.contains("sink delivers again") }.count == 1)
    }
}

/// Log lines captured in memory, thread-safe.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ line: String) { lock.withLock { items.append(line) } }
    var lines: [String] { lock.withLock { items } }
}

/// A swift-log handler appending "LEVEL message metadata" lines to a `LogLines`.
struct LinesLogHandler: LogHandler {
    let lines: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        lines.append("\(event.level) \(event.message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })")
    }
}
