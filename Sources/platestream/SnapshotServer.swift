import Foundation
import Logging
import PlateCore
import PlateHTTP
import PlateSinks
import PlateVision
import Prometheus
import ServiceLifecycle

/// The snapshot HTTP server as `serve` builds it, and `run` when its config has an `http` section: the four
/// APIs over one recognizer, the live console (`GET /`, `/api/...`) when given, usage counted in SQLite, `/metrics` from a Prometheus registry, and the
/// Plate Recognizer snapshot webhooks through a durable outbox.
struct SnapshotServer {
    /// The Hummingbird application, a `Service` for the ServiceGroup.
    let application: any Service
    /// The outbox of the snapshot webhooks (its worker must run as a service too); nil without targets.
    let outbox: WebhookOutbox?
    /// The configuration in force.
    let configuration: SnapshotServerConfiguration

    /// Builds the server. `database` is the SQLite file for usage counts; the webhook outbox lives
    /// beside it in `<database>-snapshot-outbox`.
    static func make(configuration http: SnapshotServerConfiguration, recognizer: any PlateRecognizer, database: String,
                     registry: PrometheusCollectorRegistry, console: ConsoleWiring? = nil,
                     logger: Logger) throws -> SnapshotServer {
        let usage = try SQLiteUsageCounter(path: database)
        var outbox: WebhookOutbox?
        if !http.webhooks.isEmpty {
            do {
                let headers = try http.webhookHeader.map { [try WebhookHeader(parsing: $0)] } ?? []
                outbox = try WebhookOutbox(
                    configuration: WebhookConfiguration(
                        targets: http.webhooks, headers: headers, format: .snapshot,
                        requestTimeout: .milliseconds(Int64(http.webhookRequestTimeout * 1000)),
                        databasePath: database + "-snapshot-outbox"),
                    logger: Logger(label: "platestream.webhook.snapshot"))
            } catch {
                throw ConfigError("http.webhooks: \(error)")
            }
        }
        let webhooks = outbox.map { SnapshotWebhookOutbox(outbox: $0, withImage: http.webhookImage) }
        let api: SnapshotAPI
        let additional: AdditionalRoutes?
        do {
            additional = try console?.routes(configuration: http)
        } catch {
            throw ConfigError("console: \(error)")
        }
        do {
            api = try SnapshotAPI(configuration: http, recognizer: recognizer,
                                  imageDecoder: VisionImageDecoder(maxPixels: http.limits.maxPixels),
                                  usageStore: SQLiteUsageStore(counter: usage), urlFetcher: FetcherAdapter(),
                                  regions: RegionCatalog(codes: Set(RegionTemplates.codes + ["us", "eu"])),
                                  metrics: { registry.emitToString() }, webhooks: webhooks, additional: additional,
                                  logger: logger)
        } catch {
            throw ConfigError(error.message)
        }
        let (listenHost, listenPort) = (http.host, http.port)
        // Why: each client connection holds a descriptor, and the usual soft limit (1024) would refuse
        // connections long before memory runs short; the hard limit is what the administrator allows.
        let files = raiseOpenFileLimit()
        logger.debug("open file limit", metadata: ["RLIMIT_NOFILE": "\(files)"])
        let application = api.makeApplication { port in
            logger.info("listening on http://\(listenHost):\(port ?? listenPort)")
        }
        return SnapshotServer(application: application, outbox: outbox, configuration: http)
    }
}

/// The snapshot webhooks (`image.done`) queued in PlateSinks' outbox: one message per result, sent to every
/// target with its own idempotency key; `hook.id` is 1 (the on-premise server has one webhook setting).
struct SnapshotWebhookOutbox: SnapshotWebhooks {
    let outbox: WebhookOutbox
    let withImage: Bool

    func imageDone(data: JSONValue, image: Data, filename: String, cameraID: String?) throws {
        var upload: Data?
        if withImage {
            // The upload goes out as JPEG (the part's declared type); other formats are re-encoded once.
            let isJPEG = image.count > 3 && image[image.startIndex] == 0xFF && image[image.startIndex + 1] == 0xD8
            upload = isJPEG ? image : try ImageCodec.encodeJPEG(ImageCodec.decode(image), quality: 92)
        }
        try outbox.enqueue(WebhookMessage(idempotencyKey: UUID().uuidString.lowercased(), hookID: .integer(1),
                                          hookEvent: "image.done", filename: filename, data: data, image: upload,
                                          cameraID: cameraID))
    }
}

/// Raises this process's RLIMIT_NOFILE soft limit to its hard limit (what `ulimit -Hn` shows); returns the
/// soft limit in force afterwards.
func raiseOpenFileLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return -1 }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return Int(limit.rlim_cur)
}
