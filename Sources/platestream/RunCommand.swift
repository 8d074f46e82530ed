import ArgumentParser
import Foundation
import Logging
import PlateCore
import Metrics
import PlateDecode
import PlateHTTP
import PlateMQTT
import PlatePipeline
import PlateSinks
import PlateTracking
import PlateVision
import Prometheus
import ServiceLifecycle

/// `platestream run`: the stream processor. With `--config` it is the daemon (every active camera of
/// config.json, its sinks, until SIGTERM); with a source it processes one file or camera and prints the
/// Version-2 events as JSON Lines on standard output.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Recognize plates in a file or camera (events as JSON Lines on stdout), or run every camera of a configuration.",
        discussion: """
        platestream run --config config.json
            Runs every active camera with the sinks its settings name (jsonlines_file, csv_file, image_dir, \
        webhook_targets) and the event store (`database`: SQLite, or PostgreSQL shared by several nodes), until every source has ended or SIGTERM / \
        SIGINT, which drains the frames in flight and flushes every sink before exiting.

        platestream run --config config.json --shard K/N | --shard-from-hostname N | --node NAME
            Runs only this node's cameras (shard K of N: positions K, K+N ... of `cameras`; or the cameras \
        `nodes` maps NAME to). With a postgres:// database every node writes the same store and the console of \
        any node shows every node's events and camera health.

        platestream run FILE-OR-URL [--jsonl PATH] [--csv PATH] ...
            Processes one source with the default settings and prints each event as one line of \
        Version-2 JSON on standard output; progress goes to standard error. Exits when a file ends.
        """
    )

    @Argument(help: "A video file, rtsp://, http(s)://, /dev/videoN, or - for standard input (omit with --config).")
    var source: String?

    @Option(name: .customLong("config"), help: "Run the cameras of this configuration file.")
    var configPath: String?

    @OptionGroup var input: SourceOptions
    @OptionGroup var models: ModelOptions
    @OptionGroup var logging: LoggingOptions

    @Option(name: .customLong("camera-id"), help: "Camera id of the single source's events.")
    var cameraID: String = "camera-1"

    @Option(name: .customLong("regions"), parsing: .upToNextOption,
            help: "Region codes the plates should match, e.g. fr us-ca (single source).")
    var regions: [String] = []

    @Option(help: "Keep every Nth decoded frame (single source; default 2, as Stream).")
    var sample: Int?

    @Option(name: .customLong("detection-mode"), help: "plate, or vehicle to also report vehicles without a readable plate (single source).")
    var detectionMode: String?

    @Option(name: .customLong("max-fps"), help: "Recognize at most this many frames per second of video (single source).")
    var maxFPS: Double?

    @Option(name: .customLong("jsonl"), help: "Also append the events to this JSON Lines file (single source).")
    var jsonlPath: String?

    @Option(name: .customLong("csv"), help: "Also append the events to this CSV file (single source).")
    var csvPath: String?

    @Option(name: .customLong("image-dir"), help: "Save each event's best frame under this folder (single source).")
    var imageDir: String?

    @Option(help: "Time zone of timestamp_local, e.g. Europe/Paris (single source; default: the machine's).")
    var timezone: String?

    /// `--gating on|off`.
    enum Gating: String, ExpressibleByArgument, CaseIterable { case on, off }

    @Option(help: "The motion gate: skip recognition of frames where nothing changed and no vehicle is tracked (single source; default on).")
    var gating: Gating?

    @Option(name: .customLong("health-interval"), help: "Seconds between per-camera health lines in the log.")
    var healthInterval: Double = 60

    @Option(help: "Run only shard K of N (K from 0): the configuration's cameras at positions K, K+N, K+2N ... (with --config).")
    var shard: String?

    @Option(name: .customLong("shard-from-hostname"),
            help: "Run shard K of N, K being the number after the host name's last '-' (a StatefulSet pod's ordinal).")
    var shardFromHostname: Int?

    @Option(help: "Run the cameras the configuration's nodes section maps this node name to (with --config).")
    var node: String?

    @Flag(name: .customLong("no-progress"), help: "Do not report progress on stderr (single source).")
    var noProgress = false

    #if os(Linux)
    /// Started once, by the first `run`; lives as long as the process.
    nonisolated(unsafe) private static var trimmer: HeapTrimmer?
    #endif

    /// Whole decoded frames (a 1080p BGR picture is 6 MB, its YUV 4:2:0 planes 3 MB) are allocated and freed dozens
    /// of times a second by several threads. glibc's malloc raises its mmap threshold to the largest block freed, so
    /// after the first frame they come from the threads' heaps, whose freed space is seldom given back: RSS grew to
    /// the high-water mark of every arena (4 cameras of bench-stream: 609 MB). From 2 MB up (the planes too),
    /// blocks are mmapped and unmapped when freed, so RSS follows what is alive (476 MB with 4 MB when frames were
    /// BGR), for a few page faults per frame; and a `HeapTrimmer` gives back what the heaps hold free.
    static func returnFreedFramesToTheSystem() {
        #if os(Linux)
        // M_MMAP_THRESHOLD is -3 in glibc's <malloc.h>, which the Glibc module does not import.
        _ = glibcMallopt(-3, 2 << 20)
        if trimmer == nil { trimmer = HeapTrimmer(everySeconds: 5) }
        #endif
    }

    func validate() throws {
        guard (source == nil) != (configPath == nil) else {
            throw ValidationError("give either a source or --config FILE (not both)")
        }
        if let sample, sample < 1 { throw ValidationError("--sample must be 1 or more") }
        if configPath == nil, shard != nil || shardFromHostname != nil || node != nil {
            throw ValidationError("--shard, --shard-from-hostname and --node pick cameras of a configuration: give --config")
        }
        if let shard { _ = try CameraShard.parse(shard: shard) }
        if let maxFPS, !(maxFPS > 0 && maxFPS.isFinite) { throw ValidationError("--max-fps must be positive") }
        guard healthInterval > 0 else { throw ValidationError("--health-interval must be positive") }
        if let timezone, TimeZone(identifier: timezone) == nil {
            throw ValidationError("--timezone: unknown time zone \"\(timezone)\"")
        }
        for region in regions where !RegionTemplates.isKnown(region) {
            throw ValidationError("--regions: unknown region \"\(region)\"")
        }
        if configPath != nil, jsonlPath != nil || csvPath != nil || imageDir != nil || !regions.isEmpty || sample != nil
            || maxFPS != nil || timezone != nil || detectionMode != nil || gating != nil {
            throw ValidationError("with --config, outputs and camera settings come from the configuration file")
        }
    }

    func run() throws {
        AppConfig.knownRegion = RegionTemplates.isKnown
        Self.returnFreedFramesToTheSystem()
        // Loaded (and validated) once, before anything logs: its log_level counts from the first line.
        let config = try configPath.map { try AppConfig.load(path: $0) }
        let logger = logging.bootstrap(configured: config?.logLevel)
        let plan: RunPlan
        if let configPath, let config {
            plan = try RunPlan.fromConfig(config, path: configPath, command: self, logger: logger)
        } else {
            plan = try RunPlan.single(source: source ?? "", command: self, logger: logger)
        }
        let outcome = try plan.execute(logger: logger)
        if !outcome.failures.isEmpty {
            for failure in outcome.failures { printError("error: \(failure)\n") }
            throw ExitCode.failure
        }
    }
}

/// The tracker settings of a camera's resolved settings.
func trackerConfiguration(_ settings: CameraSettings, path: String) throws -> TrackerConfiguration {
    let mode = settings.detectionMode ?? "plate"
    guard let detectionMode = TrackerConfiguration.DetectionMode(rawValue: mode) else {
        throw ConfigError("\(path).detection_mode: unknown mode \"\(mode)\"")
    }
    return TrackerConfiguration(detectionMode: detectionMode, maxPredictionDelay: settings.maxPredictionDelay ?? 6,
                                memoryDecay: settings.memoryDecay ?? 300, mergeBuffer: settings.mergeBuffer ?? 0)
}

/// With `detection_mode: vehicle` and no vehicle model in the config (`recognizer.vehicle_detector`), each
/// camera gets its own motion detector for vehicles; a configured model replaces it.
func vehicleDetectorFactory(_ tracker: TrackerConfiguration, model: Bool) -> (@Sendable () throws -> any SequentialVehicleDetector)? {
    guard tracker.detectionMode == .vehicle, !model else { return nil }
    return { try MotionVehicleDetector() }
}

/// Hands a source opened on the main thread to the pipeline's decode thread, exactly once.
final class SourceHandOver: @unchecked Sendable {
    // Why unchecked: the source is used by one thread at a time: this one until `take`, the decode thread after.
    private var source: (any FrameSource)?
    private let lock = NSLock()

    /// Holds `source` until taken.
    init(_ source: any FrameSource) { self.source = source }

    /// The source; a second call throws.
    func take() throws -> any FrameSource {
        try lock.withLock {
            guard let source else { throw ConfigError("the source was already taken") }
            self.source = nil
            return source
        }
    }
}

#if os(Linux)
/// glibc's `int mallopt(int param, int value)` (<malloc.h> is not part of the Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
/// glibc's `int malloc_trim(size_t pad)`.
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32

/// Gives the free pages inside malloc's heaps back to the system every few seconds (`malloc_trim`).
///
/// Why: the frames' pixels are mmapped and go back when freed (`returnFreedFramesToTheSystem`), but what OpenCV's
/// networks, FFmpeg's decoders and the sinks allocate in smaller blocks lives in one malloc heap per thread, and a
/// heap gives back only its top: the free space between live blocks stays resident at the heap's high-water mark.
/// With 4 cameras that was ~20 MiB of RSS (bench-stream, 464 -> 444 MiB); one trim costs 4-9 ms of one core.
final class HeapTrimmer: @unchecked Sendable {
    // Why @unchecked: the timer is set up in init and only cancelled afterwards; Dispatch sources are thread-safe.
    private let timer: any DispatchSourceTimer

    /// Starts trimming every `seconds`, on a queue of its own.
    init(everySeconds seconds: Int) {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "platestream.trim"))
        timer.schedule(deadline: .now() + .seconds(seconds), repeating: .seconds(seconds), leeway: .milliseconds(100 * seconds))
        timer.setEventHandler { _ = glibcMallocTrim(0) }
        timer.resume()
    }

    deinit { timer.cancel() }
}
#endif
