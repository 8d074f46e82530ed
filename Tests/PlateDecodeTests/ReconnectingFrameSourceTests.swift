import Foundation
import Logging
import Testing
import PlateCore
@testable import PlateDecode

/// `ReconnectingFrameSource` over scripted sessions: renumbering across sessions, stats, close.
@Suite struct ReconnectingFrameSourceTests {
    /// A session that decodes `frames` frames (index k at k/25 s), delivers every `every`th, and then fails
    /// with `failure`, or ends.
    final class ScriptedSession: FrameSource, @unchecked Sendable {
        let frames: Int
        let every: Int
        let failure: DecodeError?
        private var next = 0
        private var delivered = 0
        private(set) var closed = false
        init(frames: Int, every: Int = 1, failure: DecodeError?) {
            self.frames = frames
            self.every = every
            self.failure = failure
        }
        var sourceDescription: String { "scripted" }
        var info: StreamInfo {
            StreamInfo(container: "scripted", codec: "raw", width: 2, height: 2, fps: 25, durationSeconds: nil,
                       frameCount: nil, bitRate: nil, isLive: true)
        }
        var stats: SourceStats {
            var s = SourceStats()
            s.decoded = next
            s.delivered = delivered
            s.droppedBySampling = next - delivered
            return s
        }
        func nextFrame() throws -> Frame? {
            while next < frames {
                let index = next
                next += 1
                guard index % every == 0 else { continue }
                delivered += 1
                return Frame(cameraID: "cam", index: index, mediaTime: MediaTime(value: Int64(index), timescale: 25),
                             wallClock: Date(), image: Image(width: 2, height: 2, format: .gray8))
            }
            if let failure { throw failure }
            return nil
        }
        func close() { closed = true }
    }

    /// Hands out a scripted list of sessions (nil: the open fails), then fails every further open.
    final class Script: @unchecked Sendable {
        private let lock = NSLock()
        private var plan: [ScriptedSession?]
        private(set) var opens = 0
        init(_ plan: [ScriptedSession?]) { self.plan = plan }
        func open() throws -> any FrameSource {
            try lock.withLock {
                opens += 1
                guard !plan.isEmpty, let session = plan.removeFirst() else {
                    throw DecodeError(.connectionRefused, source: "rtsp://user:secret@cam/stream")
                }
                return session
            }
        }
    }

    private let fast = Backoff(initial: .milliseconds(1), maximum: .milliseconds(4), multiplier: 2, jitter: 0.5)
    private let streamEnded = DecodeError(.streamEnded, source: "rtsp://user:secret@cam/stream")

    @Test func continuesIndexAndMediaTimeAcrossSessions() throws {
        let script = Script([
            ScriptedSession(frames: 5, failure: streamEnded),
            nil, nil,  // two failed attempts
            ScriptedSession(frames: 4, failure: nil),  // ends "cleanly": for a live source that is a failure too
            ScriptedSession(frames: 6, failure: streamEnded),
        ])
        let source = ReconnectingFrameSource(sourceDescription: "rtsp://user:secret@cam/stream", backoff: fast,
                                             random: { 0.5 }) { _ in try script.open() }
        #expect(source.sourceDescription == "rtsp://user:***@cam/stream")
        var frames: [Frame] = []
        for _ in 0..<15 { frames.append(try #require(try source.nextFrame())) }
        #expect(frames.map(\.index) == Array(0..<15))
        for (a, b) in zip(frames, frames.dropFirst()) {
            #expect(a.mediaTime < b.mediaTime, "media time must increase: \(a.mediaTime) then \(b.mediaTime)")
        }
        // Within a session the session's own clock is kept exactly.
        #expect(frames[4].mediaTime == MediaTime(value: 4, timescale: 25))
        // A later session continues at least one frame after the previous one.
        #expect(frames[5].mediaTime.seconds >= frames[4].mediaTime.seconds + 0.04 - 1e-6)
        let stats = source.stats
        #expect(stats.reconnects == 2)
        #expect(stats.delivered == 15 && stats.decoded == 15)
        #expect(script.opens == 5)
        source.close()
        #expect(throws: DecodeError.self) { try source.nextFrame() }
    }

    @Test func indicesCountFramesDroppedBySamplingAcrossSessions() throws {
        // Each session decodes 7 frames and delivers 0, 3, 6 of them (sampling), then drops the connection.
        let script = Script([
            ScriptedSession(frames: 7, every: 3, failure: streamEnded),
            ScriptedSession(frames: 7, every: 3, failure: streamEnded),
        ])
        let source = ReconnectingFrameSource(sourceDescription: "rtsp://cam/s", backoff: fast) { _ in try script.open() }
        defer { source.close() }
        var indices: [Int] = []
        for _ in 0..<6 { indices.append(try #require(try source.nextFrame()).index) }
        // The second session's frames follow all 7 frames decoded by the first, not its last delivered one.
        #expect(indices == [0, 3, 6, 7, 10, 13])
        #expect(source.stats.droppedBySampling >= 4)
    }

    @Test func closeInterruptsABackoffWait() async throws {
        let script = Script([])
        let source = ReconnectingFrameSource(sourceDescription: "rtsp://cam/s",
                                             backoff: Backoff(initial: .seconds(600), maximum: .seconds(600)),
                                             random: { 0 }) { _ in try script.open() }
        // nextFrame() blocks in a 10-minute backoff wait, on a thread of its own (not the test's). The
        // answer is what it threw, or nil if it returned a frame or was still blocked after 120 s (a
        // generous guard against hanging the run, not a timing assertion: a working close returns at once).
        let answer = FirstAnswer()
        async let outcome: (any Error)? = withCheckedContinuation { continuation in
            answer.start(continuation)
            Thread.detachNewThread {
                do {
                    _ = try source.nextFrame()
                    answer.give(nil)
                } catch {
                    answer.give(error)
                }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + 120) { answer.give(nil) }
        }
        // Wait until the first attempt failed and the source is waiting, then close.
        while script.opens == 0 { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(50))
        source.close()
        let error = try #require(await outcome as? DecodeError)
        #expect(error.code == .closed)
    }

    @Test func closeClosesTheOpenSessionAndRaisesTheStopSignal() throws {
        let session = ScriptedSession(frames: 100, failure: nil)
        let signals = SignalBox()
        let source = ReconnectingFrameSource(sourceDescription: "rtsp://cam/s", backoff: fast) { stop in
            signals.set(stop)
            return session
        }
        _ = try source.nextFrame()
        source.close()
        #expect(session.closed)
        #expect(signals.get()?.isStopped == true)
        let error = try #require(throws: DecodeError.self) { try source.nextFrame() }
        #expect(error.code == .closed)
    }

    @Test func infoComesFromTheOpenSession() throws {
        let source = ReconnectingFrameSource(sourceDescription: "rtsp://cam/s", backoff: fast) { _ in
            ScriptedSession(frames: 1, failure: nil)
        }
        #expect(source.info.codec == "")
        _ = try source.nextFrame()
        #expect(source.info.codec == "raw" && source.info.width == 2)
        source.close()
    }
}

private final class SignalBox: @unchecked Sendable {
    private let lock = NSLock()
    private var signal: StopSignal?
    func set(_ signal: StopSignal) { lock.withLock { self.signal = signal } }
    func get() -> StopSignal? { lock.withLock { signal } }
}

/// Resumes a continuation with the first answer given; later answers are ignored.
private final class FirstAnswer: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<(any Error)?, Never>?
    func start(_ continuation: CheckedContinuation<(any Error)?, Never>) { lock.withLock { self.continuation = continuation } }
    func give(_ answer: (any Error)?) {
        let continuation = lock.withLock { () -> CheckedContinuation<(any Error)?, Never>? in
            defer { self.continuation = nil }
            return self.continuation
        }
        continuation?.resume(returning: answer)
    }
}
