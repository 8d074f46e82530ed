import Foundation
import PlateCore
import Testing

/// What every `EventStore` must do, checked the same way on SQLite and on PostgreSQL.
enum EventStoreConformance {
    static let start = Date(timeIntervalSince1970: 1_790_000_000)

    /// A generated event: `index` seconds after `start`, on `camera`, with `plate`.
    static func event(_ index: Int, camera: String = "cam-1", plate: String?) -> StoredEvent {
        StoredEvent(id: "event-\(index)-\(camera)", cameraID: CameraID(camera), trackID: TrackID(index),
                    timestamp: start.addingTimeInterval(Double(index) + 0.000_123), plate: plate, plateScore: 0.9,
                    detectionScore: 0.8, region: "us-ca", regionScore: 0.5, vehicleType: "Sedan", vehicleScore: 0.7,
                    vehicleColor: "white", direction: 90, positionSeconds: Double(index) / 2, sourceURL: "file.mp4",
                    filename: index % 2 == 0 ? "x.jpg" : nil, reason: "trackEnded", json: "{\"i\":\(index)}")
    }

    /// Runs every check on `store`, which must be empty.
    static func check(_ store: any EventStore) throws {
        #expect(try store.schemaVersion() == 3)
        let plates = ["ABC1234", "ABC1235", "XYZ9876", "AB0123", nil, "OIB8SZ"]
        let events = plates.enumerated().map { event($0.offset, plate: $0.element) }
            + [event(10, camera: "cam-2", plate: "ABC1234")]

        // Stored once: a second delivery (a retry, a replay after a restart) is skipped.
        #expect(try store.insert(events) == events.count)
        #expect(try store.insert([events[0], events[3]]) == 0)
        #expect(try store.count(matching: EventQuery()) == events.count)

        // Every field round-trips; time to the microsecond.
        let stored = try #require(try store.event(id: events[0].id))
        #expect(abs(stored.timestamp.timeIntervalSince(events[0].timestamp)) < 0.000_001)
        var same = stored
        same.timestamp = events[0].timestamp
        #expect(same == events[0])
        #expect(try store.event(id: "nope") == nil)

        // Newest first; camera, time range, limit and offset.
        let all = try store.events(matching: EventQuery())
        #expect(all.map(\.id) == events.sorted { $0.timestamp > $1.timestamp }.map(\.id))
        #expect(try store.events(matching: EventQuery(cameraID: "cam-2")).map(\.id) == [events[6].id])
        let ranged = try store.events(matching: EventQuery(from: start.addingTimeInterval(1), to: start.addingTimeInterval(3)))
        #expect(ranged.map(\.id) == [events[2].id, events[1].id])
        #expect(try store.events(matching: EventQuery(limit: 2, offset: 1)).map(\.id) == Array(all.dropFirst().prefix(2)).map(\.id))
        #expect(try store.count(matching: EventQuery(cameraID: "cam-1")) == 6)

        // Plate matches.
        func ids(_ match: PlateMatch) throws -> Set<String> { Set(try store.events(matching: EventQuery(plate: match)).map(\.id)) }
        #expect(try ids(.exact("abc-1234")) == [events[0].id, events[6].id])
        #expect(try ids(.prefix("ABC123")) == [events[0].id, events[1].id, events[6].id])
        #expect(try ids(.contains("Z98")) == [events[2].id])
        #expect(try ids(.fuzzy("ABC1230", maxDistance: 1)) == [events[0].id, events[1].id, events[6].id])
        #expect(try ids(.fuzzy("XYZ98", maxDistance: 2)) == [events[2].id])
        // The console's search: folded (O/0, I/1, B/8, S/5, Z/2) and one edit off.
        #expect(try ids(.similar("0I8B5Z")) == [events[5].id])       // OIB8SZ with O/0, B/8, S/5 confused
        #expect(try ids(.similar("ABCI234")) == [events[0].id, events[6].id, events[1].id])
        #expect(try ids(.similar("ABO12")) == [events[3].id])        // one deleted
        #expect(try ids(.similar("KKKKK999")).isEmpty)
        #expect(try store.count(matching: EventQuery(cameraID: "cam-1", plate: .similar("ABC1234"))) == 2)

        // Pictures: stored, replaced, listed, deleted with their events.
        try store.storeImages(eventID: events[0].id, [.plate: Data([1, 2]), .vehicle: Data([3])])
        try store.storeImages(eventID: events[0].id, [.plate: Data([9, 9, 9])])
        try store.storeImages(eventID: events[2].id, [.vehicle: Data([4])])
        #expect(try store.image(eventID: events[0].id, kind: .plate) == Data([9, 9, 9]))
        #expect(try store.image(eventID: events[1].id, kind: .plate) == nil)
        #expect(try store.imageKinds(eventIDs: [events[0].id, events[1].id, events[2].id])
                == [events[0].id: [.plate, .vehicle], events[2].id: [.vehicle]])
        #expect(try store.imageKinds(eventIDs: []) == [:])
        #expect(try store.deleteEvents(before: start.addingTimeInterval(1)) == 1)
        #expect(try store.image(eventID: events[0].id, kind: .plate) == nil)
        #expect(try store.count(matching: EventQuery()) == events.count - 1)

        // Health rows: one per node and camera, replaced at each heartbeat.
        let now = Date(timeIntervalSince1970: 1_790_000_100.5)
        let beat = { (node: String, camera: String, fps: Double, error: String?) in
            CameraHeartbeat(node: node, cameraID: CameraID(camera), status: "connected", inputFPS: fps, recognizedFPS: fps / 2,
                            lagSeconds: error == nil ? 0.25 : nil, dropped: 3, reconnects: 1, events: 7, lastError: error,
                            updatedAt: now)
        }
        try store.recordHealth([beat("node-b", "cam-3", 5, nil), beat("node-a", "cam-1", 10, "timeout")])
        try store.recordHealth([beat("node-a", "cam-1", 12, nil)])
        let health = try store.cameraHealth()
        #expect(health == [beat("node-a", "cam-1", 12, nil), beat("node-b", "cam-3", 5, nil)])
    }
}
