public import Foundation
public import Hummingbird
public import Logging
public import PlateCore

/// The snapshot HTTP server: Plate Recognizer, OpenALPR, NHN Cloud and Huawei Cloud APIs over
/// one recognizer, plus `/openapi.json`, `/healthz` and `/metrics`.
///
/// What `platestream serve` builds:
/// ```swift
/// let api = try SnapshotAPI(configuration: configuration, recognizer: recognizer,
///                           imageDecoder: visionDecoder, usageStore: sqliteUsage, urlFetcher: ahcFetcher,
///                           regions: RegionCatalog(codes: templateCodes), metrics: { registry.render() },
///                           logger: logger)
/// let app = api.makeApplication()          // a Service: put it in the ServiceGroup
/// ```
public struct SnapshotAPI: Sendable {
    /// The validated configuration.
    public let configuration: SnapshotServerConfiguration
    let engine: SnapshotEngine
    let metrics: (@Sendable () async -> String)?
    let logger: Logger
    let additional: AdditionalRoutes?

    /// Checks `configuration` (throws `ConfigurationError` with a message that says what to change,
    /// e.g. for a non-loopback address without keys) and assembles the API.
    ///
    /// - Parameters:
    ///   - recognizer: finds and reads plates; called from several threads at once.
    ///   - imageDecoder: header sniffing and decoding (PlateVision in production).
    ///   - usageStore: where calls are counted per account and month (SQLite in production).
    ///   - urlFetcher: fetches `recognize_url` / Huawei `url` images; nil answers those with the
    ///     APIs' 400 ("fetching images from URLs is disabled").
    ///   - hostResolver: resolves URL hosts before the address check; the system resolver by default.
    ///   - regions: the region codes `regions` and `country` may name.
    ///   - metrics: renders `/metrics` (Prometheus text); nil answers `/metrics` with 404.
    ///   - webhooks: receives every Plate Recognizer result for the snapshot webhooks; nil sends none.
    ///   - now: the clock for months and rate windows.
    ///   - additional: more routes on the same server (the live console), documented in `/openapi.json` too.
    public init(configuration: SnapshotServerConfiguration, recognizer: any PlateRecognizer, imageDecoder: any ImageDecoding,
                usageStore: any UsageStore, urlFetcher: (any ImageURLFetcher)? = nil,
                hostResolver: any HostResolver = SystemHostResolver(), regions: RegionCatalog = .anyWellFormed,
                metrics: (@Sendable () async -> String)? = nil, webhooks: (any SnapshotWebhooks)? = nil, now: @escaping @Sendable () -> Date = { Date() },
                additional: AdditionalRoutes? = nil,
                logger: Logger = Logger(label: "platestream.http")) throws(ConfigurationError) {
        try configuration.validate()
        self.additional = additional
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        engine = SnapshotEngine(configuration: configuration, recognizer: recognizer, decoder: imageDecoder, usage: usageStore,
                                fetcher: urlFetcher, resolver: hostResolver, regions: regions, webhooks: webhooks, now: now,
                                logger: logger)
    }

    /// Every route the server answers, as `METHOD /path` (what `/openapi.json` documents).
    public static let routes: [String] = [
        "POST /v1/plate-reader/", "GET /info/", "GET /v1/statistics/",
        "POST /v3/recognize", "POST /v3/recognize_bytes", "POST /v3/recognize_url", "GET /v3/config",
        "POST /v1.0/appkeys/{appKey}/vehicle-plate",
        "POST /v2/{project_id}/ocr/license-plate",
        "GET /openapi.json", "GET /healthz", "GET /metrics",
    ]

    /// The router with every route; for tests, or to mount next to other routes.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestLogMiddleware())
        // Request counts and durations per route, into whatever MetricsSystem the CLI bootstraps (Prometheus).
        router.add(middleware: MetricsMiddleware())
        PlateRecognizerAPI(engine: engine).register(on: router)
        OpenALPRAPI(engine: engine).register(on: router)
        NHNAPI(engine: engine).register(on: router)
        HuaweiAPI(engine: engine).register(on: router)
        additional?.register(router)
        let document = ByteBuffer(string: OpenAPIDocument.build(version: configuration.version,
                                                                additionalPaths: additional?.openAPIPaths ?? [])
            .serialized(indent: 2))
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: document))
        }
        router.get("/healthz") { _, _ in jsonResponse(.ok, .object([("status", .string("ok"))])) }
        let metrics = self.metrics
        router.get("/metrics") { _, _ in
            guard let metrics else { return jsonResponse(.notFound, .object([("error", .string("metrics are not enabled"))])) }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: await metrics())))
        }
        return router
    }

    /// The HTTP server, listening on `configuration.host:port` once run: a `Service` for the CLI's
    /// `ServiceGroup` (SIGTERM stops accepting, lets requests in flight finish, then returns).
    ///
    /// - Parameter onServerRunning: called with the bound port once the server listens (useful
    ///   with port 0).
    public func makeApplication(onServerRunning: @escaping @Sendable (_ port: Int?) async -> Void = { _ in })
        -> some ApplicationProtocol {
        let limits = RequestDeadlines.Limits(headerTimeout: configuration.headerTimeoutSeconds,
                                             bodyTimeout: configuration.bodyTimeoutSeconds,
                                             bodyMinBytesPerSecond: configuration.bodyMinBytesPerSecond)
        return Application(
            router: makeRouter(),
            // Not `.http1(configuration:)`: see `ClosingHTTP1Channel` (a server stopped during a burst of accepts).
            server: .closingHTTP1(configuration: .init(additionalChannelHandlers: [SlowClientGuard(limits: limits)],
                                                       idleTimeout: .milliseconds(Int64(configuration.idleTimeoutSeconds * 1000)))),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                    serverName: "PlateStream"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port) },
            logger: logger
        )
    }
}

/// Logs each request at debug level: method, path without the query (OpenALPR's `secret_key`
/// travels there), status and duration. Hummingbird's LogRequestsMiddleware would log the query.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        context.logger.debug("request", metadata: [
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
            "status": .stringConvertible(response.status.code),
            "ms": .stringConvertible(milliseconds(ContinuousClock.now - started)),
        ])
        return response
    }
}
