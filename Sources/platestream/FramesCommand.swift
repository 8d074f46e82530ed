import ArgumentParser
import Dispatch
import Foundation
import Logging
import PlateCore
import PlateDecode
import PlateVision

/// The pixel format frames are converted to, as the command line spells it.
enum OutputFormatOption: String, CaseIterable, ExpressibleByArgument {
    case bgr24, rgb24, gray8

    var pixelFormat: PixelFormat {
        switch self {
        case .bgr24: .bgr24
        case .rgb24: .rgb24
        case .gray8: .gray8
        }
    }
}

/// `platestream frames <source>`: decodes and prints each frame's timestamp and the running rate, so a
/// user can check that a camera or file decodes, and how fast.
struct FramesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Decode a file or camera and print each frame's timestamp and the running frame rate.",
        discussion: """
        Live sources (rtsp://, http://, /dev/videoN) reconnect after failures until interrupted (Ctrl-C), \
        unless --no-reconnect is given. A summary line ends the output.
        """
    )

    @Argument(help: "A video file, rtsp://, http(s)://, /dev/videoN, or - for standard input.")
    var source: String

    @OptionGroup var input: SourceOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "Keep every Nth decoded frame.")
    var sample: Int = 1

    @Option(name: .customLong("max-fps"), help: "Deliver at most this many frames per second of video.")
    var maxFPS: Double?

    @Option(name: .customLong("save-every"), parsing: .upToNextOption,
            help: ArgumentHelp("Save every Nth delivered frame as a JPEG into DIR.", valueName: "N DIR"))
    var saveEvery: [String] = []

    @Option(name: .customLong("max-frames"), help: "Stop after this many delivered frames.")
    var maxFrames: Int?

    @Option(name: .customLong("output-format"), help: "Pixel format to convert frames to: bgr24, rgb24 or gray8.")
    var outputFormat: OutputFormatOption = .bgr24

    @Flag(help: "Print JSON lines instead of text.")
    var json = false

    @Flag(help: "Print only the summary line, not one line per frame.")
    var quiet = false

    @Flag(name: .customLong("no-reconnect"), help: "Stop at the first failure of a live source instead of reconnecting.")
    var noReconnect = false

    @Flag(name: .customLong("decode-all"),
          help: "Decode every frame, even those --sample throws away (by default non-reference frames among them are not decoded).")
    var decodeAll = false

    func validate() throws {
        guard sample >= 1 else { throw ValidationError("--sample must be 1 or more") }
        if let maxFPS, !(maxFPS > 0 && maxFPS.isFinite) { throw ValidationError("--max-fps must be positive") }
        if let maxFrames, maxFrames < 1 { throw ValidationError("--max-frames must be 1 or more") }
        if !saveEvery.isEmpty {
            guard saveEvery.count == 2, let n = Int(saveEvery[0]), n >= 1, !saveEvery[1].isEmpty else {
                throw ValidationError("--save-every takes a count of 1 or more and a directory, e.g. --save-every 25 shots/")
            }
            guard outputFormat == .bgr24 else { throw ValidationError("--save-every needs --output-format bgr24") }
        }
    }

    func run() throws {
        let logger = logging.bootstrap()
        var options = input.decodeOptions()
        options.outputFormat = outputFormat.pixelFormat
        options.sampleEvery = sample
        options.maxFPS = maxFPS
        options.skipUnusedFrames = !decodeAll
        let save = try saveTarget()

        let frames = try makeFrameSource(location: source, options: options, reconnect: !noReconnect, logger: logger)
        let stopper = SignalStopper(frames)
        defer { stopper.cancel() }

        let start = ContinuousClock.now
        let startCPU = processCPUSeconds()
        var delivered = 0
        var failure: (any Error)?
        do {
            while let frame = try frames.nextFrame() {
                delivered += 1
                let elapsed = (ContinuousClock.now - start).secondsValue
                let fps = elapsed > 0 ? Double(delivered) / elapsed : 0
                if !quiet { print(line(for: frame, fps: fps)) }
                if let save, (delivered - 1) % save.every == 0 {
                    let url = save.directory.appendingPathComponent(String(format: "frame-%06d.jpg", frame.index))
                    try ImageCodec.encodeJPEG(frame.image).write(to: url)
                }
                if let maxFrames, delivered >= maxFrames { break }
            }
        } catch let error as DecodeError where error.code == .closed {
            // Ctrl-C: a clean stop.
        } catch {
            failure = error
        }
        let seconds = (ContinuousClock.now - start).secondsValue
        let cpuSeconds = processCPUSeconds() - startCPU
        frames.close()
        printSummary(frames.stats, seconds: seconds, cpuSeconds: cpuSeconds)
        if let failure { throw failure }
    }

    private func saveTarget() throws -> (every: Int, directory: URL)? {
        guard saveEvery.count == 2, let every = Int(saveEvery[0]) else { return nil }
        let directory = URL(fileURLWithPath: saveEvery[1], isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (every, directory)
    }

    private func line(for frame: Frame, fps: Double) -> String {
        let image = frame.image
        if json {
            return "{\"index\":\(frame.index),\"position_sec\":\(frame.mediaTime.seconds),"
                + "\"pts\":\(frame.mediaTime.value),\"timescale\":\(frame.mediaTime.timescale),"
                + "\"width\":\(image.width),\"height\":\(image.height),\"fps\":\(rounded(fps))}"
        }
        return String(format: "frame %6d  pts %12.6f s  %dx%d  %7.1f fps", frame.index, frame.mediaTime.seconds,
                      image.width, image.height, fps)
    }

    /// The counters, then the decode loop's wall-clock and CPU time (from after opening the source to the
    /// end: process start-up and opening are not counted).
    private func printSummary(_ stats: SourceStats, seconds: Double, cpuSeconds: Double) {
        let fps = seconds > 0 ? Double(stats.delivered) / seconds : 0
        let decodeFPS = seconds > 0 ? Double(stats.decoded) / seconds : 0
        if json {
            print("{\"summary\":{\"decoded\":\(stats.decoded),\"delivered\":\(stats.delivered),"
                + "\"dropped_by_sampling\":\(stats.droppedBySampling),\"not_decoded\":\(stats.notDecoded),"
                + "\"corrupt_packets\":\(stats.corruptPackets),"
                + "\"reconnects\":\(stats.reconnects),\"seconds\":\(rounded(seconds)),\"cpu_seconds\":\(rounded(cpuSeconds)),"
                + "\"fps\":\(rounded(fps)),\"decode_fps\":\(rounded(decodeFPS))}}")
        } else {
            print(String(format: "summary: decoded %d, delivered %d, dropped %d, corrupt %d, reconnects %d, not decoded %d, %.3f s, cpu %.3f s, %.1f fps (decode %.1f fps)",
                         stats.decoded, stats.delivered, stats.droppedBySampling, stats.corruptPackets,
                         stats.reconnects, stats.notDecoded, seconds, cpuSeconds, fps, decodeFPS))
        }
    }

    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

/// User + system CPU seconds this process has used so far (all threads).
private func processCPUSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    let who = RUSAGE_SELF.rawValue  // Glibc imports it as an enum case
    #else
    let who = RUSAGE_SELF
    #endif
    guard getrusage(who, &usage) == 0 else { return 0 }
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1_000_000 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Closes the source on SIGINT or SIGTERM, so the frame loop ends cleanly and prints its summary.
private final class SignalStopper: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []

    init(_ frames: any FrameSource) {
        // Why unchecked: every FrameSource's close() is safe from any thread (the protocol says so).
        nonisolated(unsafe) let target = frames
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { target.close() }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}

extension Duration {
    /// Seconds as a Double.
    fileprivate var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
