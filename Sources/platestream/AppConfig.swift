import Foundation
import PlateCore
import PlatePipeline
import PlateVision

/// Per-camera settings (Plate Recognizer Stream's keys); every key is optional so that `defaults`
/// and each camera can set any subset, the camera's value winning.
struct CameraSettings: Decodable, Equatable {
    var regions: [String]?
    var regionConfig: String?
    var mmc: Bool?
    var sample: Int?
    var maxFPS: Double?
    var maxPredictionDelay: Double?
    var memoryDecay: Double?
    var mergeBuffer: Double?
    var detectionMode: String?
    var detectionRule: String?
    var thresholdD: Double?
    var thresholdO: Double?
    var mode: String?
    var timezone: String?
    var version: Int?
    var jsonlinesFile: String?
    var csvFile: String?
    var imageDir: String?
    var saveImages: [String]?
    var webhookTargets: [String]?
    var webhookHeader: String?
    var webhookImage: Bool?
    var webhookImageType: String?
    var webhookRequestTimeout: Double?
    var transport: String?
    /// The MQTT output (`mqtt`); a camera's object replaces the defaults' whole, like `webhook_targets`.
    var mqtt: MQTTSection?
    /// The motion gate (`MotionGate`): skip recognition of frames where nothing changed and no track is alive.
    var gating: Bool?

    enum CodingKeys: String, CodingKey {
        case regions, mmc, sample, mode, timezone, version, transport, gating, mqtt
        case regionConfig = "region_config", maxFPS = "max_fps", maxPredictionDelay = "max_prediction_delay"
        case memoryDecay = "memory_decay", mergeBuffer = "merge_buffer", detectionMode = "detection_mode"
        case detectionRule = "detection_rule", thresholdD = "threshold_d", thresholdO = "threshold_o"
        case jsonlinesFile = "jsonlines_file", csvFile = "csv_file", imageDir = "image_dir", saveImages = "save_images"
        case webhookTargets = "webhook_targets", webhookHeader = "webhook_header", webhookImage = "webhook_image"
        case webhookImageType = "webhook_image_type", webhookRequestTimeout = "webhook_request_timeout"
    }

    /// Each key of `self` that is set, else the key of `base`.
    func over(_ base: CameraSettings) -> CameraSettings {
        var m = self
        m.regions = regions ?? base.regions
        m.regionConfig = regionConfig ?? base.regionConfig
        m.mmc = mmc ?? base.mmc
        m.sample = sample ?? base.sample
        m.maxFPS = maxFPS ?? base.maxFPS
        m.maxPredictionDelay = maxPredictionDelay ?? base.maxPredictionDelay
        m.memoryDecay = memoryDecay ?? base.memoryDecay
        m.mergeBuffer = mergeBuffer ?? base.mergeBuffer
        m.detectionMode = detectionMode ?? base.detectionMode
        m.detectionRule = detectionRule ?? base.detectionRule
        m.thresholdD = thresholdD ?? base.thresholdD
        m.thresholdO = thresholdO ?? base.thresholdO
        m.mode = mode ?? base.mode
        m.timezone = timezone ?? base.timezone
        m.version = version ?? base.version
        m.jsonlinesFile = jsonlinesFile ?? base.jsonlinesFile
        m.csvFile = csvFile ?? base.csvFile
        m.imageDir = imageDir ?? base.imageDir
        m.saveImages = saveImages ?? base.saveImages
        m.webhookTargets = webhookTargets ?? base.webhookTargets
        m.webhookHeader = webhookHeader ?? base.webhookHeader
        m.webhookImage = webhookImage ?? base.webhookImage
        m.webhookImageType = webhookImageType ?? base.webhookImageType
        m.webhookRequestTimeout = webhookRequestTimeout ?? base.webhookRequestTimeout
        m.transport = transport ?? base.transport
        m.gating = gating ?? base.gating
        m.mqtt = mqtt ?? base.mqtt
        return m
    }

    /// PlateStream's built-in defaults (Plate Recognizer Stream's where it documents one).
    static let builtIn = CameraSettings(
        regions: [], regionConfig: "loose", mmc: false, sample: 2, maxFPS: nil, maxPredictionDelay: 6, memoryDecay: 300,
        mergeBuffer: 0, detectionMode: "plate", detectionRule: "normal", thresholdD: 0.2, thresholdO: 0.6, mode: "normal",
        timezone: nil, version: 2, jsonlinesFile: nil, csvFile: nil, imageDir: nil, saveImages: nil, webhookTargets: [],
        webhookHeader: nil, webhookImage: false, webhookImageType: "vehicle", webhookRequestTimeout: 30, transport: "tcp",
        mqtt: nil, gating: true)

    /// The recognition options these settings ask for.
    var recognitionOptions: RecognitionOptions {
        RecognitionOptions(regions: regions ?? [], regionStrict: regionConfig == "strict", topN: 10,
                           detectionThreshold: thresholdD ?? 0.2, readThreshold: thresholdO ?? 0.6,
                           mode: RecognitionOptions.Mode(rawValue: mode ?? "normal") ?? .normal,
                           detectionRuleStrict: detectionRule == "strict", mmc: mmc ?? false,
                           searchWhenEmpty: false)
    }

    /// The motion gate's settings, or nil when `gating` is off.
    var gate: MotionGate.Settings? { gating ?? true ? MotionGate.Settings() : nil }

    /// The time zone for `timestamp_local` (the machine's when unset).
    var timeZone: TimeZone { timezone.flatMap(TimeZone.init(identifier:)) ?? .current }
}

/// One camera of config.json.
struct CameraConfig: Decodable, Equatable {
    var id: String
    var name: String?
    var url: String
    var active: Bool?
    var settings: CameraSettings

    enum CodingKeys: String, CodingKey { case id, name, url, active }

    init(id: String, name: String? = nil, url: String, active: Bool? = true, settings: CameraSettings) {
        self.id = id
        self.name = name
        self.url = url
        self.active = active
        self.settings = settings
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        url = try c.decode(String.self, forKey: .url)
        active = try c.decodeIfPresent(Bool.self, forKey: .active)
        settings = try CameraSettings(from: decoder)
    }
}

/// config.json: cameras with global defaults and per-camera overrides, the recognizer's models, the
/// database, and the HTTP server. Loaded through `AppConfig.load`, which validates against
/// config.schema.json first so that every mistake is reported with its JSON path.
struct AppConfig: Decodable {
    struct Recognizer: Decodable {
        var models: String?
        var workers: Int?
        var detector: DetectorModelSection?
        var reader: ReaderModelSection?
        var vehicleDetector: VehicleModelSection?
        /// Without `regions` hints, whether the plate's proportions stand in for them (`PlateShapePrior`; default on).
        /// Off for cameras that see plates from far to the side, where a plate looks a family narrower.
        var shapePrior: Bool?
        enum CodingKeys: String, CodingKey {
            case models, workers, detector, reader, vehicleDetector = "vehicle_detector", shapePrior = "shape_prior"
        }
    }
    /// A user-supplied YOLO vehicle model: `path`, input size, `format` (default yolov8), `labels` (default COCO).
    struct VehicleModelSection: Decodable {
        var path: String
        var configuration: DetectorModelConfiguration
        enum CodingKeys: String, CodingKey { case path, format, inputWidth = "input_width", inputHeight = "input_height", labels }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            configuration = DetectorModelConfiguration(
                format: try c.decodeIfPresent(DetectorModelConfiguration.Format.self, forKey: .format) ?? .yolov8,
                inputWidth: try c.decode(Int.self, forKey: .inputWidth), inputHeight: try c.decode(Int.self, forKey: .inputHeight),
                channelOrder: "rgb", letterbox: "center",
                labels: try c.decodeIfPresent([String].self, forKey: .labels) ?? DetectorModelConfiguration.cocoLabels)
        }
    }
    /// A user-supplied detector: `path` plus the model configuration keys (`format`, `input_width`, ...).
    struct DetectorModelSection: Decodable {
        var path: String
        var configuration: DetectorModelConfiguration
        enum CodingKeys: String, CodingKey { case path }
        init(from decoder: any Decoder) throws {
            path = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .path)
            configuration = try DetectorModelConfiguration(from: decoder)
        }
    }
    /// A user-supplied reader: `path` plus either `config` (fast-plate-ocr YAML beside it) or the flat keys.
    struct ReaderModelSection: Decodable {
        var path: String
        var config: String?
        var configuration: ReaderModelConfiguration?
        enum CodingKeys: String, CodingKey { case path, config, format }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            config = try c.decodeIfPresent(String.self, forKey: .config)
            configuration = c.contains(.format) ? try ReaderModelConfiguration(from: decoder) : nil
        }
    }

    var defaults: CameraSettings?
    var cameras: [CameraConfig]?
    var recognizer: Recognizer?
    var database: String?
    /// Node name → the ids of the cameras that node runs (`run --node NAME`).
    var nodes: [String: [String]]?
    var logLevel: String?
    /// The `http` section as JSON text, for PlateHTTP's own strict decoder (nil when absent).
    var httpJSON: Data?

    enum CodingKeys: String, CodingKey {
        case defaults, cameras, recognizer, database, nodes
        case logLevel = "log_level"
    }

    /// The schema shipped with the executable (Sources/platestream/Resources/config.schema.json).
    static func schemaData() throws -> Data {
        guard let url = Bundle.module.url(forResource: "config.schema", withExtension: "json"),
              let data = try? Data(contentsOf: url) else {
            throw ConfigError("config.schema.json is missing from the installation")
        }
        return data
    }

    /// Parses and validates a configuration; throws one `ConfigError` listing every problem with its JSON path.
    static func parse(_ data: Data, source: String) throws -> AppConfig {
        let document: Any
        do {
            document = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ConfigError("\(source): not valid JSON (\(error.localizedDescription))")
        }
        let violations = try JSONSchemaValidator(schema: schemaData()).validate(document)
        guard violations.isEmpty else {
            throw ConfigError("\(source) is not a valid configuration:\n" + violations.map { "  \($0)" }.joined(separator: "\n"))
        }
        var config: AppConfig
        do {
            config = try JSONDecoder().decode(AppConfig.self, from: data)
            if let http = (document as? [String: Any])?["http"] {
                config.httpJSON = try JSONSerialization.data(withJSONObject: http)
            }
        } catch {
            throw ConfigError("\(source): \(error)")
        }
        var problems: [String] = []
        var seen = Set<String>()
        for (i, camera) in (config.cameras ?? []).enumerated() {
            if !seen.insert(camera.id).inserted { problems.append("$.cameras[\(i)].id: duplicate camera id \"\(camera.id)\"") }
            if let tz = camera.settings.timezone, TimeZone(identifier: tz) == nil {
                problems.append("$.cameras[\(i)].timezone: unknown time zone \"\(tz)\"")
            }
        }
        if let tz = config.defaults?.timezone, TimeZone(identifier: tz) == nil {
            problems.append("$.defaults.timezone: unknown time zone \"\(tz)\"")
        }
        let mqttSections = [("$.defaults.mqtt", config.defaults?.mqtt)]
            + (config.cameras ?? []).enumerated().map { ("$.cameras[\($0.offset)].mqtt", $0.element.settings.mqtt) }
        for case let (path, section?) in mqttSections {
            problems += section.problems().map { "\(path).\($0)" }
        }
        for region in (config.defaults?.regions ?? []) + (config.cameras ?? []).flatMap({ $0.settings.regions ?? [] })
            where !knownRegion(region) {
            problems.append("regions: unknown region \"\(region)\"")
        }
        guard problems.isEmpty else {
            throw ConfigError("\(source) is not a valid configuration:\n" + problems.map { "  \($0)" }.joined(separator: "\n"))
        }
        return config
    }

    /// Injected by the CLI so this file needs no PlateVision import for region codes.
    nonisolated(unsafe) static var knownRegion: (String) -> Bool = { _ in true }

    /// Reads, validates and parses a configuration file.
    static func load(path: String) throws -> AppConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("configuration file \(path) not found")
        }
        return try parse(data, source: path)
    }

    /// Each active camera with built-in defaults, then `defaults`, then its own settings applied.
    var resolvedCameras: [CameraConfig] { resolved(cameras ?? []) }

    /// The active cameras of `shard` (picked from the whole list, active or not), resolved.
    func resolvedCameras(of shard: CameraShard) throws -> [CameraConfig] {
        resolved(try shard.cameras(of: cameras ?? [], id: \.id))
    }

    private func resolved(_ cameras: [CameraConfig]) -> [CameraConfig] {
        cameras.filter { $0.active ?? true }.map { camera in
            var c = camera
            c.settings = camera.settings.over((defaults ?? CameraSettings()).over(CameraSettings.builtIn))
            return c
        }
    }
}
