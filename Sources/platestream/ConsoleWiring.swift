import Foundation
import PlateConsole
import PlateCore
import PlateHTTP
import PlatePipeline
import PlateSinks
import PlateVision

/// The live console as `run --config` (with `http`) and `serve` wire it: the SQLite event store behind its
/// search and pictures, the pipeline behind its camera health, and a broadcaster for its live events.
struct ConsoleWiring {
    /// Fans live events out to the pages connected.
    let broadcaster = ConsoleBroadcaster()
    /// The cameras' health, once the pipeline exists.
    let health = PipelineHealthBox()
    /// The event store searched.
    let store: SQLiteEventStore

    /// The console's routes for the snapshot server, authenticated like its Plate Recognizer API.
    func routes(configuration: SnapshotServerConfiguration) throws -> AdditionalRoutes {
        let console = try ConsoleAPI(search: SQLiteConsoleSearch(store: store), health: health, broadcaster: broadcaster,
                                     authorize: { configuration.authorizes(token: $0) })
        return AdditionalRoutes(openAPIPaths: ConsoleOpenAPI.paths) { console.register(on: $0) }
    }
}

/// The pipeline's health as the console's `ConsoleCameraHealth`; empty until `pipeline` is set (`serve` has none).
final class PipelineHealthBox: ConsoleCameraHealth, @unchecked Sendable {
    // Why unchecked: `pipeline` is set once, under the lock, before the pipeline runs; Pipeline is thread-safe.
    private var pipeline: Pipeline?
    private let lock = NSLock()

    /// Reports `pipeline`'s cameras from now on.
    func attach(_ pipeline: Pipeline) { lock.withLock { self.pipeline = pipeline } }

    func cameras() -> [ConsoleCamera] {
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
            return ConsoleCamera(id: camera.cameraID.rawValue, status: status, inputFPS: camera.inputFPS,
                                 recognizedFPS: camera.recognizedFPS, lagSeconds: camera.lagSeconds,
                                 dropped: camera.framesDropped, reconnects: camera.reconnects, events: camera.events,
                                 lastError: camera.lastError)
        }
    }
}

/// The SQLite event store as the console's `ConsoleEventSearch`: plates through the folded, one-edit index.
struct SQLiteConsoleSearch: ConsoleEventSearch {
    let store: SQLiteEventStore

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
    private let store: SQLiteEventStore
    private let broadcaster: ConsoleBroadcaster
    private let naming: ImageNaming

    /// Stores into `store` and publishes to `broadcaster`.
    init(store: SQLiteEventStore, broadcaster: ConsoleBroadcaster, naming: ImageNaming) {
        self.store = store
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
        images.filename = naming.filename(for: event, hasFrame: delivery.bestFrame != nil)
        try store.deliver(event, images: images)
        let id = EventIdentifier.make(for: event)
        try store.storeImages(eventID: id, jpegs)
        let plate = event.plate
        broadcaster.publish(ConsoleEvent(
            id: id, cameraID: event.cameraID.rawValue, timestamp: event.timestamp, plate: plate?.text, score: plate?.score,
            region: plate?.region?.code, direction: event.direction, vehicleType: event.vehicle?.type.plateRecognizerName,
            vehicleColor: event.vehicle?.color.first?.label,
            images: StoredImageKind.allCases.filter { jpegs[$0] != nil }.map(\.rawValue), emittedAt: handedOver))
    }

    func shutdown() { store.shutdown() }
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
