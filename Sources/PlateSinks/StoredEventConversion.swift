public import Foundation
public import PlateCore

extension StoredEvent {
    /// The row an event store keeps for `event`: its queryable fields, its `EventIdentifier`, and its JSON in
    /// `format` (the store's Version 2) naming `filename`, the saved frame.
    public init(_ event: TrackEvent, format: EventJSONFormat, filename: String?) {
        let plate = event.plate
        self.init(
            id: EventIdentifier.make(for: event), cameraID: event.cameraID, trackID: event.trackID, timestamp: event.timestamp,
            plate: plate?.text, plateScore: plate?.score, detectionScore: plate?.bestRead.detectionScore,
            region: plate?.region?.code, regionScore: plate?.region?.score, vehicleType: event.vehicle?.type.plateRecognizerName,
            vehicleScore: event.vehicle?.score, vehicleColor: event.vehicle?.color.first?.label, direction: event.direction,
            positionSeconds: event.positionSeconds, sourceURL: event.sourceURL, filename: filename,
            reason: event.reason.rawValue, json: format.jsonValue(for: event, filename: filename)?.serialized() ?? "{}")
    }
}

/// Any `EventStore` as an event sink (the SQLite store is one itself; PostgreSQL's is wrapped in this):
/// each event is committed, in Version-2 JSON, before `deliver` returns.
public final class EventStoreSink: ImageAwareEventSink, Sendable {
    /// The store written.
    public let store: any EventStore
    private let format: EventJSONFormat

    /// Writes into `store`, the JSON in `format` (its version is forced to 2, as the store keeps).
    public init(store: any EventStore, format: EventJSONFormat = EventJSONFormat()) {
        var format = format
        format.version = .v2
        self.store = store
        self.format = format
    }

    /// Stores the event once (a second delivery of it stores nothing).
    public func deliver(_ event: TrackEvent, images: EventImages) throws {
        try store.insert([StoredEvent(event, format: format, filename: images.filename)])
    }

    /// Nothing to flush: every event is committed when `deliver` returns.
    public func shutdown() {}
}
