import ArgumentParser
import Foundation
import Logging
import PlateCore
import Metrics
import PlateDecode
import PlateHTTP
import PlateMQTT
import PlatePipeline
import PlatePostgres
import PlateSinks
import PlateTracking
import PlateVision
import Prometheus
import ServiceLifecycle

/// Everything `run` wires together before starting: cameras, recognizer, sinks, webhook outboxes.
struct RunPlan {
    var cameras: [CameraConfiguration]
    var recognizer: any PlateRecognizer
    var sinks: [SinkRegistration]
    var outboxes: [WebhookOutbox]
    /// The MQTT outputs: an outbox and its cameras' broker connections each.
    var mqtt: [MQTTOutput] = []
    /// The snapshot HTTP API in the same process (config `http`), with `/metrics` of the pipeline too.
    var http: SnapshotServer? = nil
    /// The live console on the snapshot server (with `http`): its health box gets the pipeline at start.
    var console: ConsoleWiring? = nil
    /// This node's camera health, written to the event store as its heartbeat (with `--config`).
    var heartbeat: (health: PipelineHealthBox, store: any EventStore)? = nil
    var workers: Int
    var healthInterval: Double
    /// Single-source mode: the camera and what its (already open) file says, for the progress report.
    var progress: (camera: CameraID, info: StreamInfo)?
    var showProgress: Bool

    /// How a run ended: one message per camera that failed.
    struct Outcome {
        var failures: [String]
    }

    // MARK: Single source

    /// How long the event store and the outboxes wait before retrying an event they failed to write (a full
    /// disk, a locked file). Why these and not the JSON Lines/CSV files: a SQLite transaction either lands
    /// whole or not at all, so a retry never leaves half an event behind; a failed append to a text file may
    /// have written part of its line. Meanwhile events wait in the sink's queue (its capacity, the oldest
    /// dropped past it and counted in platestream_sink_dropped_total).
    static let storeRetry: Duration = .seconds(1)

    /// One source with the default settings (overridden by the flags); events to stdout.
    static func single(source: String, command: RunCommand, logger: Logger) throws -> RunPlan {
        var settings = CameraSettings.builtIn
        if !command.regions.isEmpty { settings.regions = command.regions }
        if let mode = command.detectionMode { settings.detectionMode = mode }
        if let sample = command.sample { settings.sample = sample }
        if let maxFPS = command.maxFPS { settings.maxFPS = maxFPS }
        if let timezone = command.timezone { settings.timezone = timezone }
        if let gating = command.gating { settings.gating = gating == .on }
        let cameraID = CameraID(command.cameraID)
        let recognizer = try command.models.makeRecognizer()
        var options = command.input.decodeOptions()
        options.outputFormat = .bgr24
        options.sampleEvery = settings.sample ?? 1
        options.maxFPS = settings.maxFPS
        options.firstPass = recognizer.firstPassSizing
        // The pipeline holds frames while they queue and as best frames: keep them as the decoder's planes.
        options.keepPlanes = true

        // Opened here, not on the pipeline's decode thread, so a missing file or a bad source fails at once
        // with the decoder's message (live sources reconnect and do not throw here).
        let opened = try makeFrameSource(location: source, cameraID: cameraID, options: options,
                                         logger: Logger(label: "platestream.decode"))
        let info = SourceURL.kind(of: source).isLive ? nil : opened.info
        let handOver = SourceHandOver(opened)
        let tracker = try trackerConfiguration(settings, path: "options")
        let sourceURL = SourceURL.withoutCredentials(source)
        let camera = CameraConfiguration(
            id: cameraID, options: settings.recognitionOptions, overflow: .automatic,
            makeSource: { try handOver.take() },
            makeTracker: { PlateTracker(cameraID: cameraID, sourceURL: sourceURL, configuration: tracker) },
            makeVehicleDetector: vehicleDetectorFactory(tracker, model: false), gate: settings.gate)

        let format = EventJSONFormat(version: .v2, timeZone: settings.timeZone)
        var naming = ImageNaming()
        var sinks = [SinkRegistration(name: "stdout", capacity: 1024,
                                      sink: StandardOutputEventSink(format: format, naming: naming))]
        if let imageDir = command.imageDir {
            let writer = EventImageWriter.Configuration(directory: imageDir, timeZone: settings.timeZone)
            naming.writers[cameraID] = writer
            sinks[0] = SinkRegistration(name: "stdout", capacity: 1024,
                                        sink: StandardOutputEventSink(format: format, naming: naming))
            sinks.append(SinkRegistration(name: "images", sink: RunImageSink(
                EventImageWriter(configuration: writer, encodeJPEG: { try ImageCodec.encodeJPEG($0, quality: 90) }),
                cameras: [cameraID])))
        }
        if let path = command.jsonlPath {
            let sink = JSONLinesEventSink(configuration: .init(path: try PathTemplate(path), format: format))
            sinks.append(SinkRegistration(name: "jsonl", sink: RunEventSink(sink, cameras: nil, naming: naming)))
        }
        if let path = command.csvPath {
            let sink = CSVEventSink(configuration: .init(path: try PathTemplate(path), format: format))
            sinks.append(SinkRegistration(name: "csv", sink: RunEventSink(sink, cameras: nil, naming: naming)))
        }
        return RunPlan(cameras: [camera], recognizer: recognizer, sinks: sinks, outboxes: [],
                       workers: command.models.workers ?? ProcessInfo.processInfo.activeProcessorCount,
                       healthInterval: command.healthInterval,
                       progress: info.map { (cameraID, $0) },
                       showProgress: !command.noProgress)
    }

    // MARK: Configuration file

    /// Every active camera of the configuration, with the sinks their settings name.
    static func fromConfig(_ config: AppConfig, path: String, command: RunCommand, logger: Logger) throws -> RunPlan {
        let baseDirectory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        func resolve(_ file: String) -> String {
            file.hasPrefix("/") ? file : (baseDirectory as NSString).appendingPathComponent(file)
        }
        let shard = try CameraShard.resolve(shard: command.shard, shardFromHostname: command.shardFromHostname,
                                            node: command.node, nodes: config.nodes)
        let resolved = try config.resolvedCameras(of: shard)
        guard !resolved.isEmpty else {
            throw ConfigError("\(path): no active camera" + (shard.selection == nil ? "" : " for node \(shard.node)"))
        }

        // Loaded first: the decoders scale each frame to what its first pass looks at.
        var modelOptions = command.models
        if modelOptions.modelsDirectory == nil, let dir = config.recognizer?.models { modelOptions.modelsDirectory = resolve(dir) }
        if modelOptions.workers == nil { modelOptions.workers = config.recognizer?.workers }
        let recognizer = try modelOptions.makeRecognizer(section: config.recognizer, baseDirectory: baseDirectory)

        var cameras: [CameraConfiguration] = []
        var naming = ImageNaming()
        var sinks: [SinkRegistration] = []
        for (index, camera) in resolved.enumerated() {
            let settings = camera.settings
            let id = CameraID(camera.id)
            var options = command.input.decodeOptions()
            options.outputFormat = .bgr24
            options.sampleEvery = settings.sample ?? 1
            options.maxFPS = settings.maxFPS
            options.firstPass = recognizer.firstPassSizing
            // Frames held in the queues and as best frames take half the memory as the decoder's planes (1080p
            // YUV 4:2:0: 3 MiB, BGR24: 6 MiB); workers convert them when they take them.
            options.keepPlanes = true
            // Several cameras share the cores anyway: a thread per decoder (not one per core each) decodes as
            // fast in all and holds fewer frames (4 cameras of bench-stream: RSS 700 -> 609 MB).
            if command.input.threads == 0, resolved.count > 1 { options.threads = 1 }
            if let transport = settings.transport {
                guard let value = DecodeOptions.Transport(rawValue: transport) else {
                    throw ConfigError("$.cameras[\(index)].transport: unknown transport \"\(transport)\"")
                }
                options.transport = value
            }
            // Relative file paths are relative to the configuration file, like every other path in it.
            let location = SourceURL.kind(of: camera.url) == .file ? resolve(camera.url) : camera.url
            let tracker = try trackerConfiguration(settings, path: "$.cameras[\(index)]")
            let sourceURL = SourceURL.withoutCredentials(camera.url)
            let decodeLogger = Logger(label: "platestream.decode")
            let decodeOptions = options
            cameras.append(CameraConfiguration(
                id: id, options: settings.recognitionOptions, overflow: .automatic,
                makeSource: { try makeFrameSource(location: location, cameraID: id, options: decodeOptions, logger: decodeLogger) },
                makeTracker: { PlateTracker(cameraID: id, sourceURL: sourceURL, configuration: tracker) },
                makeVehicleDetector: vehicleDetectorFactory(tracker, model: false), gate: settings.gate))
            if let dir = settings.imageDir {
                let saves = Set(settings.saveImages ?? ["frame"])
                naming.writers[id] = EventImageWriter.Configuration(
                    directory: resolve(dir), saveFrame: saves.contains("frame"), saveVehicleCrop: saves.contains("vehicle"),
                    savePlateCrop: saves.contains("plate"), timeZone: settings.timeZone)
            }
        }
        let encodeJPEG: JPEGEncoder = { try ImageCodec.encodeJPEG($0, quality: 90) }
        for camera in resolved {
            let id = CameraID(camera.id)
            if let writer = naming.writers[id] {
                sinks.append(SinkRegistration(name: "images:\(camera.id)", sink: RunImageSink(
                    EventImageWriter(configuration: writer, encodeJPEG: encodeJPEG), cameras: [id])))
            }
        }

        // File sinks: one per (path, version), serving the cameras that name it, each in its own time zone.
        struct FileKey: Hashable { var path: String; var version: Int }
        func fileGroups(_ key: (CameraSettings) -> String?) -> [(FileKey, [CameraConfig])] {
            var order: [FileKey] = []
            var groups: [FileKey: [CameraConfig]] = [:]
            for camera in resolved {
                guard let path = key(camera.settings) else { continue }
                let k = FileKey(path: path, version: camera.settings.version ?? 2)
                if groups[k] == nil { order.append(k) }
                groups[k, default: []].append(camera)
            }
            return order.map { ($0, groups[$0]!) }
        }
        func format(_ version: Int, _ cameras: [CameraConfig]) throws -> EventJSONFormat {
            guard let version = StreamJSONVersion(rawValue: version) else {
                throw ConfigError("\(path): unknown JSON version \(version)")
            }
            return EventJSONFormat(version: version, timeZone: .current, cameraTimeZones: Dictionary(
                cameras.map { (CameraID($0.id), $0.settings.timeZone) }, uniquingKeysWith: { a, _ in a }))
        }
        func idSet(_ cameras: [CameraConfig]) -> Set<CameraID>? {
            cameras.count == resolved.count ? nil : Set(cameras.map { CameraID($0.id) })
        }
        for (number, (key, group)) in fileGroups({ $0.jsonlinesFile }).enumerated() {
            let sink = JSONLinesEventSink(configuration: .init(
                path: try template(key.path, "jsonlines_file"), baseDirectory: baseDirectory, format: try format(key.version, group)))
            sinks.append(SinkRegistration(name: number == 0 ? "jsonl" : "jsonl-\(number + 1)",
                                          sink: RunEventSink(sink, cameras: idSet(group), naming: naming)))
        }
        for (number, (key, group)) in fileGroups({ $0.csvFile }).enumerated() {
            let sink = CSVEventSink(configuration: .init(
                path: try template(key.path, "csv_file"), baseDirectory: baseDirectory, format: try format(key.version, group)))
            sinks.append(SinkRegistration(name: number == 0 ? "csv" : "csv-\(number + 1)",
                                          sink: RunEventSink(sink, cameras: idSet(group), naming: naming)))
        }

        // The event store: every camera, Version 2. SQLite also holds the outboxes beside it; with PostgreSQL
        // they stay local, in a file per node (`platestream-NODE.db` beside the configuration), because an
        // outbox is this node's work and several nodes may share one configuration directory.
        let location: EventDatabaseLocation
        do {
            location = try EventDatabaseLocation(parsing: config.database ?? "platestream.db")
        } catch {
            throw ConfigError("\(path): \(error)")
        }
        let database: String
        let store: any EventStore
        let storeFormat = try format(2, resolved)
        do {
            switch location {
            case .sqlite(let file):
                database = resolve(file)
                store = try SQLiteEventStore(configuration: .init(path: database, format: storeFormat))
            case .postgres(let server):
                database = resolve("platestream-\(shard.node.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }).db")
                store = try PostgresEventStore(location: server, logger: Logger(label: "platestream.postgres"))
            }
        } catch {
            throw ConfigError("database \(location.redacted): \(error)")
        }
        // With `http`, the console's sink stores the event with its pictures and publishes it to the live pages.
        let console = config.httpJSON == nil ? nil : ConsoleWiring(store: store, node: shard.node)
        let heartbeat = console?.health ?? PipelineHealthBox(store: store, node: shard.node)
        sinks.append(SinkRegistration(name: "database", sink: console.map {
            ConsoleStoreSink(store: store, format: storeFormat, broadcaster: $0.broadcaster, naming: naming)
        } ?? RunEventSink(EventStoreSink(store: store, format: storeFormat), cameras: nil, naming: naming), retryAfterFailure: Self.storeRetry))

        // Webhooks: one outbox per distinct webhook setting, each in its own file next to the database.
        struct HookKey: Hashable {
            var targets: [String], header: String?, image: Bool, imageType: String, timeout: Double, version: Int
        }
        var hookOrder: [HookKey] = []
        var hookGroups: [HookKey: [CameraConfig]] = [:]
        for camera in resolved {
            let s = camera.settings
            guard let targets = s.webhookTargets, !targets.isEmpty else { continue }
            let key = HookKey(targets: targets, header: s.webhookHeader, image: s.webhookImage ?? false,
                              imageType: s.webhookImageType ?? "vehicle", timeout: s.webhookRequestTimeout ?? 30,
                              version: s.version ?? 2)
            if hookGroups[key] == nil { hookOrder.append(key) }
            hookGroups[key, default: []].append(camera)
        }
        var outboxes: [WebhookOutbox] = []
        for (number, key) in hookOrder.enumerated() {
            let group = hookGroups[key]!
            var image: WebhookImageType?
            if key.image {
                guard let type = WebhookImageType(rawValue: key.imageType) else {
                    throw ConfigError("\(path): webhook_image_type: unknown image type \"\(key.imageType)\"")
                }
                image = type
            }
            let outbox: WebhookOutbox
            do {
                let headers = try key.header.map { [try WebhookHeader(parsing: $0)] } ?? []
                outbox = try WebhookOutbox(
                    configuration: WebhookConfiguration(
                        targets: key.targets, headers: headers, image: image,
                        requestTimeout: .milliseconds(Int64(key.timeout * 1000)),
                        jsonFormat: try format(key.version, group),
                        databasePath: database + "-outbox" + (number == 0 ? "" : "-\(number + 1)")),
                    encodeJPEG: encodeJPEG)
            } catch let error as ConfigError {
                throw error
            } catch {
                throw ConfigError("\(path): webhook of camera(s) \(group.map(\.id).joined(separator: ", ")): \(error)")
            }
            outboxes.append(outbox)
            sinks.append(SinkRegistration(name: number == 0 ? "webhook" : "webhook-\(number + 1)",
                                          sink: RunEventSink(outbox, cameras: idSet(group), naming: naming,
                                                             wantsCrops: image == .vehicle),
                                          retryAfterFailure: Self.storeRetry))
        }

        let mqtt = try MQTTOutput.plan(resolved, database: database, configPath: path, resolve: resolve,
                                       format: { try format($0, $1) })
        for (number, output) in mqtt.enumerated() {
            sinks.append(SinkRegistration(name: number == 0 ? "mqtt" : "mqtt-\(number + 1)",
                                          sink: RunEventSink(output.outbox, cameras: idSet(output.cameras), naming: naming),
                                          retryAfterFailure: Self.storeRetry))
        }

        var http: SnapshotServer?
        if let json = config.httpJSON {
            // One daemon for both: the snapshot APIs share the recognizer, and /metrics shows the cameras'
            // health, because the pipeline reports through the swift-metrics backend bootstrapped here.
            let settings: SnapshotServerConfiguration
            do {
                settings = try SnapshotServerConfiguration.decode(json: json)
            } catch {
                throw ConfigError("\(path): \(error.message)")
            }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            http = try SnapshotServer.make(configuration: settings, recognizer: recognizer, database: database,
                                           registry: registry, console: console, logger: Logger(label: "platestream.http"))
        }
        logger.info("configuration loaded", metadata: [
            "config": "\(path)", "node": "\(shard.node)", "cameras": "\(resolved.map(\.id))",
            "database": "\(location.redacted)",
            "sinks": "\(sinks.map(\.name))",
        ])
        return RunPlan(cameras: cameras, recognizer: recognizer, sinks: sinks, outboxes: outboxes, mqtt: mqtt, http: http,
                       console: console, heartbeat: (heartbeat, store),
                       workers: modelOptions.workers ?? ProcessInfo.processInfo.activeProcessorCount,
                       healthInterval: command.healthInterval, progress: nil, showProgress: false)
    }

    // MARK: Running

    /// Runs the pipeline (and the webhook workers, and the progress report) under a ServiceGroup until the
    /// sources end or SIGTERM/SIGINT, then prints the summary.
    func execute(logger: Logger) throws -> Outcome {
        let pipeline = try Pipeline(
            configuration: PipelineConfiguration(
                workerCount: workers, queueCapacityPerCamera: 2, trackQueueCapacityPerCamera: 6, degradeWhenBehind: true,
                healthLogInterval: .milliseconds(Int64(healthInterval * 1000)),
                logger: Logger(label: "platestream.pipeline")),
            cameras: cameras, recognizer: recognizer, sinks: sinks)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = outboxes.map {
            .init(service: WebhookService(outbox: $0), successTerminationBehavior: .ignore)
        }
        services += mqtt.map { .init(service: MQTTService(output: $0), successTerminationBehavior: .ignore) }
        if let http {
            if let outbox = http.outbox {
                services.append(.init(service: WebhookService(outbox: outbox), successTerminationBehavior: .ignore))
            }
            services.append(.init(service: http.application, successTerminationBehavior: .ignore))
        }
        if let heartbeat {
            heartbeat.health.attach(pipeline)
            services.append(.init(service: HeartbeatService(health: heartbeat.health, store: heartbeat.store,
                                                            logger: Logger(label: "platestream.heartbeat")),
                                  successTerminationBehavior: .ignore))
        }
        if let console {
            // After the server: shut down before it (reverse order), ending the open event streams it would wait for.
            services.append(.init(service: ConsoleFeedService(broadcaster: console.broadcaster), successTerminationBehavior: .ignore))
        }
        var progressService: ProgressService?
        if let progress, showProgress {
            let service = ProgressService(pipeline: pipeline, cameraID: progress.camera, info: progress.info,
                                          isTerminal: isatty(STDERR_FILENO) == 1)
            progressService = service
            services.append(.init(service: service, successTerminationBehavior: .ignore))
        }
        // Last, so that at shutdown (reverse order) the pipeline drains before the outboxes are cancelled.
        services.append(.init(service: PipelineService(pipeline: pipeline),
                              successTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let start = ContinuousClock.now
        try runBlocking { try await group.run() }
        progressService?.report(since: start, final: true)
        return Self.summarize(pipeline.health(), seconds: (ContinuousClock.now - start).runSeconds)
    }

    /// Prints the final summary to stderr and collects the cameras that failed.
    static func summarize(_ health: PipelineHealth, seconds: Double) -> Outcome {
        var lines = [String(format: "summary: %.1f s, %d worker(s)", seconds, health.workerCount)]
        var failures: [String] = []
        for camera in health.cameras {
            let end: String
            switch camera.end {
            case .endOfStream: end = "end of stream"
            case .stopped: end = "stopped"
            case .failed(let message):
                end = "failed: \(message)"
                failures.append("camera \(camera.cameraID): \(message)")
            case nil: end = camera.state.rawValue
            }
            lines.append("  camera \(camera.cameraID): decoded \(camera.sourceStats.decoded), skipped by the gate \(camera.framesSkipped), "
                         + "recognized \(camera.framesRecognized) (\(camera.framesDegraded) in fast mode to catch up), "
                         + "dropped \(camera.framesDropped), recognition errors \(camera.recognitionErrors), "
                         + "events \(camera.events), reconnects \(camera.reconnects) (\(end))")
        }
        for sink in health.sinks {
            lines.append("  sink \(sink.name): delivered \(sink.delivered), failures \(sink.failures), dropped \(sink.dropped)"
                         + (sink.isShutDown ? "" : " (not shut down)"))
        }
        printError(lines.joined(separator: "\n") + "\n")
        return Outcome(failures: failures)
    }

    private static func template(_ path: String, _ key: String) throws -> PathTemplate {
        do { return try PathTemplate(path) } catch { throw ConfigError("\(key) \"\(path)\": \(error)") }
    }
}
