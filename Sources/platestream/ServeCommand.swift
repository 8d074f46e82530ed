import ArgumentParser
import Foundation
import Logging
import PlateCore
import PlateHTTP
import PlatePostgres
import PlateSinks
import PlateVision
import Prometheus
import Metrics
import ServiceLifecycle

/// `platestream serve`: the snapshot HTTP API (Plate Recognizer, OpenALPR Cloud, NHN, Huawei).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the snapshot HTTP APIs (Plate Recognizer, OpenALPR Cloud v3, NHN, Huawei) on this machine.",
        discussion: """
        With no configuration the server listens on 127.0.0.1:8080 and needs no key, like the on-premise SDK. \
        Listening on another address needs API keys in the config's `http` section, or an explicit "auth": "none".
        """
    )

    @Option(help: "Configuration file; its `http` section configures the server (optional).")
    var config: String?

    @Option(help: "Port to listen on (overrides the configuration).")
    var port: Int?

    @Option(help: "Address to listen on (overrides the configuration).")
    var host: String?

    @Option(help: "The event store the console searches, also SQLite file for API usage counts: a path, sqlite:PATH or postgres://... (default: the config's database, else platestream.db).")
    var database: String?

    @OptionGroup var models: ModelOptions

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be 0...65535") }
    }

    func run() async throws {
        var logger = Logger(label: "platestream.serve")
        logger.logLevel = .info
        AppConfig.knownRegion = RegionTemplates.isKnown
        let app = try config.map { try AppConfig.load(path: $0) }
        var http: SnapshotServerConfiguration
        do {
            http = try SnapshotServerConfiguration.decode(json: app?.httpJSON ?? Data("{}".utf8))
        } catch {
            throw ValidationError(error.message)
        }
        if let port { http.port = port }
        if let host { http.host = host }
        let baseDirectory = config.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "."
        var modelOptions = models
        if modelOptions.modelsDirectory == nil, let dir = app?.recognizer?.models {
            modelOptions.modelsDirectory = dir.hasPrefix("/") ? dir : (baseDirectory as NSString).appendingPathComponent(dir)
        }
        if modelOptions.workers == nil { modelOptions.workers = app?.recognizer?.workers }
        let recognizer = try modelOptions.makeRecognizer(section: app?.recognizer, baseDirectory: baseDirectory)
        // Prometheus text at /metrics: Hummingbird's request metrics and everything else that reports
        // through swift-metrics land in this registry.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        // The console searches the events `run` stored in the same database (SQLite or PostgreSQL); serve has
        // no live cameras. With PostgreSQL, the usage counts stay in a local SQLite file.
        let location: EventDatabaseLocation
        do {
            location = try EventDatabaseLocation(parsing: database ?? app?.database ?? "platestream.db")
        } catch {
            throw ValidationError(error.description)
        }
        let databasePath: String
        let store: any EventStore
        switch location {
        case .sqlite(let path):
            databasePath = path
            store = try SQLiteEventStore(configuration: .init(path: path))
        case .postgres(let server):
            databasePath = "platestream-serve.db"
            store = try PostgresEventStore(location: server)
        }
        let console = ConsoleWiring(store: store, node: ProcessInfo.processInfo.hostName)
        let server: SnapshotServer
        do {
            server = try SnapshotServer.make(configuration: http, recognizer: recognizer, database: databasePath,
                                             registry: registry, console: console, logger: logger)
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: server.application), .init(service: ConsoleFeedService(broadcaster: console.broadcaster)),
        ]
        if let outbox = server.outbox {
            services.insert(.init(service: WebhookService(outbox: outbox), successTerminationBehavior: .ignore), at: 0)
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        try await group.run()
    }
}

/// PlateVision's header check and decoder, as PlateHTTP's `ImageDecoding`.
struct VisionImageDecoder: ImageDecoding {
    let maxPixels: Int

    func header(of data: Data) -> ImageHeaderInfo? {
        guard let h = ImageHeader.parse(data), let format = ImageFileFormat(rawValue: h.format.rawValue) else { return nil }
        return ImageHeaderInfo(format: format, width: h.width, height: h.height)
    }

    func decode(_ data: Data) throws -> Image { try ImageCodec.decode(data, maxPixels: maxPixels) }
}

/// PlateSinks' SQLite counter as PlateHTTP's `UsageStore`.
struct SQLiteUsageStore: UsageStore {
    let counter: SQLiteUsageCounter

    func calls(account: String, month: UsageMonth) async throws -> Int {
        try counter.calls(account: account, month: month.description)
    }

    func reserve(account: String, month: UsageMonth, cost: Int, limit: Int?) async throws -> Int? {
        try counter.reserve(account: account, month: month.description, cost: cost, limit: limit)
    }

    func release(account: String, month: UsageMonth, cost: Int) async throws {
        try counter.release(account: account, month: month.description, cost: cost)
    }
}

/// PlateSinks' pinned-address HTTP fetcher as PlateHTTP's `ImageURLFetcher`.
struct FetcherAdapter: ImageURLFetcher {
    func fetch(_ request: ImageFetchRequest) async throws -> ImageFetchResponse {
        let r = try await HTTPImageFetcher().fetch(url: request.url, host: request.host, address: request.address.description,
                                                   maxBytes: request.maxBytes, timeout: request.timeout)
        return ImageFetchResponse(status: r.status, location: r.location, body: r.body)
    }
}
