import Foundation
import PlateConsole
import PlateCore
import PlateHTTP
import PlatePipeline
import PlateSinks
import PlateVision

/// The live console as `run --config` (with `http`) and `serve` wire it: the event store (SQLite or
/// PostgreSQL) behind its search and pictures, the pipeline and the other nodes' heartbeats behind its camera
/// health, and a broadcaster for its live events.
struct ConsoleWiring {
    /// Fans live events out to the pages connected.
    let broadcaster = ConsoleBroadcaster()
    /// The cameras' health: this node's pipeline, once it exists, and the other nodes' heartbeat rows.
    let health: PipelineHealthBox
    /// The event store searched.
    let store: any EventStore

    /// The console of node `node` over `store`.
    init(store: any EventStore, node: String) {
        self.store = store
        health = PipelineHealthBox(store: store, node: node)
    }

    /// The console's routes for the snapshot server, authenticated like its Plate Recognizer API.
    func routes(configuration: SnapshotServerConfiguration) throws -> AdditionalRoutes {
        let console = try ConsoleAPI(search: StoreConsoleSearch(store: store), health: health, broadcaster: broadcaster,
                                     authorize: { configuration.authorizes(token: $0) })
        return AdditionalRoutes(openAPIPaths: ConsoleOpenAPI.paths) { console.register(on: $0) }
    }
}

/// The cameras' health as the console's `ConsoleCameraHealth`: this node's pipeline (empty until attached;
/// `serve` has none), then every other node's heartbeat rows from the shared store, a row older than
/// `staleAfter` shown as `stale` (its node stopped writing: dead, cut off, or shut down).
final class PipelineHealthBox: ConsoleCameraHealth, @unchecked Sendable {
    // Why unchecked: `pipeline` is set once, under the lock, before the pipeline runs; Pipeline is thread-safe.
    private var pipeline: Pipeline?
    private let lock = NSLock()
    private let store: any EventStore
    /// This node's name in the heartbeat rows.
    let node: String
    /// A heartbeat row older than this is stale: three missed heartbeats.
    static let staleAfter: TimeInterval = 3 * HeartbeatService.interval

    /// Health of `node`'s pipeline, and of the other nodes writing `store`.
    init(store: any EventStore, node: String) {
        self.store = store
        self.node = node
    }

    /// Reports `pipeline`'s cameras from now on.
    func attach(_ pipeline: Pipeline) { lock.withLock { self.pipeline = pipeline } }

    /// This node's cameras as heartbeat rows at `now` (nothing before the pipeline is attached).
    func heartbeat(at now: Date = Date()) -> [CameraHeartbeat] {
        guard let health = lock.withLock({ pipeline })?.health() else { return [] }
        return health.cameras.map { camera in
            let status: String
            switch (camera.state, camera.end) {
            case (_, .failed?): status = "failed"
            case (.ended, _), (.draining, _): status = "ended"
            case (.starting, _): status = "starting"
            // Running with no frames for the last seconds after an error: the source is trying again (the
            // reconnecting source keeps going after errors; the error stays until the next one).
            case (.running, _): status = camera.inputFPS == 0 && camera.lastError != nil ? "reconnecting" : "connected"
            }
            return CameraHeartbeat(node: node, cameraID: camera.cameraID, status: status, inputFPS: camera.inputFPS,
                                   recognizedFPS: camera.recognizedFPS, lagSeconds: camera.lagSeconds,
                                   dropped: camera.framesDropped, reconnects: camera.reconnects, events: camera.events,
                                   lastError: camera.lastError, updatedAt: now)
        }
    }

    func cameras() -> [ConsoleCamera] {
        let now = Date()
        // Why tolerate a failing store here: the page must still show this node's cameras when the database is away.
        let others = ((try? store.cameraHealth()) ?? []).filter { $0.node != node }
        return heartbeat(at: now).map { ConsoleCamera(heartbeat: $0, stale: false) }
            + others.map { ConsoleCamera(heartbeat: $0, stale: now.timeIntervalSince($0.updatedAt) > Self.staleAfter) }
    }
}

/// The event store as the console's `ConsoleEventSearch`: plates through the folded, one-edit index.
struct StoreConsoleSearch: ConsoleEventSearch {
    let store: any EventStore

    func events(matching search: ConsoleSearch) async throws -> [ConsoleEvent] {
        let query = EventQuery(cameraID: search.cameraID.map { CameraID($0) }, plate: search.plate.map { .similar($0) },
                               from: search.from, to: search.to, limit: search.limit, offset: search.offset)
        let found = try store.events(matching: query)
        let kinds = try store.imageKinds(eventIDs: found.map(\.id))
        return found.map { e in
            ConsoleEvent(id: e.id, cameraID: e.cameraID.rawValue, timestamp: e.timestamp, plate: e.plate, score: e.plateScore,
                         region: e.region, direction: e.direction, vehicleType: e.vehicleType, vehicleColor: e.vehicleColor,
                         images: StoredImageKind.allCases.filter { kinds[e.id]?.contains($0) == true }.map(\.rawValue))
        }
    }

    func image(eventID: String, kind: String) async throws -> Data? {
        guard let kind = StoredImageKind(rawValue: kind) else { return nil }
        return try store.image(eventID: eventID, kind: kind)
    }
}

/// The event store's sink when the console is on: stores the event, then its plate and vehicle pictures,
/// then publishes it to the live pages. In this order, so that a page never asks for a picture or finds
/// a search result that is not stored yet.
final class ConsoleStoreSink: PipelineSink {
    private let store: any EventStore
    private let format: EventJSONFormat
    private let broadcaster: ConsoleBroadcaster
    private let naming: ImageNaming

    /// Stores into `store` (the JSON in `format`, Version 2) and publishes to `broadcaster`.
    init(store: any EventStore, format: EventJSONFormat, broadcaster: ConsoleBroadcaster, naming: ImageNaming) {
        self.store = store
        self.format = format
        self.broadcaster = broadcaster
        self.naming = naming
    }

    func deliver(_ delivery: EventDelivery) throws {
        let handedOver = Date()
        let event = delivery.event
        var images = EventImages()
        var jpegs: [StoredImageKind: Data] = [:]
        if let frame = delivery.bestFrame {
            images = EventImages(frame: frame, event: event)
            if let plate = images.plateCrop { jpegs[.plate] = try ImageCodec.encodeJPEG(plate, quality: 85) }
            // Without a vehicle box (plate mode with no vehicle found) the whole frame shows the vehicle.
            let vehicle = images.vehicleCrop ?? frame
            jpegs[.vehicle] = try ImageCodec.encodeJPEG(vehicle.shrunk(toWidth: 480), quality: 80)
            images.frame = nil
        }
        images.filename = naming.filename(for: event, hasFrame: delivery.bestPicture != nil)
        let stored = StoredEvent(event, format: format, filename: images.filename)
        try store.insert([stored])
        let id = stored.id
        try store.storeImages(eventID: id, jpegs)
        let plate = event.plate
        broadcaster.publish(ConsoleEvent(
            id: id, cameraID: event.cameraID.rawValue, timestamp: event.timestamp, plate: plate?.text, score: plate?.score,
            region: plate?.region?.code, direction: event.direction, vehicleType: event.vehicle?.type.plateRecognizerName,
            vehicleColor: event.vehicle?.color.first?.label,
            images: StoredImageKind.allCases.filter { jpegs[$0] != nil }.map(\.rawValue), emittedAt: handedOver))
    }

    func shutdown() {}
}

extension Image {
    /// The image at most `width` pixels wide, every nth pixel kept (n = the whole factor that fits); itself
    /// when narrow enough. Why so plain: a thumbnail for the console, not a picture to read plates from.
    func shrunk(toWidth target: Int) -> Image {
        let factor = (width + target - 1) / target
        guard factor > 1 else { return self }
        let out = Image(width: width / factor, height: max(1, height / factor), format: format)
        let bpp = format.bytesPerPixel
        for y in 0..<out.height {
            let source = buffer.bytes.advanced(by: y * factor * stride)
            let target = out.buffer.bytes.advanced(by: y * out.stride)
            for x in 0..<out.width {
                target.advanced(by: x * bpp).copyMemory(from: source.advanced(by: x * factor * bpp), byteCount: bpp)
            }
        }
        return out
    }
}
